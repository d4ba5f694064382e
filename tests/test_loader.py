"""The pip-installable loader: what ships is a fresh build of seeds/, checked against its manifest, and
loads offline with polars (and datasets) without the builder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv

import polars as pl
import pytest

import turmoil
from turmoil._loader import IntegrityError, _verified
from conftest import ROOT

BUNDLED = ROOT / "src" / "turmoil" / "data"
REFRESH = "refresh it with: python -m builder build --out src/turmoil/data"


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_bundled_data_is_a_fresh_build_of_the_seeds(seeds_build):
    bundled, fresh = _files(BUNDLED), _files(seeds_build)
    assert sorted(bundled) == sorted(fresh), REFRESH
    assert [name for name in fresh if fresh[name] != bundled[name]] == [], REFRESH


@pytest.mark.parametrize("table, rows_from_manifest", [
    pytest.param("articles", "articles", id="articles"),
    pytest.param("paragraphs", "paragraphs", id="paragraphs"),
    pytest.param("translation_links", "translation_links", id="translation_links"),
])
def test_load_and_scan(table, rows_from_manifest):
    expected = json.loads((BUNDLED / "manifest.json").read_text())["rows"][rows_from_manifest]
    assert turmoil.load(table).height == expected
    assert turmoil.scan(table).select(pl.len()).collect().item() == expected


def test_version_is_the_dataset_version():
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        assert turmoil.version == tomllib.load(f)["project"]["version"]


def test_unknown_table_is_named():
    with pytest.raises(ValueError, match="unknown table 'article'.*articles, paragraphs, translation_links"):
        turmoil.load("article")


@pytest.mark.parametrize("damage, words", [
    pytest.param(lambda d: (d / "paragraphs" / "train-00000-of-00001.parquet").write_bytes(b"x"),
                 "paragraphs/train-00000-of-00001.parquet: sha256", id="changed-shard"),
    pytest.param(lambda d: (d / "articles" / "train-00000-of-00001.parquet").unlink(),
                 "articles/train-00000-of-00001.parquet: missing", id="missing-shard"),
    pytest.param(lambda d: (d / "manifest.json").unlink(), "no manifest.json", id="no-manifest"),
])
def test_damaged_data_is_refused(tmp_path, damage, words):
    copy = tmp_path / "data"
    shutil.copytree(BUNDLED, copy)
    damage(copy)
    with pytest.raises(IntegrityError, match=words):
        _verified(copy)


def test_to_hf_gives_the_same_rows():
    pytest.importorskip("datasets")
    dd = turmoil.to_hf()
    assert sorted(dd) == ["articles", "paragraphs", "translation_links"]
    assert dd["paragraphs"]["paragraph_id"] == turmoil.load("paragraphs")["paragraph_id"].to_list()


def test_wheel_in_fresh_venv_loads_offline(tmp_path):
    """Build the wheel, install it (with polars) into a new virtual environment, load every table offline
    from a folder where the builder cannot be imported."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, timeout=300)
    wheel = next(dist.glob("turmoil-*.whl"))
    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=600)
    script = (
        "import sys, turmoil\n"
        "rows = {t: turmoil.load(t).height for t in turmoil.TABLES}\n"
        "assert 'builder' not in sys.modules and 'pyarrow' not in sys.modules, sorted(sys.modules)\n"
        "print(turmoil.version, rows)\n"
    )
    done = subprocess.run([str(python), "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    manifest = json.loads((BUNDLED / "manifest.json").read_text())
    assert done.stdout.strip() == f"{manifest['dataset_version']} {manifest['rows']}"
