"""Translation links over a whole corpus: which articles translate each other, and their aligned paragraphs.

Three steps, so that the cost grows with the corpus, not with its square:

1. ``link_key``: per article, in the workers, a compact key of a few hundred bytes: language, day, hashed
   anchors, a static document vector (``builder.vectors``: no full encoder), a few counts; no text.
2. ``candidate_pairs``: blocking on keys only. An article meets articles in other languages dated within
   ``WINDOW`` days of it; an undated one meets those sharing a rare anchor and its ``NEAREST`` nearest by
   document vector. Of these it keeps, per other language, the ``PER_LANG`` best by a cheap key score.
3. ``link_pair``: for each candidate pair, align the paragraphs (``builder.align``, with the full encoder run
   once per paired article) and link the articles when aligned beads cover enough of both texts. Articles
   of one language are never linked. The build runs this step in units of pairs on the executor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

import numpy as np

from .align import MODEL_LANGS, Bead, Units, align_units, anchors, units
from .vectors import DIMS, doc_vector

WINDOW = 3  # days between the dates of two translations
PER_LANG = 2  # candidates kept per article and other language
MAX_DF = 64  # anchors in more articles than this do not block
NEAREST = 32  # an undated article also meets this many articles nearest by document vector
LINK_SCORE = 0.435  # an article pair links when its aligned paragraphs cover at least this (score-weighted)
MERGE_WEIGHT = 0.8  # a 2-1 or 1-2 bead is weaker evidence of translation than a 1-1 bead
LINK_SCORE_NO_MODEL = 0.6  # the same without embeddings: anchors and lengths alone separate less
CASED_SHARE = 0.02
VECTOR_CHARS = 1500  # characters of an article its blocking vector is made of
_LATIN, _UPPER = re.compile(r"[A-Za-z]"), re.compile(r"[A-Z]")  # share of upper-case Latin letters above which a text counts as cased


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
    return units([p["text"] for p in _ordered(paragraphs)], article["lang"])


def _hash(anchor: str) -> int:
    return int.from_bytes(hashlib.blake2b(anchor.encode(), digest_size=8).digest(), "little")


def _opening(texts: Sequence[str]) -> list[str]:
    """The paragraphs that make up the first ``VECTOR_CHARS`` characters (the title first): enough for a
    blocking vector, and the tokenizer's cost stays flat however long the page."""
    out, room = [], VECTOR_CHARS
    for t in texts:
        if room <= 0:
            break
        out.append(t[:room])
        room -= len(t)
    return out


def link_key(article: dict, paragraphs: Sequence[dict]) -> LinkKey:
    """The blocking key of an article (per document, in the workers; cheap: no full encoder)."""
    texts = [p["text"] for p in _ordered(paragraphs)]
    text = " ".join(texts)
    covered = not article["lang"] or article["lang"] in MODEL_LANGS
    found = {x for t in texts for x in anchors(t) if not x.isalpha() or len(x) >= 4}
    return LinkKey(
        article_id=article["article_id"],
        lang=article["lang"],
        day=_day(article["published"]),
        anchors=np.array(sorted(_hash(x) for x in found), dtype=np.uint64),
        vector=doc_vector(_opening(texts)) if covered and texts else None,
        paragraphs=len(texts),
        latin=(len(_LATIN.findall(text)), len(_UPPER.findall(text))),
    )


def candidate_pairs(keys: Sequence[LinkKey]) -> Iterator[tuple[str, str]]:
    """Pairs (lower article_id first) worth aligning, in sorted order; at most ``PER_LANG`` per article and
    other language are chosen by each article."""
    df: Counter[int] = Counter()
    for k in keys:
        df.update(k.anchors.tolist())
    n = len(keys)
    idf = {x: math.log(n / c) for x, c in df.items() if 2 <= c <= MAX_DF}
    del df
    by_day: dict[int, list[int]] = defaultdict(list)
    by_anchor: dict[int, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        if k.day is not None:
            by_day[k.day].append(i)
        for x in k.anchors.tolist():
            if x in idf:
                by_anchor[x].append(i)
    mass = [sum(idf.get(x, 0.0) for x in k.anchors.tolist()) for k in keys]
    with_vector = [i for i, k in enumerate(keys) if k.vector is not None]
    vectors = np.array([keys[i].vector for i in with_vector], dtype=np.float32).reshape(len(with_vector), DIMS)
    pairs: set[tuple[str, str]] = set()
    for i, k in enumerate(keys):
        if k.day is not None:
            pool = {j for d in range(k.day - WINDOW, k.day + WINDOW + 1) for j in by_day.get(d, ())}
        else:
            pool = {j for x in k.anchors.tolist() if x in idf for j in by_anchor[x]}
            if k.vector is not None and with_vector:
                cos = vectors @ k.vector.astype(np.float32)
                pool.update(with_vector[j] for j in np.argsort(-cos, kind="stable")[:NEAREST + 1])
        best: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for j in pool:
            o = keys[j]
            if o.lang != k.lang:
                best[o.lang].append((_key_score(k, o, idf, mass[i], mass[j]), o.article_id))
        for scored in best.values():
            for _, other in heapq.nlargest(PER_LANG, scored):
                pairs.add((min(k.article_id, other), max(k.article_id, other)))
    yield from sorted(pairs)


def _key_score(a: LinkKey, b: LinkKey, idf: Mapping[int, float], mass_a: float, mass_b: float) -> float:
    """Cheap likeness of two keys: document-vector cosine plus idf-weighted anchor overlap (``mass_*``: the
    idf weight of each key's anchors)."""
    cos = 0.0
    if a.vector is not None and b.vector is not None:
        cos = float(a.vector.astype(np.float32) @ b.vector.astype(np.float32))
    shared = sum(idf.get(x, 0.0) for x in np.intersect1d(a.anchors, b.anchors, assume_unique=True).tolist())
    total = mass_a + mass_b - shared
    return cos + (shared / total if total > 0 else 0.0)


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
    keys = {aid: link_key(a, paragraphs_by_article.get(aid, ())) for aid, a in live.items()}
    return link_batch(list(candidate_pairs(list(keys.values()))), keys, live, paragraphs_by_article)
