"""Exact and near duplicates: kept once, the others marked duplicate_of, never linked, paragraphs not repeated."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import polars as pl
import pytest

from builder.dedupe import DedupeKey, dedupe_key, duplicates
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


def _reference_duplicates(keys: list[DedupeKey]) -> dict[int, int]:
    """The definition, page by page against every kept page before it (quadratic): the kept page of the same
    language and tokens, else the first kept page of the language sharing a band and 90% of the values."""
    found: dict[int, int] = {}
    kept: list[int] = []
    for i, key in enumerate(keys):
        same_language = [j for j in kept if keys[j].lang == key.lang]
        exact = [j for j in same_language if keys[j].exact == key.exact]
        near = [j for j in same_language
                if any(key.signature[b:b + 4] == keys[j].signature[b:b + 4] for b in range(0, 64, 4))
                and sum(x == y for x, y in zip(key.signature, keys[j].signature)) >= 0.9 * 64]
        if exact or near:
            found[i] = (exact or near)[0]
        else:
            kept.append(i)
    return found


def _random_keys(seed: int) -> list[DedupeKey]:
    """Pages and altered copies of earlier ones (some values changed, the language or the text kept or not),
    with values from a small range so that bands are often shared by chance."""
    rng = np.random.default_rng(seed)
    keys: list[DedupeKey] = []
    for _ in range(int(rng.integers(2, 40))):
        if keys and rng.random() < 0.5:
            source = keys[int(rng.integers(0, len(keys)))]
            signature = list(source.signature)
            for _ in range(int(rng.integers(0, 12))):
                signature[int(rng.integers(0, 64))] = int(rng.integers(0, 5))
            exact = source.exact if rng.random() < 0.3 else str(rng.integers(0, 3))
            keys.append(DedupeKey(source.lang if rng.random() < 0.8 else "zz", exact, tuple(signature)))
        else:
            keys.append(DedupeKey(str(rng.choice(["aa", "bb"])), str(rng.integers(0, 1000)),
                                  tuple(int(x) for x in rng.integers(0, 5, 64))))
    return keys


@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed-{seed}") for seed in range(40)])
def test_duplicates_follow_the_definition(seed: int) -> None:
    """Banding finds the same duplicates as comparing every page with every kept page before it."""
    keys = _random_keys(seed)
    assert duplicates(keys) == _reference_duplicates(keys)
