"""Exact and near duplicates: kept once, the others marked duplicate_of, never linked, paragraphs not repeated."""

from __future__ import annotations

import hashlib
import json

import polars as pl
import pytest

from builder.dedupe import dedupe_key
from builder.pipeline import Options, build
from builder.records import Page, Paragraph, Source
from conftest import SEEDS

PT = (SEEDS / "000_649e56bae12c91cd.txt").read_text(encoding="utf-8")
ZH = (SEEDS / "002_64c3c0530d4eca56.txt").read_text(encoding="utf-8")
IT = (SEEDS / "003_a515efed1dfb9b2d.txt").read_text(encoding="utf-8")


def _edit_one_word(text: str) -> bytes:
    return text.replace("tempestade", "tormenta", 1).encode("utf-8")


CASES = [  # files written into the input folder, and which of them must be duplicates of which
    pytest.param({"a.txt": PT.encode(), "b.txt": PT.encode()}, {"b.txt": "a.txt"}, id="same-page-twice"),
    pytest.param({"a.txt": ZH.encode("gb18030"), "b.txt": ZH.encode("utf-8")}, {"b.txt": "a.txt"},
                 id="gb18030-and-utf8-copy"),
    pytest.param({"a.txt": PT.encode(), "b.txt": PT.replace("\n", "\r\n").encode("utf-8-sig")}, {"b.txt": "a.txt"},
                 id="bom-and-crlf-copy"),
    pytest.param({"a.txt": PT.encode(), "sub/c.txt": _edit_one_word(PT)}, {"sub/c.txt": "a.txt"},
                 id="near-duplicate-one-word-changed"),
    pytest.param({"a.txt": PT.encode(), "b.txt": PT.replace("notícias", "mundo", 1).encode()}, {"b.txt": "a.txt"},
                 id="other-section-word-same-text"),
    pytest.param({"a.txt": PT.encode(), "b.txt": ZH.encode(), "c.txt": IT.encode()}, {},
                 id="different-articles-are-not-duplicates"),
]


@pytest.mark.parametrize("files, expected", CASES)
def test_duplicates(tmp_path, files, expected):
    seeds = tmp_path / "in"
    for rel, data in files.items():
        (seeds / rel).parent.mkdir(parents=True, exist_ok=True)
        (seeds / rel).write_bytes(data)
    build(Options(seeds=seeds, out=tmp_path / "out"))
    articles = pl.read_parquet(tmp_path / "out" / "articles" / "*.parquet")
    ids = dict(zip(articles["source_path"], articles["article_id"]))
    got = {r["source_path"]: r["duplicate_of"] for r in articles.iter_rows(named=True) if r["duplicate_of"]}
    assert got == {dup: ids[kept] for dup, kept in expected.items()}
    paragraphs = pl.read_parquet(tmp_path / "out" / "paragraphs" / "*.parquet")
    assert set(paragraphs["article_id"]) == {ids[p] for p in files if p not in expected}
    assert articles.filter(pl.col("duplicate_of").is_not_null())["paragraph_count"].to_list() == [0] * len(expected)
    report = json.loads((tmp_path / "out" / "build_report.json").read_text())
    assert report["outcomes"].get("duplicate", 0) == len(expected)


# The key's tokens (through their 64-bit blake2b digests) and its first MinHash values, pinned: the signature
# decides near duplicates, so a faster implementation must give the same one.
def _page(*texts: str) -> Page:
    return Page(Source("p.txt", "", 0, "", ""), "generic", "", None,
                tuple(Paragraph(0, 0, "body", t) for t in texts), (), lang="xx")


@pytest.mark.parametrize(
    "texts, tokens, signature",
    [
        pytest.param(("Hello_world, HELLO wörld!",), ["hello", "world", "hello", "wörld"],
                     (17355347048476993384, 14225740984596840232, 6159291688035912637), id="words"),
        pytest.param(("One two three four five six", "seven"),
                     ["one", "two", "three", "four", "five", "six", "seven"],
                     (1101069789707210100, 9007086931734595883, 2005380834673497161), id="several-shingles"),
        pytest.param(("深陷高管离职风波的OpenAI最近点燃了吃瓜群众", "Ab"),
                     list("深陷高管离职风波的openai最近点燃了吃瓜群众ab"),
                     (668311391298799027, 830045134723072154, 1712827704275927754), id="characters-as-tokens"),
        pytest.param(("one two three four five one two three four five",),
                     ["one", "two", "three", "four", "five"] * 2,
                     (1338039336124251975, 4577666027191108359, 4049120880988538794), id="repeated-shingle"),
        pytest.param(("!!! ---",), [],
                     (6469070826769519580, 7638980892615003092, 5109505726866483409), id="no-tokens"),
    ],
)
def test_dedupe_key(texts: tuple[str, ...], tokens: list[str], signature: tuple[int, ...]) -> None:
    key = dedupe_key(_page(*texts))
    digests = b"".join(hashlib.blake2b(t.encode(), digest_size=8).digest() for t in tokens)
    assert key.exact == hashlib.sha256(digests).hexdigest()
    assert len(key.signature) == 64 and all(type(v) is int for v in key.signature)
    assert key.signature[:3] == signature
