"""Stage 5, deduplicate: the same article saved twice (or once in GB18030 and once in UTF-8) is kept once.

Two pages are duplicates when they have the same language and the same text once chrome is removed:
paragraph texts compared case-folded, punctuation and white space ignored. Near duplicates (a few words
changed, a paragraph more or less) are pages whose MinHash signatures over word 5-shingles (characters
for scripts written without spaces) agree on at least ``NEAR`` of their values; candidates are found by
banding, so the cost grows with the corpus, not its square. Each page is reduced to a compact key by
``dedupe_key`` (per document, in the workers); ``duplicates`` sees only the keys. The first page in input
order is kept; the others keep their articles row with ``duplicate_of`` set and lose their paragraphs.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import digests, lexicon
from .digests import digest
from .lexicon import Words
from .records import Page

NEAR = 0.9  # share of equal MinHash values (an estimate of Jaccard similarity) that makes a near duplicate
_BANDS, _ROWS = 16, 4  # 64 MinHash values; pages that share all 4 values of one band are compared
_WORD = re.compile(r"[^\W_]+")
_RANDOM = np.random.default_rng(20240927)  # fixed seed: the same signatures on every machine and run
_MULTIPLY = _RANDOM.integers(1, 2**63, _BANDS * _ROWS, dtype=np.uint64) | np.uint64(1)
_ADD = _RANDOM.integers(0, 2**63, _BANDS * _ROWS, dtype=np.uint64)


@dataclass(frozen=True, slots=True)
class DedupeKey:
    lang: str
    exact: str  # sha256 of the page's tokens' digests, in order
    signature: tuple[int, ...]  # MinHash


def _word_tokens(word: str) -> list[str]:
    """A space-separated word's tokens: its runs of word characters, case-folded."""
    return _WORD.findall(word.casefold())


# per word of the lexicon: its tokens' digests, and how many letters they hold
_TOKENS = lexicon.Runs(lexicon.LEXICON, lambda word: b"".join(map(digest, _word_tokens(word))))
_LETTERS = lexicon.Rows(lexicon.LEXICON, 1, np.int64,
                        lambda words: np.array([sum(map(len, _word_tokens(w))) for w in words]).reshape(-1, 1))


def _token_hashes(page: Page, words: Words) -> np.ndarray:
    """The page's tokens' hashes, in order: its words (the runs of word characters, case-folded) or, for
    scripts written without spaces, its characters. A token never spans a space, so the page's tokens are its
    space-separated words' (``words``) tokens, in turn."""
    hashed = _TOKENS(words)
    if len(hashed) and int(_LETTERS(words).sum()) / len(hashed) > 12:  # no spaces: characters are the tokens
        text = " ".join(p.text for p in page.paragraphs)
        return digests.hashes(list("".join(_WORD.findall(text.casefold()))))
    return hashed


def dedupe_key(page: Page, words: Words | None = None) -> DedupeKey:
    """``words``: the lexicon's view of the page's paragraphs' texts (looked up here if not given)."""
    words = lexicon.LEXICON.words([p.text for p in page.paragraphs]) if words is None else words
    tokens = _token_hashes(page, words)
    exact = hashlib.sha256(tokens.astype("<u8", copy=False).tobytes()).hexdigest()
    hashed = tokens if len(tokens) else np.zeros(1, dtype=np.uint64)
    with np.errstate(over="ignore"):  # 5-shingle hashes: a polynomial over token hashes, mod 2**64
        grams = hashed[: max(1, len(hashed) - 4)].copy()
        for k in range(1, min(5, len(hashed))):  # in place: no new array per step
            grams *= np.uint64(0x100000001B3)
            grams += hashed[k: k + len(grams)]
        # one row per MinHash function: the minimum runs along contiguous memory, which is faster. Repeated
        # shingles are left in: they cannot change a minimum, and removing them costs more than they do.
        values = np.multiply.outer(_MULTIPLY, grams)
        values += _ADD[:, None]
        signature = values.min(axis=1)
    return DedupeKey(page.lang, exact, tuple(signature.tolist()))


def duplicates(keys: Sequence[DedupeKey]) -> dict[int, int]:
    """{index of a duplicate: index of the kept page it duplicates}, for keys given in input order.

    A page is an exact duplicate of the kept page of its language with the same tokens; else a near duplicate
    of the first kept page (in input order) of its language that shares one band of MinHash values with it
    and agrees with it on ``NEAR`` of them; else it is kept. The pages that share a band are found for all
    pages at once (numpy, band by band); only those few are compared one by one."""
    n = len(keys)
    if not n:
        return {}
    langs = sorted({k.lang for k in keys})
    lang = np.array([langs.index(k.lang) for k in keys], dtype=np.uint64)
    signature = np.array([k.signature for k in keys], dtype=np.uint64)
    runs: dict[int, list[int]] = defaultdict(list)  # page -> the bands it shares with other pages (as run ids)
    count = 0
    for b in range(_BANDS):
        band = np.column_stack([lang, signature[:, b * _ROWS:(b + 1) * _ROWS]])
        order = np.lexsort(band.T)  # equal rows side by side, each run in input order (the sort is stable)
        starts = np.concatenate(([0], np.flatnonzero(np.any(band[order][1:] != band[order][:-1], axis=1)) + 1))
        ends = np.append(starts[1:], n)
        shared = ends - starts > 1  # most bands are a page's own
        for start, end in zip(starts[shared].tolist(), ends[shared].tolist()):
            for i in order[start:end].tolist():
                runs[i].append(count)
            count += 1
    kept: list[list[int]] = [[] for _ in range(count)]  # per shared band, the kept pages holding it so far
    exact: dict[tuple[str, str], int] = {}
    found: dict[int, int] = {}
    for i, key in enumerate(keys):
        if (key.lang, key.exact) in exact:
            found[i] = exact[(key.lang, key.exact)]
            continue
        for j in sorted({j for run in runs.get(i, ()) for j in kept[run]}):
            if int(np.count_nonzero(signature[i] == signature[j])) >= NEAR * signature.shape[1]:
                found[i] = j
                break
        else:
            exact[(key.lang, key.exact)] = i
            for run in runs.get(i, ()):
                kept[run].append(i)
    return found
