"""Find a version's files (bundled, or from the Hub), check them against the manifest, read them."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib.resources import files
from pathlib import Path

import polars as pl

REPO_ID = "turmoil/turmoil"  # where published versions live on the Hugging Face Hub
TABLES = ("articles", "paragraphs", "translation_links")


class IntegrityError(RuntimeError):
    """A dataset file is missing or is not the one the manifest lists."""


def _bundled() -> Path:
    return Path(str(files("turmoil") / "data"))


@cache
def data_dir(revision: str | None = None, repo_id: str = REPO_ID) -> Path:
    """The folder holding a version: the bundled one, or ``revision`` ('1.0.1' or 'v1.0.1') from the Hub."""
    if revision is None:
        return _bundled()
    try:
        from huggingface_hub import snapshot_download
    except ImportError as err:
        raise ImportError('loading another version needs huggingface_hub: pip install "turmoil[hub]"') from err
    tag = revision if revision.startswith("v") or len(revision) == 40 else f"v{revision}"
    return Path(snapshot_download(repo_id=repo_id, repo_type="dataset", revision=tag))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _verified(folder: Path) -> dict:
    """The manifest of ``folder`` once every file it lists has the sha256 it lists."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise IntegrityError(f"{folder}: no manifest.json; this is not a turmoil dataset folder")
    listed = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for rel, expected in sorted(listed["files"].items()):
        if not (folder / rel).is_file():
            problems.append(f"{rel}: missing")
        elif (found := _sha256(folder / rel)) != expected:
            problems.append(f"{rel}: sha256 {found}, the manifest says {expected}")
    if problems:
        raise IntegrityError(f"{folder}: the files do not match manifest.json (reinstall turmoil or clear the "
                             "download cache):\n  " + "\n  ".join(problems))
    return listed


def manifest(revision: str | None = None, repo_id: str = REPO_ID) -> dict:
    """The checked manifest of a version: versions, row counts, every file's sha256."""
    return _verified(data_dir(revision, repo_id))


def _shards(table: str, revision: str | None, repo_id: str) -> list[str]:
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; the tables are {', '.join(TABLES)}")
    folder = data_dir(revision, repo_id)
    listed = manifest(revision, repo_id)["files"]
    return [str(folder / rel) for rel in sorted(listed) if rel.startswith(f"{table}/") and rel.endswith(".parquet")]


def scan(table: str, revision: str | None = None, repo_id: str = REPO_ID) -> pl.LazyFrame:
    """A polars LazyFrame over one table."""
    return pl.scan_parquet(_shards(table, revision, repo_id))


def load(table: str, revision: str | None = None, repo_id: str = REPO_ID) -> pl.DataFrame:
    """One table as a polars DataFrame."""
    return pl.read_parquet(_shards(table, revision, repo_id))


def to_hf(revision: str | None = None, repo_id: str = REPO_ID):
    """All three tables as a ``datasets.DatasetDict`` keyed by table (needs ``pip install "turmoil[hf]"``)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
        from datasets import Dataset, DatasetDict
    except ImportError as err:
        raise ImportError('to_hf needs the datasets library: pip install "turmoil[hf]"') from err
    # from Arrow tables rather than Dataset.from_parquet, which cannot read a table with no rows
    return DatasetDict({
        t: Dataset(pa.concat_tables([pq.read_table(s) for s in _shards(t, revision, repo_id)]))
        for t in TABLES
    })
