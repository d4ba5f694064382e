"""The build as a whole: same bytes every run, nothing lost, self-describing output, a command line that
says what went wrong."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import polars as pl
import pyarrow.parquet as pq
import pytest

from builder.__main__ import main
from builder.check import check_dataset
from builder.errors import DatasetProblem
from builder.pipeline import Options, build
from conftest import ROOT, SEEDS


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_builds_give_identical_bytes(seeds_build, tmp_path):
    build(Options(seeds=SEEDS, out=tmp_path / "again"))
    first, second = _files(seeds_build), _files(tmp_path / "again")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_layout_of_output(seeds_build):
    assert sorted(_files(seeds_build)) == [
        "README.md", "articles/train-00000-of-00001.parquet", "build_report.json", "croissant.json", "manifest.json",
        "paragraphs/train-00000-of-00001.parquet", "translation_links/train-00000-of-00001.parquet",
    ]


@pytest.mark.parametrize("path", sorted(p.name for p in SEEDS.glob("*.txt")))
def test_every_non_space_character_is_accounted_for(seeds_build, path):
    text = (SEEDS / path).read_bytes().decode("utf-8-sig")
    article = pl.read_parquet(seeds_build / "articles" / "*.parquet").filter(pl.col("source_path") == path)
    paragraphs = pl.read_parquet(seeds_build / "paragraphs" / "*.parquet").filter(
        pl.col("article_id") == article["article_id"][0])
    owner = [None] * len(text)
    spans = [(r["char_start"], r["char_end"], "p") for r in paragraphs.iter_rows(named=True)]
    spans += [(r["char_start"], r["char_end"], r["reason"]) for r in article["removed"][0]]
    for start, end, what in spans:
        for i in range(start, end):
            assert owner[i] is None, f"character {i} is in two spans"
            owner[i] = what
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and owner[i] is None]
    assert lost == [], f"characters not in any paragraph or removed span, e.g. {text[lost[0]:lost[0] + 30]!r}"


def test_paragraph_text_is_its_span_folded(seeds_build):
    paragraphs = pl.read_parquet(seeds_build / "paragraphs" / "*.parquet")
    articles = pl.read_parquet(seeds_build / "articles" / "*.parquet")
    sources = {r["article_id"]: (SEEDS / r["source_path"]).read_text(encoding="utf-8")
               for r in articles.iter_rows(named=True)}
    for r in paragraphs.iter_rows(named=True):
        assert " ".join(sources[r["article_id"]][r["char_start"]:r["char_end"]].split()) == r["text"]


def test_manifest_and_parquet_metadata_carry_versions(seeds_build):
    manifest = json.loads((seeds_build / "manifest.json").read_text())
    for rel in manifest["files"]:
        if rel.endswith(".parquet"):
            meta = pq.read_schema(seeds_build / rel).metadata
            assert meta[b"turmoil.dataset_version"].decode() == manifest["dataset_version"]
            assert meta[b"turmoil.schema_version"].decode() == (ROOT / "schema" / "VERSION").read_text().strip()
    assert manifest["rows"] == {"articles": 5, "paragraphs": manifest["rows"]["paragraphs"], "translation_links":
                                manifest["rows"]["translation_links"]}


def test_parquet_settings(seeds_build):
    meta = pq.ParquetFile(seeds_build / "paragraphs" / "train-00000-of-00001.parquet").metadata
    column = meta.row_group(0).column(0)
    assert column.compression == "ZSTD"
    assert "RLE_DICTIONARY" not in column.encodings and "PLAIN_DICTIONARY" not in column.encodings
    assert column.has_offset_index


def test_validate_accepts_a_build(seeds_build):
    assert check_dataset(seeds_build)["rows"]["articles"] == 5


def test_validate_lists_every_problem(seeds_build, tmp_path):
    broken = tmp_path / "broken"
    build(Options(seeds=SEEDS, out=broken))
    (broken / "build_report.json").write_text("{}")
    (broken / "stray.txt").write_text("x")
    with pytest.raises(DatasetProblem) as err:
        check_dataset(broken)
    text = "\n".join(err.value.problems)
    assert "build_report.json: sha256" in text and "stray.txt: present but not listed" in text
    assert main(["validate", str(broken)]) == 1


@pytest.mark.parametrize("args", [[], ["build"], ["validate"], ["eval-pages"]])
def test_help_on_every_command(args):
    done = subprocess.run([sys.executable, "-m", "builder", *args, "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and "usage:" in done.stdout


def test_build_prints_one_line_summary(tmp_path, capsys):
    assert main(["build", "--seeds", str(SEEDS), "--out", str(tmp_path / "out")]) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and "5 articles" in line and "0 rejects" in line and line.endswith(" s")


def test_reject_fails_build_and_keeps_previous_output(tmp_path, capsys):
    seeds = tmp_path / "in"
    seeds.mkdir()
    (seeds / "a.txt").write_bytes((SEEDS / "000_649e56bae12c91cd.txt").read_bytes())
    out = tmp_path / "out"
    assert main(["build", "--seeds", str(seeds), "--out", str(out)]) == 0
    before = _files(out)
    (seeds / "b.txt").write_bytes(b"")
    (seeds / "c.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert main(["build", "--seeds", str(seeds), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "b.txt: empty" in err and "c.txt at byte 0: binary" in err
    assert _files(out) == before
    assert main(["build", "--seeds", str(seeds), "--out", str(out), "--allow-rejects"]) == 0
    report = json.loads((out / "build_report.json").read_text())
    assert [(r["path"], r["reason"]) for r in report["rejects"]] == [("b.txt", "empty"), ("c.txt", "binary")]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_out_inside_seeds_is_refused(tmp_path, capsys):
    seeds = tmp_path / "in"
    seeds.mkdir()
    (seeds / "a.txt").write_bytes((SEEDS / "000_649e56bae12c91cd.txt").read_bytes())
    assert main(["build", "--seeds", str(seeds), "--out", str(seeds / "dataset")]) == 2
    assert "is inside --seeds" in capsys.readouterr().err
    assert [p.name for p in seeds.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("fails", [
    pytest.param("screen_or_embed_unit", id="while the tables are being written beside the linking"),
    pytest.param("_write_links", id="while the links are written, beside the writer's end"),
])
def test_a_failing_build_leaves_no_folder_and_no_writer(fails, tmp_path, monkeypatch):
    """With 2 workers the articles and paragraphs are written in a process of their own while the linking
    runs; when the build fails meanwhile, the error is the caller's, the process is stopped and its folder
    removed."""
    import multiprocessing
    import threading

    from builder import pipeline

    class Boom(Exception):
        pass

    if fails == "_write_links":
        def boom(*args, **kwargs):
            raise Boom(fails)
        monkeypatch.setattr(pipeline, "_write_links", boom)
    else:
        real = pipeline.run_units

        def boom(executor, fn, *args, **kwargs):
            if fn.__name__ == fails:
                raise Boom(fails)
            return real(executor, fn, *args, **kwargs)
        monkeypatch.setattr(pipeline, "run_units", boom)
    before = threading.active_count()
    out = tmp_path / "out"
    with pytest.raises(Boom):
        build(Options(seeds=SEEDS, out=out, workers=2))
    assert threading.active_count() == before
    assert multiprocessing.active_children() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.work"]  # the work files, to resume from


def test_encoder_units_beside_the_screens_give_the_same_bytes(seeds_build, tmp_path, monkeypatch):
    """With workers in other processes, encoder units start beside the screen's as soon as ``EMBED_ARTICLES``
    articles of passed pairs wait; the bytes are those of the one-worker build, where they all come after."""
    from builder import executors, pipeline

    monkeypatch.setattr(pipeline, "EMBED_ARTICLES", 2)  # the seeds' three translations: one unit early, one late
    monkeypatch.setattr(pipeline, "SCREEN_PAIRS", 1)  # a unit a pair, and one unit in flight per worker: the
    monkeypatch.setattr(executors, "IN_FLIGHT", 1)  # first two units' pairs are in before the fourth is made
    names: list[str] = []
    real = pipeline.run_units

    def spy(executor, fn, units, *args, **kwargs):
        def seen():
            for u in units:
                names.append(u.name)
                yield u
        return real(executor, fn, seen(), *args, **kwargs)

    monkeypatch.setattr(pipeline, "run_units", spy)
    build(Options(seeds=SEEDS, out=tmp_path / "two", workers=2))
    assert [n for n in names if n.startswith("units-a")]  # encoder units made while screening ...
    assert [n for n in names if n.startswith("units-0")]  # ... and after
    assert _files(tmp_path / "two") == _files(seeds_build)


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.parametrize(("name", "out_exists", "removed"), [
    pytest.param(".out.tmp-{host}-{dead}-x1y2", True, True, id="tmp folder of a killed build: removed"),
    pytest.param(".out.tmp-{host}-{dead}-x1y2", False, True, id="the same before any output exists: removed"),
    pytest.param(".out.old-{host}-{dead}", True, True, id="old output moved aside, the new one in: removed"),
    pytest.param(".out.old-{host}-{dead}", False, False, id="old output aside and OUT gone: kept (the only copy)"),
    pytest.param(".out.tmp-{host}-{me}-x1y2", True, False, id="a running build's tmp folder: kept"),
    pytest.param(".out.tmp-elsewhere-{dead}-x1y2", True, False, id="another machine's: kept"),
    pytest.param(".out.tmp-x1y2", True, False, id="no owner in the name: kept"),
    pytest.param(".out.bak", True, False, id="not ours: kept"),
    pytest.param(".other.tmp-{host}-{dead}-x1y2", True, False, id="another output's: kept"),
])
def test_stale_folders_of_killed_builds_are_removed(tmp_path, name: str, out_exists: bool, removed: bool) -> None:
    import os
    import socket

    from builder.write import new_folder

    out = tmp_path / "out"
    if out_exists:
        out.mkdir()
    stale = tmp_path / name.format(host=socket.gethostname(), dead=_dead_pid(), me=os.getpid())
    stale.mkdir()
    (stale / "part.parquet").write_bytes(b"x")
    fresh = new_folder(out)
    assert fresh.is_dir() and fresh.name.startswith(f".out.tmp-{socket.gethostname()}-{os.getpid()}-")
    assert stale.exists() is not removed


@pytest.mark.parametrize(("batches", "size", "first", "expected"), [
    pytest.param([[1, 2, 3, 4, 5]], 2, None, [[1, 2], [3, 4], [5]], id="fixed size, the last one shorter"),
    pytest.param([[1], [2, 3], [], [4, 5, 6, 7]], 3, None, [[1, 2, 3], [4, 5, 6], [7]], id="across batches"),
    pytest.param([list(range(1, 11))], 4, 1, [[1], [2, 3], [4, 5, 6, 7], [8, 9, 10]],
                 id="first ones small, doubling up to the size"),
    pytest.param([[1, 2], [3], [4, 5, 6, 7, 8, 9]], 8, 2, [[1, 2], [3, 4, 5, 6], [7, 8, 9]],
                 id="doubling across batches"),
    pytest.param([], 4, 1, [], id="nothing"),
])
def test_cut(batches, size, first, expected):
    from builder.pipeline import _cut

    assert list(_cut(batches, size, first)) == expected


@pytest.mark.parametrize("keys_chars", [
    pytest.param(1, id="each page's keys alone"),
    pytest.param(20_000, id="a few pages together"),
])
def test_a_docs_work_file_does_not_depend_on_how_pages_are_batched_for_their_keys(keys_chars, tmp_path, monkeypatch):
    import pickle

    from builder import pipeline
    from builder.lexicon import LEXICON
    from builder.read import MAX_BYTES, list_inputs
    from builder.workfile import read_all

    seeds = tmp_path / "in"
    seeds.mkdir()
    for page in sorted(SEEDS.glob("*.txt")):
        (seeds / page.name).write_bytes(page.read_bytes())
    (seeds / "empty.txt").write_bytes(b"")  # a reject among the pages
    items = list_inputs(seeds)

    def records(chars: int) -> list[bytes]:
        monkeypatch.setattr(pipeline, "KEYS_CHARS", chars)
        LEXICON.clear()  # each run meets the words anew
        path = tmp_path / f"docs-{chars}.part"
        path.write_bytes(pipeline.process_shard((str(seeds), items, MAX_BYTES)))
        head, *rest = read_all(path)
        assert head["docs"] == len(items) == 6
        assert [doc.reject is not None for doc in rest[:6]] == [False] * 5 + [True]  # empty.txt, last
        return [pickle.dumps(r) for r in rest]  # the head's seconds differ from run to run

    together = records(10**9)
    assert records(keys_chars) == together


def test_a_docs_unit_does_not_import_pandas():
    """pyarrow imports pandas when it converts Python objects (``pa.array``, ``to_numpy``): 0.15 s in every
    worker. The per-document units build their Arrow arrays from buffers instead."""
    code = ("import sys; from builder import pipeline; from builder.read import MAX_BYTES, list_inputs; "
            f"pipeline.process_shard(({str(SEEDS)!r}, list_inputs(__import__('pathlib').Path({str(SEEDS)!r})), "
            "MAX_BYTES)); print('pandas' in sys.modules, 'pyarrow.compute' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]  # pyarrow was used, pandas not imported


@pytest.mark.parametrize(("items", "expected"), [
    pytest.param([], '{\n  "count": 0,\n  "files": []\n}\n', id="no items"),
    pytest.param([{"path": "b.txt", "lang": "fr", "removed_chars": {"z": 1, "a": 2}}, {"path": "ü.txt", "lang": None}],
                 '{\n  "count": 0,\n  "files": [\n'
                 '    {"lang": "fr", "path": "b.txt", "removed_chars": {"a": 2, "z": 1}},\n'
                 '    {"lang": null, "path": "ü.txt"}\n'
                 '  ]\n}\n',
                 id="an item a line, keys sorted at every depth, text as it is"),
])
def test_the_report_lists_one_item_a_line(items, expected, tmp_path):
    from builder.write import JsonListWriter

    writer = JsonListWriter(tmp_path / "report.json", "files")
    for item in items:
        writer.add(item)
    writer.close({"count": 0})
    text = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert text == expected
    assert json.loads(text) == {"count": 0, "files": items}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # its list of items, written aside, is gone


def _paragraph(n: int) -> dict:
    return {"paragraph_id": f"a{n % 3:016x}-p{n}", "article_id": f"a{n % 3:016x}", "position": n,
            "kind": "body" if n % 4 else "heading", "text": f"paragraph {n} " + "ü" * (n % 7), "lang": "fr" if n % 2 else "en",
            "char_start": 10 * n, "char_end": 10 * n + 9}


@pytest.mark.parametrize(("cuts", "batch_rows"), [
    pytest.param([0, 10], 4, id="one feed, batches of 4 and a last of 2"),
    pytest.param([0, 3, 3, 7, 10], 4, id="feeds across batch boundaries, one empty"),
    pytest.param([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, id="a row a feed"),
    pytest.param([0, 0], 4, id="no rows"),
])
def test_rows_fed_as_columns_write_the_same_bytes_as_dicts(cuts, batch_rows, tmp_path, monkeypatch):
    """The writer process gets the paragraphs as columns (``TableWriter.add_columns``): the table's bytes must
    be those of the same rows fed as dicts, however they are cut."""
    from builder import write

    monkeypatch.setattr(write, "BATCH_ROWS", batch_rows)
    monkeypatch.setattr(write, "ROW_GROUP_BYTES", 1)  # a row group a batch: the batches show in the bytes
    rows = [_paragraph(n) for n in range(cuts[-1])]
    stamp = {"dataset_version": "0"}
    by_rows, by_columns = (write.TableWriter(tmp_path / name, "paragraphs", stamp) for name in ("rows", "columns"))
    for start, end in itertools.pairwise(cuts):
        by_rows.add(rows[start:end])
        by_columns.add_columns({name: [r[name] for r in rows[start:end]] for name in by_columns.schema.names})
    assert by_rows.close() == by_columns.close() and by_rows.count == by_columns.count == len(rows)
    assert _files(tmp_path / "rows") == _files(tmp_path / "columns")
    assert pq.read_table(tmp_path / "columns" / "paragraphs").to_pylist() == rows
    groups = pq.ParquetFile(next((tmp_path / "columns" / "paragraphs").glob("*.parquet"))).metadata.num_row_groups
    assert groups == (-(-len(rows) // batch_rows) if rows else 0)


@pytest.mark.parametrize("workers", [pytest.param(1, id="in this process"), pytest.param(2, id="in 2 workers")])
def test_a_row_that_breaks_the_schema_stops_the_build_and_names_its_file(workers, tmp_path, monkeypatch):
    """Rows are validated where they are made (in the workers) and the violations travel in the work files to
    the writer: a build with a bad row must fail naming it, its field and its input file, and write nothing."""
    from builder import pipeline
    from builder.errors import ContractViolation

    bad_file = sorted(p.name for p in SEEDS.iterdir())[1]
    made = pipeline.rows

    def rows_with_a_bad_kind(page):
        article, paragraphs = made(page)
        if page.source.path == bad_file:
            paragraphs[2] = {**paragraphs[2], "kind": "footer"}
        return article, paragraphs

    monkeypatch.setattr(pipeline, "rows", rows_with_a_bad_kind)  # the workers are forked after this
    with pytest.raises(ContractViolation) as err:
        build(Options(seeds=SEEDS, out=tmp_path / "out", workers=workers))
    assert [(v.table, v.field, v.source_path) for v in err.value.violations] == [("paragraphs", "/kind", bad_file)]
    assert err.value.violations[0].record.endswith("-p2")
    assert not (tmp_path / "out").exists()
