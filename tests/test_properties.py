"""Properties (issue 5): random text and random damage to the seeds never crash the build, every input is
accounted for, and every non-space character of an accepted file is in exactly one paragraph or removed span.

Parse-level properties run on ``builder.layouts.parse`` directly (fast, many examples); build-level ones run
the whole library build with ``--allow-rejects`` in a fresh temporary folder per example.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import tempfile
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from builder.layouts import NoText, parse
from builder.normalize import normalize
from builder.pipeline import Options, build
from builder.records import Source
from conftest import SEEDS

SEED_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
SEED_LINES = sorted({line for text in SEED_TEXTS.values() for line in text.splitlines()})
REJECT_REASONS = {"empty", "binary", "undecodable", "nul_byte", "symlink", "too_large", "no_text", "unreadable"}
BUILD = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])
PARSE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------------------ strategies

# any character, with the ones that shape a page (line endings, white space, controls) drawn often
SHAPING = "\n\r\t \x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\u3000\xa0\x00\x01\x1b\ufeff\u200b"
any_char = st.one_of(st.characters(), st.sampled_from(SHAPING))
any_text = st.text(any_char, max_size=400)
line_endings = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\n \n", "\r\r"])


@st.composite
def page_like_text(draw) -> str:
    """Lines of the seeds (section words, titles, dates, menus, paragraphs, trailers), random lines, and
    random separators, in any order and number, some of them repeated."""
    pieces = draw(st.lists(st.one_of(st.sampled_from(SEED_LINES), any_text), min_size=0, max_size=25))
    if pieces and draw(st.booleans()):
        start = draw(st.integers(0, len(pieces) - 1))
        pieces += pieces[start:] * draw(st.integers(1, 3))  # a body written two or more times
    out = []
    for piece in pieces:
        out.append(piece)
        out.append(draw(line_endings))
    return "".join(out)


texts = st.one_of(any_text, page_like_text())

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "gb18030", "gbk", "shift_jis",
             "euc-kr", "cp1252", "latin-1"]
BOMS = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE, "utf-32-le": codecs.BOM_UTF32_LE}


def encode(text: str, encoding: str, errors: str) -> bytes:
    return BOMS.get(encoding, b"") + text.encode(encoding, errors)


@st.composite
def encoded_text(draw) -> bytes:
    """Random text (lone surrogates included) in a random encoding; what the encoding cannot hold is
    replaced, dropped, escaped, or written anyway (surrogatepass: bytes that are not valid UTF-8/16)."""
    text = draw(st.one_of(texts, st.text(st.characters(codec=None, categories=None), max_size=200)))
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding.startswith("utf"):
        return encode(text, encoding, draw(st.sampled_from(["surrogatepass", "replace", "ignore"])))
    return encode(text, encoding, draw(st.sampled_from(["replace", "ignore", "xmlcharrefreplace"])))


@st.composite
def damaged_seed(draw) -> bytes:
    """A seed, possibly re-encoded, with random byte-level damage."""
    text = SEED_TEXTS[draw(st.sampled_from(sorted(SEED_TEXTS)))]
    text = text.replace("\n", draw(st.sampled_from(["\n", "\r\n", "\r"])))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "gb18030"]))
    data = bytearray(encode(text, encoding, "strict"))
    for _ in range(draw(st.integers(1, 5))):
        n = len(data)
        a = draw(st.integers(0, n))
        b = draw(st.integers(a, min(n, a + draw(st.sampled_from([1, 2, 3, 16, 200, 5000])))))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate", "nul", "splice",
                                   "crlf", "cr"]))
        if op == "delete":
            del data[a:b]
        elif op == "insert":
            data[a:a] = draw(st.binary(min_size=1, max_size=64))
        elif op == "replace":
            data[a:b] = draw(st.binary(max_size=64))
        elif op == "truncate":
            del data[a:]
        elif op == "duplicate":
            chunk = bytes(data[a:b])
            at = draw(st.integers(0, len(data)))
            data[at:at] = chunk * draw(st.integers(1, 3))
        elif op == "nul":
            data[a:a] = b"\x00"
        elif op == "splice":  # a stretch of a seed in another encoding, dropped into this file
            other = SEED_TEXTS[draw(st.sampled_from(sorted(SEED_TEXTS)))]
            i = draw(st.integers(0, len(other)))
            piece = other[i:i + draw(st.integers(1, 300))]
            data[a:b] = piece.encode(draw(st.sampled_from(["utf-8", "gb18030", "utf-16-le", "cp1252", "shift_jis"])),
                                     "replace")
        elif op == "crlf":
            data[:] = bytes(data).replace(b"\n", b"\r\n")
        elif op == "cr":
            data[:] = bytes(data).replace(b"\r\n", b"\n").replace(b"\n", b"\r")
    return bytes(data)


# ------------------------------------------------------------------------------------------------ the checks


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _decoded(data: bytes, encoding: str) -> str:
    """The decoded source as the spec defines it: bytes decoded with source_encoding, BOM dropped."""
    text = data.decode(encoding)
    return text[1:] if encoding.startswith(("utf-16", "utf-32")) and text.startswith("\ufeff") else text


def _check_cover(text: str, paragraphs: list[tuple[int, int]], removed: list[tuple[int, int]]) -> None:
    owner = [0] * len(text)
    for start, end in paragraphs + removed:
        assert 0 <= start < end <= len(text), (start, end, len(text))
        for i in range(start, end):
            owner[i] += 1
    twice = [i for i, n in enumerate(owner) if n > 1]
    assert twice == [], f"character {twice[0]} ({text[twice[0]]!r}) is in {owner[twice[0]]} spans"
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and owner[i] == 0]
    assert lost == [], \
        f"character {lost[0]} {text[lost[0]]!r} is in no span: {text[max(0, lost[0] - 20):lost[0] + 20]!r}"


def _build_and_check(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        seeds, out = Path(tmp) / "in", Path(tmp) / "out"
        for rel, data in files.items():
            (seeds / rel).parent.mkdir(parents=True, exist_ok=True)
            (seeds / rel).write_bytes(data)
        summary = build(Options(seeds=seeds, out=out, allow_rejects=True, workers=1))
        report = json.loads((out / "build_report.json").read_text(encoding="utf-8"))
        entries = report["files"]
        assert sorted(f["path"] for f in entries) == sorted(files), "exactly one files entry per input"
        assert {f["outcome"] for f in entries} <= {"article", "duplicate", "rejected"}
        for f in entries:  # shown by --hypothesis-show-statistics: what the examples exercised
            event(f"{f['outcome']}: {f.get('reason') or f.get('encoding')}")
        rejects = {r["path"]: r for r in report["rejects"]}
        assert sorted(rejects) == sorted(f["path"] for f in entries if f["outcome"] == "rejected")
        assert summary.rejects == len(rejects)
        for path, r in rejects.items():
            assert r["reason"] in REJECT_REASONS and r["detail"], r
            if r["offset"] is not None:
                assert 0 <= r["offset"] < len(files[path]), r
        articles = pl.read_parquet(out / "articles" / "*.parquet")
        paragraphs = pl.read_parquet(out / "paragraphs" / "*.parquet")
        assert sorted(articles["source_path"]) == sorted(f["path"] for f in entries if f["outcome"] != "rejected")
        for row in articles.iter_rows(named=True):
            data = files[row["source_path"]]
            assert row["source_bytes"] == len(data) and row["source_sha256"] == hashlib.sha256(data).hexdigest()
            text = _decoded(data, row["source_encoding"])
            assert text.strip(), "an accepted file has text"
            removed = [(s["char_start"], s["char_end"]) for s in row["removed"]]
            if row["duplicate_of"]:
                continue  # a duplicate keeps its article row but no paragraphs
            paras = paragraphs.filter(pl.col("article_id") == row["article_id"]).sort("position")
            assert paras.height == row["paragraph_count"] >= 1
            assert paras["kind"][0] == "title" and paras["text"][0] == row["title"]
            for p in paras.iter_rows(named=True):
                assert p["text"] == _fold(text[p["char_start"]:p["char_end"]])
            _check_cover(text, list(zip(paras["char_start"], paras["char_end"])), removed)


# ------------------------------------------------------------------------------------------ build properties


@BUILD
@given(st.lists(encoded_text(), min_size=1, max_size=3))
def test_random_text_in_any_encoding(datas):
    _build_and_check({f"r{i}.txt": data for i, data in enumerate(datas)})


@BUILD
@given(st.lists(st.binary(max_size=600), min_size=1, max_size=3))
def test_random_bytes(datas):
    _build_and_check({f"b{i}.txt": data for i, data in enumerate(datas)})


@BUILD
@given(damaged_seed(), st.lists(damaged_seed(), max_size=2), st.booleans())
def test_damaged_seeds(first, more, with_original):
    files = {"d0.txt": first} | {f"sub/d{i + 1}.txt": data for i, data in enumerate(more)}
    if with_original:  # an intact seed beside its damaged copies: near duplicates or not, never lost
        files["orig/000.txt"] = (SEEDS / "000_649e56bae12c91cd.txt").read_bytes()
        files["orig/002.txt"] = (SEEDS / "002_64c3c0530d4eca56.txt").read_bytes()
    _build_and_check(files)


# ------------------------------------------------------------------------------------------ parse properties


def _source(text: str) -> Source:
    data = text.encode("utf-8", "surrogatepass")
    return Source("page.txt", hashlib.sha256(data).hexdigest(), len(data), "utf-8", text)


@PARSE
@given(st.one_of(texts, st.text(st.sampled_from(SHAPING.replace("\x00", "").replace("\x01", "")
                                                  .replace("\x1b", "")), max_size=40)))
def test_parse_spans_cover_every_non_space_character(text):
    if not text.strip():
        with pytest.raises(NoText):
            parse(_source(text))
        return
    page = normalize(parse(_source(text)))
    assert page.layout in ("portal", "dense", "generic")
    assert page.paragraphs and page.paragraphs[0].kind == "title"
    assert page.title == page.paragraphs[0].text != ""
    assert [p.start for p in page.paragraphs] == sorted(p.start for p in page.paragraphs), "reading order"
    assert all(p.text == _fold(text[p.start:p.end]) and p.text for p in page.paragraphs)
    assert all(text[p.start:p.end] == text[p.start:p.end].strip() for p in page.paragraphs), \
        "no white space at the ends"
    assert {s.label for s in page.removed} <= {"section_label", "date_line", "metadata_line", "site_chrome",
                                               "repeated_body", "trailer"}
    assert page.published is None or (len(page.published) == 10 and page.published[4] == "-")
    _check_cover(text, [(p.start, p.end) for p in page.paragraphs], [(s.start, s.end) for s in page.removed])


@PARSE
@given(st.sampled_from(sorted(SEED_TEXTS)), st.sampled_from(["\n", "\r\n", "\r"]), st.integers(1, 4))
def test_parse_seed_body_repeated_any_line_ending(name, ending, copies):
    """A seed with its body (first paragraph after the title to the last paragraph) written ``copies`` times and
    its line endings changed: the paragraphs are the seed's, and every later copy is removed as repeated_body."""
    base = SEED_TEXTS[name]
    original = normalize(parse(_source(base)))
    b0, b1 = original.paragraphs[1].start, original.paragraphs[-1].end
    sep = "\n\n" if "\n\n" in base else "\n"
    text = (base[:b1] + (sep + base[b0:b1]) * (copies - 1) + base[b1:]).replace("\n", ending)
    page = normalize(parse(_source(text)))
    _check_cover(text, [(p.start, p.end) for p in page.paragraphs], [(s.start, s.end) for s in page.removed])
    assert [(p.kind, p.text) for p in page.paragraphs] == [(p.kind, p.text) for p in original.paragraphs]
    assert (page.title, page.published, page.layout) == (original.title, original.published, original.layout)
    body = base[b0:b1].replace("\n", ending)
    first = text.index(body)
    later = [i for i in range(first + 1, len(text)) if text.startswith(body, i)]
    assert len(later) == copies - 1
    repeated = {i for s in page.removed if s.label == "repeated_body" for i in range(s.start, s.end)}
    for start in later:
        assert all(i in repeated for i in range(start, start + len(body)) if not text[i].isspace())
