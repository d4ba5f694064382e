"""Translation links over a whole corpus: which articles translate each other, and their aligned paragraphs.

Three steps, so that the cost grows with the corpus, not with its square:

1. ``link_features``: per article, in the workers, a compact key of a few hundred bytes (language, day,
   hashed anchors, a static document vector from ``builder.vectors``, a few counts; no text) and a sketch
   for the screen (a static vector and a length per paragraph). No full encoder.
2. ``candidate_batches``: blocking on keys only. An article meets articles in other languages dated within
   ``WINDOW`` days of it; an undated one meets those sharing a rare anchor and, in each other language, its
   ``NEAREST`` nearest by document vector less its language's mean (among all of them in a language of at
   most ``EXACT_UP_TO`` articles, else among those ``builder.nearest``'s trees give it, so that its cost does not
   grow with the corpus). Of these it keeps, per other language, the ``PER_LANG`` best by a
   cheap key score. The pairs come as they are settled (the undated articles' first, then day by day), so
   that the screen can start at once.
3. ``screen``: each candidate pair's best monotone path through its paragraphs' static likeness (cosine and
   length agreement). Translations keep their paragraphs in order, so they score far above pages that only
   share a topic or a quote; pairs below ``SCREEN_MIN`` are not aligned, nor those whose path pairs less
   than ``SCREEN_COVER`` of either text (pages that share a few translated paragraphs). This is what keeps the
   full encoder (some 80 times the cost of reading and parsing a paragraph) to the articles that may be
   translations.
4. ``link_pair``: for each pair that passes, align the paragraphs (``builder.align``, with the full encoder
   run once per such article) and link the articles when aligned beads cover enough of both texts. Articles
   of one language are never linked. The build runs steps 3 and 4 in units of pairs on the executor.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np

from . import digests, lexicon, nearest, vectors
from .align import ANCHOR, MODEL_LANGS, Bead, Units, align_units, anchor, length_z, units_of
from .lexicon import Words
from .vectors import DIMS

WINDOW = 3  # days between the dates of two translations
PER_LANG = 2  # candidates kept per article and other language
MAX_DF = 64  # anchors in more articles than this do not block
NEAREST = 4  # an undated article also meets this many articles of each other language, nearest by vector
EXACT_UP_TO = 2048  # ... among all of them in a language of at most this many articles; else among those of
# the leaves it reaches in the language's trees (``builder.nearest``: approximate, but linear)
UNDATED_BATCH = 64  # undated articles whose pairs are handed to the screen together
UNDATED_CHUNK = 8192  # undated articles whose nearest are found together (the more, the more share a leaf)
LINK_SCORE = 0.435  # an article pair links when its aligned paragraphs cover at least this (score-weighted)
MERGE_WEIGHT = 0.8  # a 2-1 or 1-2 bead is weaker evidence of translation than a 1-1 bead
LINK_SCORE_NO_MODEL = 0.6  # the same without embeddings: anchors and lengths alone separate less
CASED_SHARE = 0.02
VECTOR_CHARS = 1500  # characters of an article its blocking vector is made of
SKETCH_PARAGRAPHS = 64  # paragraphs of an article the screen looks at (the first ones)
SCREEN_COST = 0.25  # a paragraph pair adds its static likeness above this to the screen's path
SCREEN_LENGTH = 0.3  # weight of length agreement in the likeness (the rest: static cosine)
SCREEN_MIN = 0.10  # a pair whose path scores less, per paragraph of its longer side, is not aligned
SCREEN_COVER = 0.5  # ... nor one whose path pairs less of either side's characters (``screen_cover``)
BOUND_MARGIN = 1e-3  # a pair is settled by its bound (``screen_indexed``) only this far under: float32 sums round
SCREEN_BATCH = 64  # pairs screened together (numpy over a batch of padded matrices)
SCREEN_GROUP = 16  # batches whose pairs are sorted together (``_batches``). On the 4000-page benchmark corpus's
# 57,301 candidate pairs the batches hold 1.32 times the paragraph pairs they score (1.83 in batches of 256 by the
# longer side): the screen's CPU time went from 1.05-1.1 s to 0.85-0.9 s
# the bytes other than Latin letters, and other than upper-case ones (deleted from a text's ASCII to count them)
_NOT_LATIN = bytes(b for b in range(256) if not (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A))
_NOT_UPPER = bytes(b for b in range(256) if not 0x41 <= b <= 0x5A)


@dataclass(frozen=True)
class LinkKey:
    """What blocking knows of an article: a few hundred bytes, no text."""

    article_id: str
    lang: str
    day: int | None  # proleptic ordinal of the publication date
    anchors: np.ndarray  # sorted unique uint64 hashes of numbers, @handles, URLs, Latin-script words of 4+ letters
    vector: np.ndarray | None  # float16 unit-norm static document vector (builder.vectors); None when not covered
    paragraphs: int
    latin: tuple[int, int]  # Latin letters in the text, and how many of them are upper case


def _day(published: str | None) -> int | None:
    return dt.date.fromisoformat(published).toordinal() if published else None


def _ordered(paragraphs: Sequence[dict]) -> list[dict]:
    return sorted(paragraphs, key=lambda p: p["position"])


def article_units(article: dict, paragraphs: Sequence[dict]) -> Units:
    """The aligner's view of an article's paragraphs, title first (runs the full encoder)."""
    return articles_units([(article, paragraphs)])[0]


def articles_units(articles: Sequence[tuple[dict, Sequence[dict]]]) -> list[Units]:
    """``article_units`` of several articles, their paragraphs through the full encoder together."""
    return units_of([([p["text"] for p in _ordered(paragraphs)], article["lang"]) for article, paragraphs in articles])


@dataclass(frozen=True)
class Sketch:
    """What the screen knows of an article's first ``SKETCH_PARAGRAPHS`` paragraphs; no text."""

    vectors: np.ndarray | None  # (n, DIMS) float16 unit-norm static vectors; None when the model does not cover
    lengths: np.ndarray  # (n,) characters per paragraph, float32


def _opening(texts: Sequence[str]) -> tuple[int, str | None]:
    """The first ``VECTOR_CHARS`` characters (the title first), of which a blocking vector is made (its cost
    stays flat however long the page): how many whole texts, and the cut one after them (None if none)."""
    room = VECTOR_CHARS
    for n, t in enumerate(texts):
        if len(t) >= room:
            return n + (len(t) == room), t[:room] if len(t) > room else None
        room -= len(t)
    return len(texts), None


def _key_anchor(match: str) -> bytes:
    """The 8-byte digest of a match of ``ANCHOR``'s anchor when the blocking key keeps it (numbers, @handles,
    URLs and Latin-script words of 4+ letters), else b""."""
    x = anchor(match)
    return digests.digest(x) if x and (not x.isalpha() or len(x) >= 4) else b""


def _word_anchors(word: str) -> bytes:
    """The digests of the anchors the blocking key keeps in a space-separated word."""
    return b"".join(map(_key_anchor, set(ANCHOR.findall(word))))


_ANCHORS = lexicon.Runs(lexicon.LEXICON, _word_anchors)


def _key_anchors(text: str, words: Words) -> np.ndarray:
    """Sorted unique uint64 hashes of the anchors the blocking key keeps, of ``text`` (its ``words``). No anchor
    spans a space but an @handle written "@ name", so they are its words' anchors, unless it holds "@ "."""
    if "@ " in text:
        found = b"".join(map(_key_anchor, set(ANCHOR.findall(text))))
        return _sorted_unique(np.frombuffer(found, dtype="<u8").astype(np.uint64, copy=False))
    return _sorted_unique(_ANCHORS(words))


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``: a sort and a mask, which for uint64 is some 3 times faster than numpy's hashing."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True, return_counts=True)[1:]`` for uint64: each value's rank among
    the distinct values, and how often each occurs. The values are told apart by hashing (pyarrow's
    ``dictionary_encode``) and only the distinct ones sorted: some 5 times faster than numpy's sort of all."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = np.ascontiguousarray(values, dtype=np.uint64)
    # an Arrow array over the values' bytes (``pa.array`` would import pandas)
    found = pc.dictionary_encode(pa.Array.from_buffers(pa.uint64(), len(values), [None, pa.py_buffer(values)]))
    distinct = lexicon.arrow_values(found.dictionary, np.uint64)
    first = lexicon.arrow_values(found.indices, np.int32)  # in order of appearance
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[np.argsort(distinct)] = np.arange(len(distinct))
    inverse = rank[first]
    return inverse, np.bincount(inverse, minlength=len(distinct))


def link_features(article: dict, paragraphs: Sequence[dict], words: Words | None = None) -> tuple[LinkKey, Sketch]:
    """The blocking key and the screen's sketch of an article (per document, in the workers; cheap: the
    tokenizer and a table, no full encoder). ``words``: the lexicon's view of its paragraphs' texts, in order
    (looked up here if not given)."""
    texts = [p["text"] for p in _ordered(paragraphs)]
    words = lexicon.LEXICON.words(texts) if words is None else words
    # one text, a blank line between paragraphs: no anchor reaches across it (an @handle takes one space)
    text = "\n\n".join(texts)
    covered = (not article["lang"] or article["lang"] in MODEL_LANGS) and bool(texts)
    # the opening (for the vector) lies within the sketch's paragraphs
    whole, cut = _opening(texts[:SKETCH_PARAGRAPHS])
    ascii_bytes = text.encode("ascii", "ignore")  # Latin letters are counted among these
    key = LinkKey(
        article_id=article["article_id"],
        lang=article["lang"],
        day=_day(article["published"]),
        anchors=_key_anchors(text, words),
        vector=vectors.vector(words, whole, cut) if covered else None,
        paragraphs=len(texts),
        latin=(len(ascii_bytes.translate(None, _NOT_LATIN)), len(ascii_bytes.translate(None, _NOT_UPPER))),
    )
    lengths = np.array([len(t) for t in texts[:SKETCH_PARAGRAPHS]], dtype=np.float32)
    sketch = vectors.text_rows(words, len(lengths)) if covered else None
    return key, Sketch(sketch, lengths)


def candidate_pairs(keys: Sequence[LinkKey]) -> Iterator[tuple[str, str]]:
    """Pairs (lower article_id first) worth aligning, in sorted order (``candidate_batches``, all together)."""
    yield from sorted(pair for batch in candidate_batches(keys) for pair in batch)


def candidate_batches(keys: Sequence[LinkKey]) -> Iterator[list[tuple[str, str]]]:
    """Pairs (lower article_id first) worth aligning, each once, in batches as blocking settles them, so that
    the screen can start on the first while blocking goes on: the pairs of undated articles, ``UNDATED_BATCH``
    articles at a time, then those of dated articles by the later of their two days, in day order (so that
    what is left to screen when blocking ends is a day's pairs). Each article chooses, per other language, its
    ``PER_LANG`` best candidates by a cheap likeness of keys: document-vector cosine plus the idf-weighted share
    of rare anchors the two have in common.

    The articles of one day share their pool (the articles dated within ``WINDOW`` days); an undated article
    has a pool of its own. Consecutive days (or undated articles) are scored together over their pools' union,
    each row masked to its own pool (``_groups``). Cosines are taken in float64 over the float16 vectors:
    exact, so the same whatever the grouping or the BLAS."""
    chooser = _Chooser(keys)
    with_vector = np.flatnonzero(chooser.has_vector)
    members = {lang: with_vector[chooser.lang[with_vector] == lang] for lang in np.unique(chooser.lang[with_vector])}
    undated = np.array([i for i, k in enumerate(keys) if k.day is None], dtype=np.int64)
    forests = {lang: chooser.forest(among) for lang, among in members.items()} if len(undated) else {}
    found: set[int] = set()  # pairs as codes (``_Chooser.choose``)
    # the nearest of UNDATED_CHUNK undated articles at a time (the more, the fewer products), in whole batches;
    # the first chunks smaller (one batch, then twice as many each time), so that the screen starts sooner
    chunk = -(-UNDATED_CHUNK // UNDATED_BATCH) * UNDATED_BATCH
    size, start = UNDATED_BATCH, 0
    while start < len(undated):
        part = undated[start:start + size]
        start, size = start + len(part), min(chunk, 2 * size)
        pools = _undated_pools(chooser, part, members, forests)
        for at in range(0, len(part), UNDATED_BATCH):
            batch = part[at:at + UNDATED_BATCH]
            new: set[int] = set()
            for group in _groups((pool, 1) for pool in pools[at:at + UNDATED_BATCH]):
                new.update(chooser.choose(batch[group.rows], group.pool, group.allowed)[0].tolist())
            new -= found  # two undated articles may choose each other (from different batches)
            found |= new
            if new:
                yield chooser.pairs(sorted(new))
    by_day: dict[int, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        if k.day is not None:
            by_day[k.day].append(i)
    waiting: dict[int, list[int]] = defaultdict(list)  # new pairs by the later day of the two
    days = sorted(by_day)
    window = ((np.array(sorted(j for d in range(day - WINDOW, day + WINDOW + 1) for j in by_day.get(d, ())),
                        dtype=np.int64), len(by_day[day])) for day in days)  # each day's pool, as it comes
    for group in _groups(window):
        rows = np.concatenate([by_day[days[k]] for k in group.rows]).astype(np.int64)
        step = max(1, BLOCK_CELLS // len(group.pool))
        for at in range(0, len(rows), step):
            # a dated article's pool holds dated ones only: none of these pairs was found above
            allowed = None if group.allowed is None else group.allowed[at:at + step]
            codes, later = chooser.choose(rows[at:at + step], group.pool, allowed)
            for code, day in zip(codes.tolist(), chooser.day[later].tolist()):
                if code not in found:
                    found.add(code)
                    waiting[day].append(code)
        # a pair is settled once the days of both its articles are done: later days only find later pairs
        last = days[group.rows[-1]]
        for settled in sorted(d for d in waiting if d <= last):
            yield chooser.pairs(sorted(waiting.pop(settled)))


def _undated_pools(chooser: _Chooser, batch: np.ndarray, members: Mapping[int, np.ndarray],
                   forests: Mapping[int, nearest.Forest]) -> list[np.ndarray]:
    """Each undated article of ``batch``'s pool (sorted): the articles sharing a rare anchor with it (itself too),
    and its ``NEAREST`` nearest of each other language by centered vector (``members``: each language's articles
    with a vector; its nearest overall are its own language's), found by that language's forest
    (``_Chooser.forest``). In blocks of at most ``BLOCK_CELLS`` likenesses, so that memory does not grow with
    the undated articles times the corpus. A row's likenesses, exact (see ``candidate_batches``), and so its
    nearest, do not depend on the rows beside it."""
    n = max(len(chooser.ids), 1)
    centered = chooser.centered[0]
    codes = [chooser.anchors.sharers(batch)]  # as place in ``batch`` * n + article
    for lang, among in members.items():
        asking = np.flatnonzero(chooser.has_vector[batch] & (chooser.lang[batch] != lang))
        forest = forests[lang]
        step = max(1, BLOCK_CELLS // forest.width)
        for start in range(0, len(asking), step):
            rows = asking[start:start + step]
            near, item = forest.nearest(centered[batch[rows]], NEAREST)
            codes.append(rows[near] * n + among[item])
    code = np.unique(np.concatenate(codes))
    return np.split(code % n, np.searchsorted(code // n, np.arange(1, len(batch))))


@dataclass(frozen=True)
class _Group:
    """Choosers scored together: which of them (``rows``), the union of their pools (``pool``, sorted), and
    which of its articles each may choose (``allowed``; None when all)."""

    rows: list[int]
    pool: np.ndarray
    allowed: np.ndarray | None


def _groups(choosers: Iterable[tuple[np.ndarray, int]]) -> Iterator[_Group]:
    """Consecutive choosers (each a pool, sorted, and how many rows share it) in groups whose rows times
    summed pool sizes stay within ``GROUP_CELLS`` (or one chooser alone), so that a day or an undated article
    does not cost a call of its own: their pools' union, each row masked to its own pool. The cells outside a
    row's pool are scored but never chosen, and a cell's score does not depend on the others, so the choice is
    the same. ``choosers`` is read one ahead of the group it yields."""
    group: list[tuple[np.ndarray, int]] = []
    first = rows = cells = 0
    for k, (pool, size) in enumerate(choosers):
        if group and (rows + size) * (cells + len(pool)) > GROUP_CELLS:
            yield _group(first, group)
            group, first, rows, cells = [], k, 0, 0
        group.append((pool, size))
        rows, cells = rows + size, cells + len(pool)
    if group:
        yield _group(first, group)


def _group(first: int, choosers: Sequence[tuple[np.ndarray, int]]) -> _Group:
    if len(choosers) == 1:
        return _Group([first], choosers[0][0], None)
    union = np.unique(np.concatenate([pool for pool, _ in choosers]))
    allowed = np.zeros((sum(size for _, size in choosers), len(union)), dtype=bool)
    at = 0
    for pool, size in choosers:
        allowed[at:at + size, np.searchsorted(union, pool)] = True
        at += size
    return _Group(list(range(first, first + len(choosers))), union, allowed)


BLOCK_CELLS = 1 << 20  # article x pool scores computed at once, at most (unless one article's pool is larger)
GROUP_CELLS = 1 << 17  # scores of several days' (or undated articles') choosers computed together, at most


class _Chooser:
    """The keys as arrays, and each article's choice of candidates among a pool."""

    def __init__(self, keys: Sequence[LinkKey]) -> None:
        self.anchors = _Anchors(keys)
        self.has_vector = np.array([k.vector is not None for k in keys], dtype=bool)
        self.vectors = np.zeros((len(keys), DIMS), dtype=np.float64)  # a zero row where there is no vector
        for i, k in enumerate(keys):
            if k.vector is not None:
                self.vectors[i] = k.vector
        self.ids = [k.article_id for k in keys]
        langs = sorted({k.lang for k in keys})
        self.lang = np.array([langs.index(k.lang) for k in keys], dtype=np.int64) if keys else np.zeros(0, np.int64)
        by_rank = np.argsort(np.array(self.ids, dtype=object), kind="stable")
        self.id_rank = np.argsort(by_rank, kind="stable")  # an article's place in the order of the ids
        self.by_rank = [self.ids[i] for i in by_rank.tolist()]  # the ids in order
        self.day = np.array([-1 if k.day is None else k.day for k in keys], dtype=np.int64)

    @cached_property
    def centered(self) -> tuple[np.ndarray, np.ndarray]:
        """``_centered``: worked out when first asked for, since only the undated articles' search needs it."""
        return _centered(self.vectors, self.lang, self.has_vector)

    def forest(self, among: np.ndarray) -> nearest.Forest:
        """A forest over the centered vectors of ``among`` (sorted): one leaf of them all, the exact search,
        when they are at most ``EXACT_UP_TO``."""
        exact = len(among) <= EXACT_UP_TO
        centered, norm = self.centered
        return nearest.Forest(centered[among], norm[among], self.id_rank[among],
                              trees=1 if exact else nearest.TREES, leaf=max(1, len(among)) if exact else nearest.LEAF)

    def choose(self, rows: np.ndarray, pool: np.ndarray, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """For each of ``rows``, its ``PER_LANG`` best articles of ``pool`` (sorted) per other language, by
        key likeness; ties go to the greater article_id. ``allowed``: (len(rows), len(pool)), which of the pool
        each row may choose (all when None). The pairs as codes (``pairs`` reads them; in the order of their
        article ids), and for each the article of the two with the later day."""
        chosen: list[np.ndarray] = []
        by: list[np.ndarray] = []
        if len(pool):
            value = self.vectors[rows] @ self.vectors[pool].T + self.anchors.overlaps(rows, pool)
            if allowed is not None:
                value[~allowed] = -np.inf  # last of its language, and dropped below if taken
            # per other language, the best PER_LANG of each row, one at a time: the greatest value, ties to the
            # greatest article_id (the first of a sort by value, then id, both descending)
            lang, rank = self.lang[pool], self.id_rank[pool]
            mine = self.lang[rows]
            for other in np.unique(lang).tolist():
                cols = np.flatnonzero(lang == other)
                asking = np.flatnonzero(mine != other)
                if not len(asking):
                    continue
                v = value[np.ix_(asking, cols)]
                every = np.arange(len(asking))
                for _ in range(min(PER_LANG, len(cols))):
                    at = np.where(v == v.max(axis=1, keepdims=True), rank[cols], -1).argmax(axis=1)
                    keep = np.isfinite(v[every, at])
                    v[every, at] = -np.inf  # taken (or never allowed): not again
                    chosen.append(pool[cols[at[keep]]])
                    by.append(rows[asking[keep]])
        a = np.concatenate(by) if by else np.zeros(0, np.int64)
        b = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
        ra, rb = self.id_rank[a], self.id_rank[b]
        later = np.where(self.day[a] >= self.day[b], a, b)
        return np.minimum(ra, rb) * len(self.ids) + np.maximum(ra, rb), later

    def pairs(self, codes: Sequence[int]) -> list[tuple[str, str]]:
        """The article id pairs (lower first) of pair codes from ``choose``; sorted codes give sorted pairs."""
        n = len(self.ids)
        return [(self.by_rank[c // n], self.by_rank[c % n]) for c in codes]


def _centered(vectors: np.ndarray, lang: np.ndarray, has_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each article's vector less its language's mean, rounded to float16 (held in float64), and its norm.
    A language's vectors share a direction of their own (its words' pieces); without it, an article's nearest
    in another language are more often its translations (on 24,000 pages of ``benchmarks/corpus.py``, an
    undated article's translation was among its 4 nearest 68 times of 92, against 52). Exact, so the same on
    every machine: the float16 values are whole multiples of 2**-24, summed as integers; the dots of float16
    values are exact, and each norm is the square root of one."""
    centered = np.zeros_like(vectors)
    for other in np.unique(lang[has_vector]).tolist():
        rows = np.flatnonzero(has_vector & (lang == other))
        total = (vectors[rows] * 2.0 ** 24).astype(np.int64).sum(axis=0)
        mean = total / len(rows) / 2.0 ** 24
        centered[rows] = (vectors[rows] - mean).astype(np.float16)
    return centered, np.sqrt(np.einsum("ij,ij->i", centered, centered))


class _Anchors:
    """The keys' anchors as arrays: which keys hold each rare anchor (in 2 to ``MAX_DF`` keys), its idf,
    and each key's idf mass (the sum over its anchors, in sorted order)."""

    def __init__(self, keys: Sequence[LinkKey]) -> None:
        n = len(keys)
        sizes = np.array([len(k.anchors) for k in keys], dtype=np.int64)
        flat = np.concatenate([k.anchors for k in keys]) if n else np.zeros(0, np.uint64)
        owner = np.repeat(np.arange(n, dtype=np.int64), sizes)
        anchor, df = _unique_inverse(flat)
        rare = (df >= 2) & (df <= MAX_DF)
        idf = np.where(rare, np.log(n / df), 0.0)
        self.mass = np.bincount(owner, weights=idf[anchor], minlength=n)  # per key in its anchors' order
        keep = rare[anchor]
        order = np.argsort(anchor[keep], kind="stable")  # rare occurrences by anchor, then key (already in key order)
        self.holders = owner[keep][order]  # keys holding each rare anchor, anchor by anchor
        self.start = np.concatenate(([0], np.cumsum(np.where(rare, df, 0))))[:-1]
        self.df, self.idf = df, idf
        self.own = np.split(anchor[keep], np.cumsum(np.bincount(owner[keep], minlength=n))[:-1])  # rare, sorted
        self.sizes = np.array([len(o) for o in self.own], dtype=np.int64)
        self.column = np.full(n, -1, dtype=np.int64)  # scratch for ``overlaps``: a key's column in the pool, or -1

    def _rare_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rare anchors of each of ``rows``, one after the other: each one's row (its place in ``rows``),
        the anchor, and how many keys hold it."""
        mine = [self.own[i] for i in rows.tolist()]
        row = np.repeat(np.arange(len(rows), dtype=np.int64), [len(m) for m in mine])
        mine = np.concatenate(mine) if mine else np.zeros(0, np.int64)
        return row, mine, self.df[mine]

    def _holders_of(self, mine: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The keys holding each of the anchors ``mine`` (``counts`` of them each), anchor after anchor."""
        at = np.repeat(self.start[mine] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
        return self.holders[at + np.arange(int(counts.sum()))]

    def sharers(self, rows: np.ndarray) -> np.ndarray:
        """Every key holding one of the rare anchors of each of ``rows`` (the row's own key too), as codes
        place in ``rows`` * number of keys + key; once per anchor shared."""
        row, mine, counts = self._rare_of(rows)
        return np.repeat(row, counts) * len(self.sizes) + self._holders_of(mine, counts)

    def overlaps(self, rows: np.ndarray, pool: np.ndarray) -> np.ndarray:
        """(len(rows), len(pool)): for each row key and each of ``pool`` (sorted), the idf of the rare anchors
        the two share over the idf of the anchors either has."""
        row, mine, counts = self._rare_of(rows)
        if counts.sum() <= self.sizes[pool].sum():
            # few holders: each holder of the rows' anchors, looked up in the pool
            hits = self._holders_of(mine, counts)
            self.column[pool] = np.arange(len(pool))
            col = self.column[hits]
            self.column[pool] = -1
            hit = col >= 0
        else:
            # a small pool (a few days of articles): the rows' anchors looked up among the pool's
            held = [self.own[j] for j in pool.tolist()]
            where = np.repeat(np.arange(len(pool)), [len(h) for h in held])
            held = np.concatenate(held)
            order = np.lexsort((where, held))  # the pool's anchors in order, each one's holders in pool order
            held, where = held[order], where[order]
            lo = np.searchsorted(held, mine, "left")
            counts = np.searchsorted(held, mine, "right") - lo
            at = np.repeat(lo - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
            col, hit = where[at + np.arange(int(counts.sum()))], slice(None)
        # summed hit by hit: for each pair, in the order of the anchors the two share
        cells = np.repeat(row, counts)[hit] * len(pool) + col[hit]
        shared = np.bincount(cells, weights=np.repeat(self.idf[mine], counts)[hit], minlength=len(rows) * len(pool))
        shared = shared.astype(np.float64).reshape(len(rows), len(pool))
        total = self.mass[rows][:, None] + self.mass[pool][None, :] - shared
        return np.divide(shared, total, out=np.zeros_like(shared), where=total > 0)


def _erfc(x: np.ndarray) -> np.ndarray:
    """erfc for x >= 0 (Abramowitz and Stegun 7.1.26, error under 2e-7): numpy, no Python per element."""
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return poly * np.exp(-x * x)


def _gains(va: np.ndarray, la: np.ndarray, vb: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """(k, n, m): what each paragraph pair adds to the screen's path, for k pairs of padded sketches (rows
    (k, n, DIMS) and (k, m, DIMS), lengths (k, n) and (k, m)): their static likeness above ``SCREEN_COST``."""
    cos = np.clip(va @ vb.transpose(0, 2, 1), 0.0, 1.0)
    ratio = (lb.sum(axis=1) / np.maximum(la.sum(axis=1), 1.0))[:, None, None]
    gain = (1 - SCREEN_LENGTH) * cos + SCREEN_LENGTH * _erfc(length_z(la, lb, ratio)) - SCREEN_COST
    gain[(la == 0)[:, :, None] | (lb == 0)[:, None, :]] = -1.0  # padding (and empty paragraphs) never pay
    return gain


def screen_cover(a: Sketch, b: Sketch) -> float:
    """The share of each side's characters (of its sketched paragraphs) in the paragraph pairs of the screen's
    best path that gain, the smaller of the two; 1.0 when a side cannot be judged (no vectors, no text).
    A translation's path pairs most of both texts; two pages that share a few translated paragraphs (a quote, a
    wire story's opening) can score well per paragraph but pair little of them."""
    if a.vectors is None or b.vectors is None or not a.lengths.sum() or not b.lengths.sum():
        return 1.0
    gain = _gains(a.vectors[None].astype(np.float32), a.lengths[None],
                  b.vectors[None].astype(np.float32), b.lengths[None])[0].astype(np.float64)
    n, m = gain.shape
    best = np.zeros((n + 1, m + 1))  # best[i, j]: the best path through the first i and j paragraphs
    for i in range(n):
        row = best[i + 1]
        np.maximum(best[i, 1:], best[i, :-1] + gain[i], out=row[1:])
        np.maximum.accumulate(row, out=row)
    paired_a = paired_b = 0.0
    i, j = n, m
    while i and j:  # back from the end: a pair that gains where it makes the best, else a skip
        if gain[i - 1, j - 1] > 0 and best[i, j] == best[i - 1, j - 1] + gain[i - 1, j - 1]:
            paired_a += float(a.lengths[i - 1])
            paired_b += float(b.lengths[j - 1])
            i, j = i - 1, j - 1
        elif best[i, j] == best[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return min(paired_a / float(a.lengths.sum()), paired_b / float(b.lengths.sum()))


def screened(sketches: Sequence[Sketch], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether each pair ``sketches[left[k]]``, ``sketches[right[k]]`` passes the screen: a path that scores
    ``SCREEN_MIN`` per paragraph (``screen_indexed``, all pairs at once) and pairs ``SCREEN_COVER`` of both texts
    (``screen_cover``, for the few that score enough)."""
    passed = screen_indexed(sketches, left, right, floor=SCREEN_MIN) >= SCREEN_MIN
    for k in np.flatnonzero(passed).tolist():
        passed[k] = screen_cover(sketches[left[k]], sketches[right[k]]) >= SCREEN_COVER
    return passed


def screen_pairs(pairs: Sequence[tuple[str, str]], sketches: Mapping[str, Sketch]) -> np.ndarray:
    """Whether each pair of article ids passes the screen (``screened``), given each article's sketch."""
    index = {aid: k for k, aid in enumerate(sketches)}
    left, right = (np.fromiter((index[pair[side]] for pair in pairs), dtype=np.int64, count=len(pairs))
                   for side in (0, 1))
    return screened(list(sketches.values()), left, right)


def screen(pairs: Sequence[tuple[Sketch, Sketch]]) -> np.ndarray:
    """Each pair's screen score (``screen_indexed``), for pairs of sketches."""
    index: dict[int, int] = {}  # id(sketch) -> its place in ``sketches``
    sketches: list[Sketch] = []
    for pair in pairs:
        for sk in pair:
            if id(sk) not in index:
                index[id(sk)] = len(sketches)
                sketches.append(sk)
    left, right = (np.fromiter((index[id(pair[side])] for pair in pairs), dtype=np.int64, count=len(pairs))
                   for side in (0, 1))
    return screen_indexed(sketches, left, right)


def _batches(n: np.ndarray, m: np.ndarray) -> list[np.ndarray]:
    """Pairs of ``n`` by ``m`` paragraphs in batches of at most ``SCREEN_BATCH`` that are padded little: the pairs
    by ``n``, ``SCREEN_GROUP`` batches at a time, each such group by ``m``."""
    by_n = np.argsort(n, kind="stable")
    batches = []
    for start in range(0, len(by_n), SCREEN_GROUP * SCREEN_BATCH):
        group = by_n[start:start + SCREEN_GROUP * SCREEN_BATCH]
        group = group[np.argsort(m[group], kind="stable")]
        batches += [group[at:at + SCREEN_BATCH] for at in range(0, len(group), SCREEN_BATCH)]
    return batches


def screen_indexed(sketches: Sequence[Sketch], left: np.ndarray, right: np.ndarray,
                   floor: float | None = None) -> np.ndarray:
    """Each pair ``sketches[left[k]]``, ``sketches[right[k]]``'s screen score: the best monotone path of
    paragraph pairs (one to one, either side may skip) through their static likeness, per paragraph of the
    longer side; ``inf`` when a side has no vectors (the screen cannot judge it, the aligner will). Pairs are
    taken in batches of similar sizes, padded: the sketches are stacked once, each one's rows and lengths at
    an offset after a zero row that padding points at, so that a batch is padded by one gather.

    With ``floor``, a pair whose score is sure to fall under it scores ``-inf`` without its path worked out: a
    path pairs each paragraph at most once, so it gains no more than each row's best gain, summed (or each
    column's). On the 4000-page benchmark corpus's candidates, 87% are settled so. The others' scores are the
    same bits (each pair's path is worked out on its own row of the batch)."""
    scores = np.full(len(left), np.inf)
    sizes = np.fromiter((len(sk.lengths) for sk in sketches), dtype=np.int64, count=len(sketches))
    judgeable = sizes.astype(bool) & np.fromiter((sk.vectors is not None for sk in sketches), dtype=bool,
                                                 count=len(sketches))
    judged = np.flatnonzero(judgeable[left] & judgeable[right])
    stacked = [sketches[k] for k in np.flatnonzero(judgeable).tolist()]
    offset = np.zeros(len(sketches), dtype=np.int64)
    offset[judgeable] = 1 + np.cumsum(sizes[judgeable]) - sizes[judgeable]
    rows = np.concatenate([np.zeros((1, DIMS), np.float16)] + [sk.vectors for sk in stacked]).astype(np.float32)
    lengths = np.concatenate([np.zeros(1, np.float32)] + [sk.lengths for sk in stacked])

    def padded(sides: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows and lengths of the sketches ``sides``, zero-padded to the longest: (k, n, DIMS), (k, n)."""
        steps = np.arange(int(sizes[sides].max()))
        index = np.where(steps < sizes[sides][:, None], offset[sides][:, None] + steps, 0)  # row 0: zeros
        return rows[index], lengths[index]

    n_of, m_of = sizes[left[judged]], sizes[right[judged]]
    longer = np.maximum(n_of, m_of)
    for batch in _batches(n_of, m_of):
        va, la = padded(left[judged[batch]])
        vb, lb = padded(right[judged[batch]])
        n, m = la.shape[1], lb.shape[1]
        gain = _gains(va, la, vb, lb)
        if floor is not None:
            bound = np.minimum(np.maximum(gain.max(axis=2), 0).sum(axis=1, dtype=np.float64),
                               np.maximum(gain.max(axis=1), 0).sum(axis=1, dtype=np.float64))
            short = bound < floor * longer[batch] * (1 - BOUND_MARGIN)
            scores[judged[batch[short]]] = -np.inf
            batch = batch[~short]
            if not len(batch):
                continue
            # the rest's padding cut off too: a row or column of padding never changes a path
            n, m = int(n_of[batch].max()), int(m_of[batch].max())
            gain = gain[~short, :n, :m]
        best = np.zeros((len(batch), m + 1), np.float32)
        for i in range(n):  # skips gain nothing, so each row is a running maximum
            step = best.copy()
            np.maximum(best[:, 1:], best[:, :-1] + gain[:, i], out=step[:, 1:])
            best = np.maximum.accumulate(step, axis=1)
        scores[judged[batch]] = best[:, -1] / longer[batch]
    return scores


def _method(ua: Units, ub: Units) -> str:
    return ("use-m3+" if ua.vectors is not None and ub.vectors is not None else "") + "anchors+length+dp"


def _coverage(beads: Sequence[Bead], a: Units, b: Units) -> float:
    """Score-weighted share of a text's characters in aligned beads, for the less covered of the two sides
    (a text on the same events, not translated, leaves paragraphs out or pairs them by twos)."""
    aligned = [(bd, bd.score * (1.0 if len(bd.src) == len(bd.tgt) else MERGE_WEIGHT))
               for bd in beads if bd.src and bd.tgt]
    got_a = sum(w * sum(a.lengths[i] for i in bd.src) for bd, w in aligned)
    got_b = sum(w * sum(b.lengths[j] for j in bd.tgt) for bd, w in aligned)
    return min(got_a / max(a.lengths.sum(), 1.0), got_b / max(b.lengths.sum(), 1.0))


def _original(a: LinkKey, b: LinkKey) -> str | None:
    """The cased side of a pair whose other side is all lower case: case is lost in one direction only."""
    def cased(k: LinkKey) -> bool:
        return k.latin[1] > CASED_SHARE * k.latin[0]

    def lowered(k: LinkKey) -> bool:
        return k.latin[0] >= 20 and k.latin[1] == 0

    if cased(a) and lowered(b):
        return a.article_id
    if cased(b) and lowered(a):
        return b.article_id
    return None


def link_pair(ka: LinkKey, pa: Sequence[dict], ua: Units,
              kb: LinkKey, pb: Sequence[dict], ub: Units) -> list[dict]:
    """Links for one candidate pair (``ka.article_id < kb.article_id``): none, or the article link and its
    paragraph links."""
    if ka.lang == kb.lang or not len(ua.lengths) or not len(ub.lengths):
        return []
    beads = align_units(ua, ub, first_fixed=True)
    score = _coverage(beads, ua, ub)
    if score < (LINK_SCORE if ua.vectors is not None and ub.vectors is not None else LINK_SCORE_NO_MODEL):
        return []
    method = _method(ua, ub)

    def row(level: str, source: str, target: str, score: float, bead: int | None, original: str | None) -> dict:
        return {"level": level, "source_id": source, "target_id": target, "source_article_id": ka.article_id,
                "target_article_id": kb.article_id, "score": round(float(min(score, 1.0)), 6), "method": method,
                "bead": bead, "likely_original": original}

    ids_a = [p["paragraph_id"] for p in _ordered(pa)]
    ids_b = [p["paragraph_id"] for p in _ordered(pb)]
    out = [row("article", ka.article_id, kb.article_id, score, None, _original(ka, kb))]
    aligned = [bd for bd in beads if bd.src and bd.tgt]
    for number, bd in enumerate(aligned):
        out += [row("paragraph", ids_a[i], ids_b[j], bd.score, number, None) for i in bd.src for j in bd.tgt]
    return out


def _sort_key(link: dict) -> tuple:
    def position(pid: str) -> int:
        return int(pid.rsplit("-p", 1)[1]) if link["level"] == "paragraph" else -1

    return (link["source_article_id"], link["target_article_id"], link["level"] != "article", link["bead"] or 0,
            position(link["source_id"]), position(link["target_id"]))


def link_batch(pairs: Sequence[tuple[str, str]], keys: Mapping[str, LinkKey],
               articles: Mapping[str, dict], paragraphs_by_article: Mapping[str, Sequence[dict]],
               feats: dict[str, Units] | None = None) -> list[dict]:
    """Links of a batch of candidate pairs (sorted). ``feats``: the articles' ``Units`` where already
    computed; the others are run through the full encoder here, once each."""
    feats = dict(feats or {})

    def units_of(aid: str) -> Units:
        if aid not in feats:
            feats[aid] = article_units(articles[aid], paragraphs_by_article.get(aid, ()))
        return feats[aid]

    out: list[dict] = []
    for x, y in pairs:
        out += link_pair(keys[x], paragraphs_by_article.get(x, ()), units_of(x),
                         keys[y], paragraphs_by_article.get(y, ()), units_of(y))
    return sorted(out, key=_sort_key)


def link(articles: Sequence[dict], paragraphs_by_article: Mapping[str, Sequence[dict]]) -> list[dict]:
    """All translation links of a corpus held in memory, sorted (the build runs the same steps in shards).
    Articles marked ``duplicate_of`` take no part."""
    live = {a["article_id"]: a for a in sorted(articles, key=lambda a: a["article_id"]) if a["duplicate_of"] is None}
    features = {aid: link_features(a, paragraphs_by_article.get(aid, ())) for aid, a in live.items()}
    keys = {aid: key for aid, (key, _) in features.items()}
    pairs = list(candidate_pairs(list(keys.values())))
    passed = screen_pairs(pairs, {aid: sketch for aid, (_, sketch) in features.items()})
    return link_batch([p for p, ok in zip(pairs, passed) if ok], keys, live, paragraphs_by_article)
