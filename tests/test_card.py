"""The dataset card and croissant.json: derived from the schemas, agreeing with the Parquet files, runnable.

What needs `datasets` loading data runs in a child process with its caches in tmp_path and the Hub offline:
the tests never touch the network nor the user's caches.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import datasets
import mlcroissant as mlc
import pyarrow.parquet as pq
import pytest
import yaml

from builder import card
from builder.contract import TABLES, json_schema
from builder.errors import CardError
from builder.hf import PRIMARY_KEY, descriptions
from builder.write import sha256_file
from conftest import ROOT, SEEDS


def front_matter(folder) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(re.match(r"---\n(.*?)\n---\n", text, re.S).group(1))


def body(folder) -> str:
    return (folder / "README.md").read_text(encoding="utf-8").split("\n---\n", 1)[1]


def offline_env(tmp_path) -> dict[str, str]:
    return {**os.environ, "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_CACHE": str(tmp_path / "hf" / "datasets"),
            "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "PYTHONPATH": str(ROOT)}


def shards(folder, table) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in (folder / table).glob("*.parquet"))


# ------------------------------------------------------------------------------------------- front matter


@pytest.mark.parametrize("table", list(TABLES))
def test_card_features_equal_parquet_schema_and_json_schema(seeds_build, table):
    info = {c["config_name"]: c for c in front_matter(seeds_build)["dataset_info"]}[table]
    from_card = datasets.Features._from_yaml_list(info["features"])
    for rel in shards(seeds_build, table):
        assert from_card == datasets.Features.from_arrow_schema(pq.read_schema(seeds_build / rel))
    assert list(from_card) == list(json_schema(table)["properties"])


def test_configs_one_default_each_glob_matching_only_its_table(seeds_build):
    configs = front_matter(seeds_build)["configs"]
    files = list(json.loads((seeds_build / "manifest.json").read_text())["files"])
    assert [c["config_name"] for c in configs] == list(TABLES)
    assert sum(bool(c.get("default")) for c in configs) == 1
    for config in configs:
        [data] = config["data_files"]
        assert data["split"] == "train"
        assert sorted(fnmatch.filter(files, data["path"])) == shards(seeds_build, config["config_name"])


def test_splits_languages_and_size_are_the_data(seeds_build):
    meta = front_matter(seeds_build)
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    splits = {c["config_name"]: c["splits"] for c in meta["dataset_info"]}
    assert {t: s[0]["num_examples"] for t, s in splits.items()} == manifest["rows"]
    langs = pq.read_table(seeds_build / shards(seeds_build, "articles")[0], columns=["lang"])["lang"].to_pylist()
    assert meta["language"] == sorted(set(langs))
    assert meta["size_categories"] == ["n<1K"]
    assert meta["license"] == "cc-by-sa-4.0" and meta["pretty_name"] == "turmoil"
    assert "translation" in meta["task_categories"]


@pytest.mark.parametrize(("rows", "category"), [
    pytest.param(0, "n<1K", id="empty"), pytest.param(999, "n<1K", id="just-below-1K"),
    pytest.param(1000, "1K<n<10K", id="1K"), pytest.param(123_456, "100K<n<1M", id="100K"),
    pytest.param(5_000_000_000, "n>1B", id="beyond"),
])
def test_size_category(rows, category):
    assert card.size_category(rows) == category


# ------------------------------------------------------------------------------------------- body


def test_field_lists_come_from_the_schema_descriptions(seeds_build):
    text = body(seeds_build)
    for table in TABLES:
        section = text.split(f"### {table}\n", 1)[1].split("\n### ", 1)[0]
        for name, description in descriptions(table).items():
            assert f"`{name.split('.')[-1]}`" in section and description in section, (table, name)


def test_removed_reasons_are_the_schema_enum_with_the_report_counts(seeds_build):
    report = json.loads((seeds_build / "build_report.json").read_text())
    text = body(seeds_build)
    [reason] = [p for p in json_schema("articles")["properties"]["removed"]["items"]["properties"].items()
                if p[0] == "reason"]
    for name in reason[1]["enum"]:
        counts = report["removed"].get(name, {"spans": 0, "chars": 0})
        assert f"| `{name}` | {card.REMOVAL_REASONS[name]} | {counts['spans']} | {counts['chars']} |" in text


def test_languages_links_and_sources(seeds_build):
    text = body(seeds_build)
    articles = pq.read_table(seeds_build / shards(seeds_build, "articles")[0]).to_pylist()
    for a in articles:
        assert f"| `{a['source_path']}` | `{a['source_sha256']}` | {a['source_bytes']} |" in text
    assert {a["source_path"] for a in articles} == {p.name for p in SEEDS.glob("*.txt")}
    assert "| all | 5 | 287 |" in text
    assert "3 article links (3 article pairs) and 228 paragraph links." in text  # tests/data/seeds_gold.json
    assert "@misc{turmoil_1_0_0," in text


def test_placeholders_and_values_must_match():
    with pytest.raises(CardError, match=r"without a value: \['nope'\]"):
        card._fill("a {{ nope }} b", {})
    with pytest.raises(CardError, match=r"without a placeholder: \['spare'\]"):
        card._fill("a b", {"spare": "x"})
    assert card._fill("a {{ x }} {{x}}", {"x": "1"}) == "a 1 1"


def test_removal_reasons_must_cover_the_schema_enum(monkeypatch):
    monkeypatch.setattr(card, "REMOVAL_REASONS", {k: v for k, v in card.REMOVAL_REASONS.items() if k != "trailer"})
    with pytest.raises(CardError, match="removal reasons differ"):
        card._removed({})


def test_card_examples_run_against_the_folder(seeds_build, tmp_path):
    folder = shutil.copytree(seeds_build, tmp_path / "dataset")
    done = subprocess.run([sys.executable, "-m", "doctest", "-o", "ELLIPSIS", "README.md"], cwd=folder,
                          env=offline_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert body(folder).count(">>> ") >= 10  # the examples are there, and ran
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in seeds_build.iterdir())


@pytest.fixture(scope="module")
def local_loads(seeds_build, tmp_path_factory) -> dict:
    """Row counts of every non-empty config as `datasets.load_dataset(folder, config)` reads them."""
    tmp = tmp_path_factory.mktemp("local-loads")
    script = textwrap.dedent("""
        import json, sys
        import datasets
        folder, configs = sys.argv[1], json.loads(sys.argv[2])
        print(json.dumps({c: datasets.load_dataset(folder, c)["train"].num_rows for c in configs}))
    """)
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    configs = [t for t in TABLES if manifest["rows"][t]]
    done = subprocess.run([sys.executable, "-c", script, str(seeds_build), json.dumps(configs)],
                          env=offline_env(tmp), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("table", list(TABLES))
def test_load_dataset_from_the_folder(seeds_build, local_loads, table):
    rows = json.loads((seeds_build / "manifest.json").read_text())["rows"][table]
    if rows == 0:
        pytest.skip(f"{table} is empty in this build, and `datasets` cannot load a table without rows")
    assert local_loads[table] == rows


# ------------------------------------------------------------------------------------------- croissant


def test_croissant_validates_offline(seeds_build, tmp_path):
    command = Path(sys.executable).with_name("mlcroissant")  # the console script of the running environment
    done = subprocess.run([str(command), "validate", "--jsonld", str(seeds_build / "croissant.json")],
                          env=offline_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    dataset = mlc.Dataset(jsonld=seeds_build / "croissant.json")
    assert dataset.metadata.ctx.issues.errors == set()
    assert all("datePublished" in w for w in dataset.metadata.ctx.issues.warnings)  # no date: same bytes


def test_croissant_records_are_the_parquet_rows(seeds_build):
    dataset = mlc.Dataset(jsonld=seeds_build / "croissant.json")
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    for table in TABLES:
        assert sum(1 for _ in dataset.records(table)) == manifest["rows"][table], table


def test_croissant_lists_every_shard_with_its_sha256_and_every_column(seeds_build):
    doc = json.loads((seeds_build / "croissant.json").read_text())
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    objects = {d["contentUrl"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    assert {rel: d["sha256"] for rel, d in objects.items()} == {
        rel: digest for rel, digest in manifest["files"].items() if rel.endswith(".parquet")}
    assert all(d["contentSize"] == f"{(seeds_build / rel).stat().st_size} B" for rel, d in objects.items())
    for record_set in doc["recordSet"]:
        table = record_set["@id"]
        assert [f["name"] for f in record_set["field"]] == list(json_schema(table)["properties"])
        assert [k["@id"] for k in record_set["key"]] == [f"{table}/{k}" for k in PRIMARY_KEY[table]]
    assert doc["version"] == manifest["dataset_version"] and doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"


def test_card_files_are_written_before_the_manifest_lists_them(seeds_build):
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    for name in ("README.md", "croissant.json"):
        assert manifest["files"][name] == sha256_file(seeds_build / name)
