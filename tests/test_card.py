"""The dataset card and croissant.json: derived from the schemas, agreeing with the Parquet files, runnable.

The card is written here by ``card.card_files`` itself, on a copy of the seeds build (the ``carded`` fixture):
its functions read every figure from the Parquet shards in the folder, none from rows in memory.

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
from collections import Counter
from pathlib import Path

import datasets
import mlcroissant as mlc
import pyarrow as pa
import pyarrow.compute as pc
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


def versions_of(folder) -> dict[str, str]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return {k: v for k, v in manifest.items() if k not in ("rows", "files")}


def write_card(folder) -> dict[str, bytes]:
    """Write README.md and croissant.json into ``folder`` (shards already there) as ``card.card_files`` gives
    them, from the build report and the versions alone; return their bytes."""
    for name in ("README.md", "croissant.json"):
        (folder / name).unlink(missing_ok=True)
    files = card.card_files(json.loads((folder / "build_report.json").read_text()), versions_of(folder))
    assert set(files) == {"README.md", "croissant.json"} and all(callable(f) for f in files.values())
    written = {name: make(folder) for name, make in files.items()}
    for name, data in written.items():
        (folder / name).write_bytes(data)
    return written


def rows(folder, table, names=None) -> list[dict]:
    return [r for rel in shards(folder, table) for r in pq.read_table(folder / rel, columns=names).to_pylist()]


def rewrite(folder, table, data: pa.Table, parts: int = 1, row_group: int | None = None) -> None:
    """Replace a table's shards in ``folder`` by ``data`` in ``parts`` shards of ``row_group`` rows per group."""
    for rel in shards(folder, table):
        (folder / rel).unlink()
    per = -(-data.num_rows // parts)
    for i in range(parts):
        path = folder / table / f"train-{i:05d}-of-{parts:05d}.parquet"
        if not data.num_rows:
            pq.ParquetWriter(path, data.schema).close()
        else:
            pq.write_table(data.slice(i * per, per), path, row_group_size=row_group)


@pytest.fixture(scope="module")
def carded(seeds_build, tmp_path_factory) -> Path:
    """A copy of the seeds build whose README.md and croissant.json card_files() wrote from the folder."""
    folder = shutil.copytree(seeds_build, tmp_path_factory.mktemp("carded") / "dataset")
    write_card(folder)
    return folder



# ------------------------------------------------------------------------------------------- front matter


@pytest.mark.parametrize("table", list(TABLES))
def test_card_features_equal_parquet_schema_and_json_schema(carded, table):
    info = {c["config_name"]: c for c in front_matter(carded)["dataset_info"]}[table]
    from_card = datasets.Features._from_yaml_list(info["features"])
    for rel in shards(carded, table):
        assert from_card == datasets.Features.from_arrow_schema(pq.read_schema(carded / rel))
    assert list(from_card) == list(json_schema(table)["properties"])


def test_configs_one_default_each_glob_matching_only_its_table(carded):
    configs = front_matter(carded)["configs"]
    files = list(json.loads((carded / "manifest.json").read_text())["files"])
    assert [c["config_name"] for c in configs] == list(TABLES)
    assert sum(bool(c.get("default")) for c in configs) == 1
    for config in configs:
        [data] = config["data_files"]
        assert data["split"] == "train"
        assert sorted(fnmatch.filter(files, data["path"])) == shards(carded, config["config_name"])


def test_splits_languages_and_size_are_the_data(carded):
    meta = front_matter(carded)
    manifest = json.loads((carded / "manifest.json").read_text())
    splits = {c["config_name"]: c["splits"] for c in meta["dataset_info"]}
    assert {t: s[0]["num_examples"] for t, s in splits.items()} == manifest["rows"]
    langs = pq.read_table(carded / shards(carded, "articles")[0], columns=["lang"])["lang"].to_pylist()
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


def test_field_lists_come_from_the_schema_descriptions(carded):
    text = body(carded)
    for table in TABLES:
        section = text.split(f"### {table}\n", 1)[1].split("\n### ", 1)[0]
        for name, description in descriptions(table).items():
            assert f"`{name.split('.')[-1]}`" in section and description in section, (table, name)


def test_removed_reasons_are_the_schema_enum_with_the_report_counts(carded):
    report = json.loads((carded / "build_report.json").read_text())
    text = body(carded)
    [reason] = [p for p in json_schema("articles")["properties"]["removed"]["items"]["properties"].items()
                if p[0] == "reason"]
    for name in reason[1]["enum"]:
        counts = report["removed"].get(name, {"spans": 0, "chars": 0})
        assert f"| `{name}` | {card.REMOVAL_REASONS[name]} | {counts['spans']} | {counts['chars']} |" in text


def test_languages_links_and_sources(carded):
    text = body(carded)
    articles = rows(carded, "articles")
    assert "too many to list here" not in text
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


def test_card_examples_run_against_the_folder(carded, tmp_path):
    folder = shutil.copytree(carded, tmp_path / "dataset")
    done = subprocess.run([sys.executable, "-m", "doctest", "-o", "ELLIPSIS", "README.md"], cwd=folder,
                          env=offline_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert body(folder).count(">>> ") >= 10  # the examples are there, and ran
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in carded.iterdir())


@pytest.fixture(scope="module")
def local_loads(carded, tmp_path_factory) -> dict:
    """Row counts of every non-empty config as `datasets.load_dataset(folder, config)` reads them."""
    tmp = tmp_path_factory.mktemp("local-loads")
    script = textwrap.dedent("""
        import json, sys
        import datasets
        folder, configs = sys.argv[1], json.loads(sys.argv[2])
        print(json.dumps({c: datasets.load_dataset(folder, c)["train"].num_rows for c in configs}))
    """)
    manifest = json.loads((carded / "manifest.json").read_text())
    configs = [t for t in TABLES if manifest["rows"][t]]
    done = subprocess.run([sys.executable, "-c", script, str(carded), json.dumps(configs)],
                          env=offline_env(tmp), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("table", list(TABLES))
def test_load_dataset_from_the_folder(carded, local_loads, table):
    count = json.loads((carded / "manifest.json").read_text())["rows"][table]
    if count == 0:
        pytest.skip(f"{table} is empty in this build, and `datasets` cannot load a table without rows")
    assert local_loads[table] == count


# ------------------------------------------------------------------------------------------- croissant


def test_croissant_validates_offline(carded, tmp_path):
    command = Path(sys.executable).with_name("mlcroissant")  # the console script of the running environment
    done = subprocess.run([str(command), "validate", "--jsonld", str(carded / "croissant.json")],
                          env=offline_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    dataset = mlc.Dataset(jsonld=carded / "croissant.json")
    assert dataset.metadata.ctx.issues.errors == set()
    assert all("datePublished" in w for w in dataset.metadata.ctx.issues.warnings)  # no date: same bytes


def test_croissant_records_are_the_parquet_rows(carded):
    dataset = mlc.Dataset(jsonld=carded / "croissant.json")
    manifest = json.loads((carded / "manifest.json").read_text())
    for table in TABLES:
        assert sum(1 for _ in dataset.records(table)) == manifest["rows"][table], table


def test_croissant_lists_every_shard_with_its_sha256_and_every_column(carded):
    doc = json.loads((carded / "croissant.json").read_text())
    manifest = json.loads((carded / "manifest.json").read_text())
    objects = {d["contentUrl"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    assert {rel: d["sha256"] for rel, d in objects.items()} == {
        rel: digest for rel, digest in manifest["files"].items() if rel.endswith(".parquet")}
    assert all(d["contentSize"] == f"{(carded / rel).stat().st_size} B" for rel, d in objects.items())
    for record_set in doc["recordSet"]:
        table = record_set["@id"]
        assert [f["name"] for f in record_set["field"]] == list(json_schema(table)["properties"])
        assert [k["@id"] for k in record_set["key"]] == [f"{table}/{k}" for k in PRIMARY_KEY[table]]
    assert doc["version"] == manifest["dataset_version"] and doc["conformsTo"] == "http://mlcommons.org/croissant/1.0"


def test_card_files_are_written_before_the_manifest_lists_them(seeds_build):
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    for name in ("README.md", "croissant.json"):
        assert manifest["files"][name] == sha256_file(seeds_build / name)


def test_the_pipeline_writes_the_card_card_files_gives(seeds_build, carded):
    for name in ("README.md", "croissant.json"):
        assert (seeds_build / name).read_bytes() == (carded / name).read_bytes(), name


# ------------------------------------------------------------------------------------------- from the shards


def test_template_is_checked_before_any_data(monkeypatch, tmp_path):
    versions = {"dataset_version": "1.0.0", "schema_version": "1.0.0", "builder_version": "0.1.0"}
    files = card.card_files({}, versions)  # no folder, no data: only functions of the folder to come
    assert set(files) == {"README.md", "croissant.json"} and all(callable(f) for f in files.values())
    assert "languages" not in card.about(versions)
    text = card.TEMPLATE.read_text(encoding="utf-8")
    bad = tmp_path / "dataset_card.md"
    monkeypatch.setattr(card, "TEMPLATE", bad)
    bad.write_text(text.replace("license: cc-by-sa-4.0", "license: wtfpl", 1), encoding="utf-8")
    with pytest.raises(CardError, match="license 'wtfpl' has no URL"):
        card.card_files({}, versions)
    assert "\n---\n\n# turmoil\n" in text
    bad.write_text(text.replace("\n---\n\n# turmoil\n", "\n---\n\nturmoil\n", 1), encoding="utf-8")
    with pytest.raises(CardError, match="no paragraph under a '# ' title"):
        card.card_files({}, versions)


def test_figures_are_the_rows(carded):
    figures = card.figures(carded)
    articles, paragraphs, links = (rows(carded, t) for t in TABLES)
    assert figures.rows == {"articles": len(articles), "paragraphs": len(paragraphs),
                            "translation_links": len(links)}
    assert figures.articles_per_lang == Counter(a["lang"] for a in articles)
    assert figures.paragraphs_per_lang == Counter(p["lang"] for p in paragraphs)
    assert figures.paragraphs_per_kind == Counter(p["kind"] for p in paragraphs)
    assert figures.link_levels == Counter(link["level"] for link in links)
    assert figures.article_pairs == len({frozenset((link["source_article_id"], link["target_article_id"]))
                                         for link in links if link["level"] == "article"})
    assert card.languages(carded) == sorted({a["lang"] for a in articles})
    assert card.about(versions_of(carded), carded)["languages"] == card.languages(carded)


NEEDED = {"articles": {"lang", "source_path", "source_sha256", "source_bytes"}, "paragraphs": {"lang", "kind"},
          "translation_links": {"level", "source_article_id", "target_article_id"}}


@pytest.mark.parametrize("limit", [1000, 0], ids=["sources-listed", "sources-summed"])
def test_card_reads_only_the_columns_it_needs(carded, monkeypatch, tmp_path, limit):
    folder = shutil.copytree(carded, tmp_path / "dataset")
    monkeypatch.setattr(card, "MAX_LISTED_SOURCES", limit)
    read: dict[str, set[str]] = {t: set() for t in TABLES}
    iter_batches = pq.ParquetFile.iter_batches

    def spy(self, *args, columns=None, **kwargs):
        assert columns is not None, "a whole row group read: pass the columns"
        read[self.schema_arrow.metadata[b"turmoil.table"].decode()].update(columns)
        return iter_batches(self, *args, columns=columns, **kwargs)

    def whole(*args, **kwargs):
        raise AssertionError("the card read a whole table")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    for name in ("read", "read_row_group", "read_row_groups"):
        monkeypatch.setattr(pq.ParquetFile, name, whole)
    monkeypatch.setattr(pq, "read_table", whole)
    written = write_card(folder)
    assert (written["README.md"] == (carded / "README.md").read_bytes()) == (limit == 1000)
    assert written["croissant.json"] == (carded / "croissant.json").read_bytes()
    assert all(read[t] and read[t] <= NEEDED[t] for t in TABLES), read


def test_counts_add_up_across_shards_and_batches(carded, monkeypatch, tmp_path):
    folder = shutil.copytree(carded, tmp_path / "dataset")
    for table in TABLES:
        data = pa.concat_tables([pq.read_table(folder / rel) for rel in shards(folder, table)])
        rewrite(folder, table, data, parts=3, row_group=7)
    monkeypatch.setattr(card, "BATCH_ROWS", 5)
    write_card(folder)
    assert body(folder) == body(carded)  # every figure of the body, counted in pieces, is the same
    meta, single = front_matter(folder), front_matter(carded)
    assert meta["language"] == single["language"] and meta["size_categories"] == single["size_categories"]
    assert ([s["num_examples"] for c in meta["dataset_info"] for s in c["splits"]]
            == [s["num_examples"] for c in single["dataset_info"] for s in c["splits"]])
    assert json.loads((folder / "croissant.json").read_text())["inLanguage"] == meta["language"]


def test_no_links_says_so(carded, tmp_path):
    folder = shutil.copytree(carded, tmp_path / "dataset")
    rewrite(folder, "translation_links", pq.read_table(folder / shards(folder, "translation_links")[0]).slice(0, 0))
    write_card(folder)
    text = body(folder)
    assert "0 article links (0 article pairs) and 0 paragraph links. This version has no translation links yet" in text
    assert "| `translation_links` | 0 |" in text
    info = {c["config_name"]: c for c in front_matter(folder)["dataset_info"]}
    assert info["translation_links"]["splits"][0]["num_examples"] == 0


@pytest.mark.parametrize("limit", [5, 4], ids=["at-the-limit-listed", "above-the-limit-summed"])
def test_sources_listed_up_to_the_limit_then_summed(carded, monkeypatch, tmp_path, limit):
    assert card.MAX_LISTED_SOURCES == 1000
    folder = shutil.copytree(carded, tmp_path / "dataset")
    monkeypatch.setattr(card, "MAX_LISTED_SOURCES", limit)
    write_card(folder)
    sources = body(folder).split("\n## Sources\n", 1)[1].split("\n## ", 1)[0]
    articles = rows(folder, "articles")
    assert len(articles) == 5
    listed = [f"| `{a['source_path']}` | `{a['source_sha256']}` | {a['source_bytes']} |" for a in articles]
    if len(articles) <= limit:
        assert sources == (carded / "README.md").read_text(encoding="utf-8").split("\n## Sources\n", 1)[1].split(
            "\n## ", 1)[0]
        assert all(line in sources for line in listed)
        return
    total = sum(a["source_bytes"] for a in articles)
    assert sources.strip() == (
        f"This version was built from 5 raw pages, {total} bytes in all: too many to list here. The full list "
        "is in the articles table, columns `source_path`, `source_sha256` and `source_bytes`.")
    assert not any(a["source_path"] in sources or a["source_sha256"] in sources for a in articles)
    assert body(folder).replace(sources, "") == body(carded).replace(
        body(carded).split("\n## Sources\n", 1)[1].split("\n## ", 1)[0], "")  # nothing else changes


def test_article_pairs_are_unordered_and_distinct(carded, tmp_path):
    folder = shutil.copytree(carded, tmp_path / "dataset")
    links = pa.concat_tables([pq.read_table(folder / rel) for rel in shards(folder, "translation_links")])
    article = links.filter(pc.equal(links["level"], "article"))
    swap = {"source_article_id": "target_article_id", "target_article_id": "source_article_id"}
    swapped = pa.Table.from_arrays([article[swap.get(name, name)] for name in links.schema.names],
                                   schema=links.schema)  # the same pairs, the other way round
    rewrite(folder, "translation_links", pa.concat_tables([links, swapped, article]), parts=2, row_group=50)
    figures = card.figures(folder)
    assert figures.link_levels["article"] == 3 * article.num_rows
    assert figures.article_pairs == card.figures(carded).article_pairs == article.num_rows > 0
