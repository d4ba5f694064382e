"""Re-check a dataset folder: manifest checksums, row counts, versions, every record against the schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .contract import TABLES, arrow_schema, violations
from .errors import DatasetProblem
from .files import sha256_file
from .write import METADATA_PREFIX


def _rows(table) -> list[dict]:
    records = table.to_pylist()
    for field in table.schema:
        if str(field.type) == "date32[day]":
            for r in records:
                r[field.name] = r[field.name].isoformat() if r[field.name] else None
    return records


def check_dataset(folder: Path) -> dict:
    """Return the manifest when everything checks out; raise DatasetProblem listing every problem otherwise."""
    folder = Path(folder)
    problems: list[str] = []
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise DatasetProblem(str(folder), ["no manifest.json: not a dataset folder (build it with "
                                           "`python -m builder build`)"])
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DatasetProblem(str(folder), [f"manifest.json: not JSON ({err}): a half-written or damaged folder; "
                                           "rebuild it"]) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise DatasetProblem(str(folder), ["manifest.json: not a turmoil manifest (an object with 'files')"])
    files = manifest["files"]
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {"manifest.json"}
    for rel in sorted(on_disk - set(files)):
        problems.append(f"{rel}: present but not listed in manifest.json")
    for rel, digest in sorted(files.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: listed in manifest.json but missing")
        elif sha256_file(path) != digest:
            problems.append(f"{rel}: sha256 {sha256_file(path)} differs from the manifest's {digest}")
    for table in TABLES:
        shards = sorted(rel for rel in files if rel.startswith(f"{table}/") and rel.endswith(".parquet"))
        if not shards:
            problems.append(f"{table}: no Parquet shard")
            continue
        count = 0
        for rel in shards:
            if not (folder / rel).is_file():
                continue
            try:
                data = pq.read_table(folder / rel)
            except (pa.ArrowException, OSError) as err:
                problems.append(f"{rel}: not a readable Parquet file ({err})")
                continue
            count += data.num_rows
            meta = {k.decode(): v.decode() for k, v in (data.schema.metadata or {}).items()}
            for key in ("dataset_version", "schema_version", "builder_version"):
                if meta.get(METADATA_PREFIX + key) != manifest.get(key):
                    problems.append(f"{rel}: Parquet metadata {key}={meta.get(METADATA_PREFIX + key)!r} but "
                                    f"manifest says {manifest.get(key)!r}")
            if not data.schema.remove_metadata().equals(arrow_schema(table)):
                problems.append(f"{rel}: Arrow schema differs from the one derived from schema/")
            problems.extend(f"{rel}: {v}" for v in violations(table, _rows(data)))
        if count != manifest.get("rows", {}).get(table):
            problems.append(f"{table}: {count} rows in the shards, manifest says {manifest.get('rows', {}).get(table)}")
    if problems:
        raise DatasetProblem(str(folder), problems)
    return manifest
