"""Blocking (``builder.link.candidate_pairs``), the screen between blocking and the full encoder
(``builder.link.screen``), the blocking key's anchors and static vectors and the sketch's (``builder.vectors``),
and the work files the linking units read records from (``builder.workfile``)."""

from __future__ import annotations

import dataclasses
import hashlib
import math

import numpy as np
import pytest

from builder import vectors
from builder.align import anchors
from builder.lexicon import LEXICON, LIMIT
from builder.link import (
    DIMS,
    SCREEN_COVER,
    SCREEN_MIN,
    VECTOR_CHARS,
    LinkKey,
    Sketch,
    _batches,
    _opening,
    candidate_batches,
    candidate_pairs,
    link_features,
    screen,
    screen_cover,
    screened,
)
from builder.nearest import top
from builder.workfile import WorkFile, WorkFiles, pack


def unit(*hot: int) -> np.ndarray:
    """Unit rows, row k pointing along axis ``hot[k]``: orthogonal unless two rows share an axis."""
    rows = np.zeros((len(hot), DIMS), dtype=np.float16)
    rows[np.arange(len(hot)), hot] = 1.0
    return rows


def sketch(hot: tuple[int, ...], lengths: tuple[float, ...] | None = None) -> Sketch:
    return Sketch(unit(*hot), np.array(lengths or [100.0] * len(hot), dtype=np.float32))


# Worked by hand: the likeness of a paragraph pair is 0.7 * cosine + 0.3 * erfc(length disagreement), and a
# pair on the path adds its likeness less SCREEN_COST (0.25); the sum is divided by the longer side's count.
@pytest.mark.parametrize(("a", "b", "expected"), [
    pytest.param(sketch((1,)), sketch((1,)), 0.75, id="same vector, same length: 0.7 + 0.3 - 0.25"),
    pytest.param(sketch((1,)), sketch((2,)), 0.05, id="orthogonal, same length: 0.3 - 0.25"),
    pytest.param(sketch((1, 2, 3)), sketch((1, 2, 3)), 0.75, id="three paragraphs in order"),
    pytest.param(sketch((1, 2)), sketch((1, 2, 9, 9), (100, 100, 1, 1)),
                 # length ratio 202/200; each pair is 1 character off: |100 - 101| / sqrt(6.8 * 1.01 * 101)
                 2 * (0.7 + 0.3 * math.erfc(1 / math.sqrt(6.8 * 1.01 * 101) / math.sqrt(2)) - 0.25) / 4,
                 id="two of four paired; two short extra paragraphs skipped"),
    pytest.param(sketch((1, 2, 3, 4)), sketch((4, 3, 2, 1)), (0.75 + 2 * 0.05) / 4,
                 id="reversed order: one pair at full likeness, one orthogonal pair before it and one after"),
])
def test_screen_scores(a: Sketch, b: Sketch, expected: float) -> None:
    assert screen([(a, b)])[0] == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize(("a", "b"), [
    pytest.param(Sketch(None, np.array([100.0], np.float32)), sketch((1,)), id="a language the model lacks"),
    pytest.param(sketch(()), sketch((1,)), id="an article without paragraphs"),
])
def test_screen_passes_what_it_cannot_judge(a: Sketch, b: Sketch) -> None:
    assert screen([(a, b)])[0] == np.inf


def test_translation_passes_and_unrelated_does_not() -> None:
    translation = screen([(sketch((1, 2, 3, 4, 5)), sketch((1, 2, 3, 4, 5), (90, 110, 95, 120, 80)))])[0]
    unrelated = screen([(sketch((1, 2, 3, 4, 5)), sketch((6, 7, 8, 9, 10), (40, 300, 20, 500, 60)))])[0]
    assert translation >= SCREEN_MIN > unrelated


def test_a_pair_scores_the_same_alone_and_padded_in_a_batch() -> None:
    rng = np.random.default_rng(7)

    def random_sketch(n: int) -> Sketch:
        v = rng.normal(size=(n, DIMS)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return Sketch(v.astype(np.float16), rng.integers(20, 400, n).astype(np.float32))

    pairs = [(random_sketch(n), random_sketch(m)) for n, m in [(3, 5), (12, 2), (1, 1), (30, 28), (7, 7)]]
    pairs += [(pairs[0][0], pairs[3][1]), (pairs[3][1], pairs[0][0])]  # a sketch in several pairs, on either side
    together = screen(pairs)
    alone = [screen([p])[0] for p in pairs]
    assert together == pytest.approx(alone, abs=1e-6)


def test_the_bound_settles_only_pairs_under_the_floor() -> None:
    """With a floor, the screen settles most unrelated pairs by a bound on their path, without working the path
    out: the pairs at or above the floor, and their scores, are the same as without it."""
    from builder.link import screen_indexed

    rng = np.random.default_rng(11)

    def unit_rows(v: np.ndarray) -> np.ndarray:
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float16)

    sketches, left, right = [], [], []
    for k in range(400):  # a page and another: a translation blurred by noise, or an unrelated page
        n, m = rng.integers(1, 40, 2)
        a = rng.normal(size=(n, DIMS))
        related = k % 2 == 0
        b = a[np.sort(rng.choice(n, min(n, m), replace=False))] if related else rng.normal(size=(m, DIMS))
        b = b + rng.normal(size=b.shape) * rng.uniform(0.3, 3.0)
        lengths = rng.integers(20, 400, n).astype(np.float32)
        sketches += [Sketch(unit_rows(a), lengths),
                     Sketch(unit_rows(b), rng.integers(20, 400, len(b)).astype(np.float32))]
        left.append(2 * k)
        right.append(2 * k + 1)
    left_, right_ = np.array(left), np.array(right)
    scores = screen_indexed(sketches, left_, right_)
    bounded = screen_indexed(sketches, left_, right_, floor=SCREEN_MIN)
    passing = scores >= SCREEN_MIN
    assert 50 < passing.sum() < 350  # pairs on both sides of the floor
    assert ((scores >= SCREEN_MIN - 0.02) & (scores < SCREEN_MIN + 0.02)).sum() >= 5  # and close to it
    assert np.array_equal(bounded >= SCREEN_MIN, passing)
    assert np.array_equal(bounded[passing], scores[passing])
    assert np.isneginf(bounded).sum() > 50  # settled by the bound


def padded_cells(batches: list[np.ndarray], n: np.ndarray, m: np.ndarray) -> int:
    return sum(len(b) * int(n[b].max()) * int(m[b].max()) for b in batches)


@pytest.mark.parametrize(("n", "m", "most_cells"), [
    pytest.param([], [], 0, id="no pairs"),
    pytest.param([3], [5], 15, id="one pair"),
    # pairs long on one side and short on the other, in turn: sorted by the longer side they share batches with
    # their opposites (each batch padded to 40 x 40); sorted by n and then by m within a group, they do not
    pytest.param([40, 2] * 8, [2, 40] * 8, 8 * 2 * 40 + 8 * 40 * 2, id="crossed sizes: no batch padded both ways"),
    pytest.param(list(range(1, 21)), list(range(20, 0, -1)), None, id="one side growing, the other shrinking"),
])
def test_screen_batches_cover_each_pair_once_and_pad_little(n: list[int], m: list[int], most_cells: int | None,
                                                            monkeypatch) -> None:
    monkeypatch.setattr("builder.link.SCREEN_BATCH", 4)
    monkeypatch.setattr("builder.link.SCREEN_GROUP", 4)
    sizes_n, sizes_m = np.array(n, dtype=np.int64), np.array(m, dtype=np.int64)
    batches = _batches(sizes_n, sizes_m)
    assert sorted(np.concatenate(batches).tolist() if batches else []) == list(range(len(n)))
    assert all(0 < len(b) <= 4 for b in batches)
    by_longer = np.argsort(np.maximum(sizes_n, sizes_m), kind="stable")
    old = [by_longer[at:at + 4] for at in range(0, len(n), 4)]
    assert padded_cells(batches, sizes_n, sizes_m) <= padded_cells(old, sizes_n, sizes_m)
    if most_cells is not None:
        assert padded_cells(batches, sizes_n, sizes_m) == most_cells


# Worked by hand: the characters of each side in the path's paragraph pairs that gain (likeness above 0.25),
# over that side's characters; the smaller share.
@pytest.mark.parametrize(("a", "b", "expected"), [
    pytest.param(sketch((1, 2, 3)), sketch((1, 2, 3)), 1.0, id="a translation: every paragraph paired"),
    pytest.param(sketch((1, 2, 3, 4), (100, 100, 100, 100)), sketch((1, 2), (100, 100)), 0.5,
                 id="half of one side paired, all of the other: the smaller share"),
    pytest.param(sketch((1, 5, 6), (300, 100, 400)), sketch((1, 7, 8), (300, 20, 30)), 300 / 800,
                 id="an opening in common, the rest unlike in words and lengths: its share of the longer text"),
    pytest.param(sketch((1, 2)), sketch((2, 1)), 0.5, id="crossed: only one of the two pairs on a monotone path"),
    pytest.param(Sketch(None, np.array([100.0], np.float32)), sketch((1,)), 1.0,
                 id="a language the model lacks: not judged"),
    pytest.param(sketch(()), sketch((1,)), 1.0, id="an article without paragraphs: not judged"),
])
def test_screen_cover(a: Sketch, b: Sketch, expected: float) -> None:
    assert screen_cover(a, b) == pytest.approx(expected)


def test_screened_takes_the_pairs_that_score_and_pair_enough_of_both_texts() -> None:
    texts = [sketch((1, 2, 3, 4)), sketch((1, 2, 3, 4)),  # a translation
             sketch((1, 5, 6, 7), (1000, 100, 100, 100)),  # shares its long opening with the first: scores
             sketch((8, 9, 10, 11), (40, 300, 20, 500))]  # unrelated
    left, right = np.array([0, 0, 0]), np.array([1, 2, 3])
    scores = screen([(texts[0], texts[k]) for k in right])
    covers = [screen_cover(texts[0], texts[k]) for k in right]
    assert scores[1] >= SCREEN_MIN and covers[1] < SCREEN_COVER  # what the cover is for
    assert screened(texts, left, right).tolist() == [True, False, False]


def key(aid: str, lang: str, day: int | None, hot: int | None = None, anchors: tuple[int, ...] = ()) -> LinkKey:
    """A blocking key: its document vector along axis ``hot`` (None: no vector), its anchors' hashes."""
    return LinkKey(aid, lang, day, np.array(sorted(anchors), dtype=np.uint64),
                   None if hot is None else unit(hot)[0], 3, (0, 0))


# Worked by hand: each article keeps, per other language, the 2 articles that score highest (vector cosine +
# the share of rare anchors the two have in common), among those dated within 3 days of it; an undated one
# chooses among the holders of its rare anchors and its 4 nearest by vector in each other language. A dated
# article never meets an undated one by itself, so the undated English page "c" below shows one article's
# choice alone.
@pytest.mark.parametrize(("keys", "expected"), [
    pytest.param([key("a", "en", 100, 1), key("b", "fr", 103, 1), key("c", "fr", 104, 1)], {("a", "b")},
                 id="within 3 days, not 4"),
    pytest.param([key("a", "en", 100, 1), key("b", "en", 100, 1)], set(), id="one language: never"),
    pytest.param([key("c", "en", None, 1), key("a", "fr", 100, 2), key("b", "fr", 100, 1), key("d", "fr", 100, 1),
                  key("e", "fr", 100, 3)], {("b", "c"), ("c", "d")}, id="of four French pages, the two alike"),
    pytest.param([key("c", "en", None, 1), key("a", "fr", 100, 1), key("b", "fr", 100, 1), key("d", "fr", 100, 1)],
                 {("b", "c"), ("c", "d")}, id="equal scores: the greater article_ids"),
    pytest.param([key("c", "en", None, 1, (5,)), key("a", "fr", 100, 2, (5,)), key("b", "fr", 100, 3),
                  key("d", "fr", 100, 4)], {("a", "c"), ("c", "d")}, id="a shared rare anchor counts"),
    pytest.param([key("a", "en", None, 1, (7, 8)), key("b", "fr", 500, 2, (7,)), key("c", "fr", 500, 3),
                  key("d", "de", 900, 4, (8,))],
                 {("a", "b"), ("a", "c"), ("a", "d")}, id="undated: any day, per language"),
    pytest.param([key("c", "en", None, 1), *(key(f"e{n:02d}", "en", 100, 1) for n in range(40)),
                  key("f", "fr", 500, 2)], {("c", "f")},
                 id="undated: the nearest of another language, however many of its own are nearer"),
])
def test_candidate_pairs(keys: list[LinkKey], expected: set[tuple[str, str]]) -> None:
    assert list(candidate_pairs(keys)) == sorted(expected)


def test_candidate_pairs_do_not_depend_on_key_order() -> None:
    """Ties between equal vectors fall the same way whatever the order of the keys (cosines are exact)."""
    rng = np.random.default_rng(3)
    alike = rng.normal(size=(4, DIMS))  # a few vectors many keys share exactly: ties everywhere
    alike = (alike / np.linalg.norm(alike, axis=1, keepdims=True)).astype(np.float16)
    keys = [dataclasses.replace(key(f"a{i:03d}", ["en", "fr", "zh"][i % 3], 100 + int(rng.integers(0, 6)), None,
                                    tuple(int(x) for x in rng.integers(0, 30, 4))), vector=alike[i % 4])
            for i in range(120)]
    expected = list(candidate_pairs(keys))
    assert expected
    for seed in range(5):
        shuffled = [keys[i] for i in np.random.default_rng(seed).permutation(len(keys))]
        assert list(candidate_pairs(shuffled)) == expected


@pytest.mark.parametrize("undated_batch", [pytest.param(64, id="undated in one batch"),
                                           pytest.param(5, id="undated in batches of 5")])
def test_candidate_batches_come_as_blocking_settles_them(undated_batch: int, monkeypatch) -> None:
    """The screen starts on the first batches while blocking goes on, so a batch must hold only pairs that no
    later day can find again: each pair comes once (two undated articles may choose each other from different
    batches), the pairs of undated articles first, then the dated ones in the order of the later of their two
    days."""
    from builder import link

    monkeypatch.setattr(link, "UNDATED_BATCH", undated_batch)
    rng = np.random.default_rng(5)
    keys = [key(f"a{i:03d}", ["en", "fr", "zh"][i % 3], None if i % 7 == 0 else 100 + int(rng.integers(0, 12)),
                int(rng.integers(0, 8)), tuple(int(x) for x in rng.integers(0, 40, 3))) for i in range(150)]
    day = {k.article_id: k.day for k in keys}
    batches = list(candidate_batches(keys))
    pairs = [pair for batch in batches for pair in batch]
    assert len(pairs) == len(set(pairs)) and sorted(pairs) == list(candidate_pairs(keys))
    undated = [b for b in batches if all(day[x] is None or day[y] is None for x, y in b)]
    dated = batches[len(undated):]
    assert len(undated) >= (2 if undated_batch == 5 else 1)
    later = [max(day[a], day[b]) for batch in dated for a, b in batch]
    assert later == sorted(later) and all(len({max(day[a], day[b]) for a, b in batch}) == 1 for batch in dated)
    assert any(day[a] is None and day[b] is None for a, b in pairs)  # pairs two undated articles may both find


@pytest.mark.parametrize(("undated_batch", "cells"), [pytest.param(5, 128, id="5 undated a batch, 2 rows a product"),
                                                      pytest.param(64, 16, id="64 undated a batch, 1 row a product")])
def test_undated_nearest_in_bounded_products(undated_batch: int, cells: int, monkeypatch) -> None:
    """An undated article's nearest of each other language are found a batch of undated articles at a time, in
    products of at most BLOCK_CELLS cosines (or one row), so that memory does not grow with the undated
    articles times the corpus; the pairs are those of one product over every undated article."""
    from builder import link

    rng = np.random.default_rng(7)
    keys = [key(f"a{i:03d}", ["en", "fr", "zh"][i % 3], None if i % 3 == i % 2 else 100 + int(rng.integers(0, 9)),
                int(rng.integers(0, 8)), tuple(int(x) for x in rng.integers(0, 60, 2))) for i in range(150)]
    monkeypatch.setattr(link, "UNDATED_BATCH", 1 << 30)
    monkeypatch.setattr(link, "BLOCK_CELLS", 1 << 30)
    at_once = list(candidate_pairs(keys))
    shapes: list[tuple[int, int]] = []
    from builder import nearest

    top = nearest.top
    monkeypatch.setattr(nearest, "top", lambda values, k: shapes.append(values.shape) or top(values, k))
    monkeypatch.setattr(link, "UNDATED_BATCH", undated_batch)
    monkeypatch.setattr(link, "BLOCK_CELLS", cells)
    assert list(candidate_pairs(keys)) == at_once and len(at_once) > 50
    assert len(shapes) > 10 and all(rows * cols <= cells or rows == 1 for rows, cols in shapes)


@pytest.mark.parametrize("cells", [pytest.param(1 << 12, id="a few days or undated articles a group"),
                                   pytest.param(1 << 30, id="all in one group")])
def test_choosers_scored_in_groups_choose_as_alone(cells: int, monkeypatch) -> None:
    """Days (and undated articles) are scored in groups over their pools' union, each row masked to its own
    pool: the batches are the same as when each is scored alone, ties included."""
    from builder import link

    rng = np.random.default_rng(11)
    alike = rng.normal(size=(5, DIMS))  # a few vectors many keys share exactly: ties everywhere
    alike = (alike / np.linalg.norm(alike, axis=1, keepdims=True)).astype(np.float16)
    keys = [dataclasses.replace(key(f"a{i:03d}", ["en", "fr", "zh", "ja"][i % 4],
                                    None if i % 6 == 0 else 100 + int(rng.integers(0, 30)), None,
                                    tuple(int(x) for x in rng.integers(0, 50, 3))), vector=alike[i % 5])
            for i in range(240)]
    monkeypatch.setattr(link, "GROUP_CELLS", 0)
    alone = list(candidate_batches(keys))
    monkeypatch.setattr(link, "GROUP_CELLS", cells)
    assert list(candidate_batches(keys)) == alone and len(alone) > 10


@pytest.mark.parametrize(("values", "k"), [
    pytest.param([[0.5, 0.9, 0.1, 0.9, 0.3]], 2, id="tie at the top"),
    pytest.param([[0.2, 0.2, 0.2, 0.2]], 3, id="all equal: the lower indexes"),
    pytest.param([[0.1, 0.4, 0.4, 0.4, 0.0], [0.4, 0.1, 0.4, 0.0, 0.4]], 2, id="ties across the cut, row by row"),
    pytest.param([[0.3, 0.1]], 5, id="fewer values than k"),
])
def test_top_takes_a_stable_argsort_prefix(values: list[list[float]], k: int) -> None:
    v = np.array(values)
    expected = [sorted(row[:k]) for row in np.argsort(-v, axis=1, kind="stable").tolist()]
    assert [np.flatnonzero(row).tolist() for row in top(v, k)] == expected


TEXTS = ["Le siège de la BCE à Francfort", "", "La Banque centrale européenne a relevé ses taux  deux fois.",
         "深陷高管离职风波的OpenAI最近点燃了吃瓜群众", "1234 5678 @handle https://example.org/a?b=c"]


def _direct(text: str) -> np.ndarray:
    """A text's static vector straight from its pieces: the unit-normed float64 sum of their table rows."""
    total = vectors.table()[vectors.tokenizer().encode(text)].sum(axis=0, dtype=np.float64)
    norm = np.linalg.norm(total)
    return total / norm if norm > 0 else total  # "" has no pieces: a zero row


def test_a_texts_static_vector_sums_its_pieces_rows() -> None:
    """A text's row is the unit-normed sum of the static table's rows of its pieces (words are summed first,
    so the float32 sums may differ in the last bits)."""
    got = vectors.text_rows(LEXICON.words(TEXTS), len(TEXTS)).astype(np.float32)
    for text, row in zip(TEXTS, got):
        np.testing.assert_allclose(row, _direct(text), rtol=0, atol=2e-3)  # float16


@pytest.mark.parametrize(("texts", "whole", "cut"), [
    pytest.param(TEXTS[:3], 3, None, id="whole texts"),
    pytest.param(TEXTS[:3], 2, "La Banque centrale europ", id="cut inside a word"),
    pytest.param(TEXTS[:3], 2, "La Banque centrale ", id="cut after a space"),
    pytest.param(TEXTS[:3], 0, "Le siège", id="the title cut at a word's end"),
    pytest.param(["", "Francfort"], 2, None, id="an empty text"),
    pytest.param(["", " "], 2, None, id="no pieces: no vector"),
])
def test_the_blocking_vector_sums_its_opening(texts: list[str], whole: int, cut: str | None) -> None:
    got = vectors.vector(LEXICON.words(texts), whole, cut)
    expected = _direct(" ".join(texts[:whole] + ([cut] if cut is not None else [])))
    if not expected.any():
        assert got is None
    else:
        np.testing.assert_allclose(got.astype(np.float32), expected, rtol=0, atol=2e-3)


@pytest.mark.parametrize(("before", "limit"), [
    pytest.param([], LIMIT, id="nothing kept yet"),
    pytest.param(TEXTS[::-1] + ["Francfort relève la BCE"], LIMIT, id="some words kept before"),
    pytest.param(["un deux trois quatre cinq six"], 25, id="the kept words forgotten when full"),  # 6, then 24
    pytest.param([], 3, id="more words than a process keeps"),
])
def test_the_kept_word_rows_give_the_same_bits(before: list[str], limit: int, monkeypatch) -> None:
    """What a process met before never changes a text's vector: the output must not depend on which pages a
    worker read first."""
    expected = vectors.text_rows(LEXICON.words(TEXTS), len(TEXTS))
    LEXICON.clear()
    monkeypatch.setattr(LEXICON, "limit", limit)
    LEXICON.words(before)
    assert np.array_equal(vectors.text_rows(LEXICON.words(TEXTS), len(TEXTS)), expected)


@pytest.mark.parametrize("sizes", [
    pytest.param([], id="no segments"),
    pytest.param([0, 0], id="empty segments"),
    pytest.param([3, 0, 1, 7, 2, 2, 0], id="mixed lengths"),
    pytest.param([1] * 5, id="one row each"),
])
def test_segment_sums_add_each_segments_rows_in_order(sizes: list[int]) -> None:
    rng = np.random.default_rng(7)
    rows = rng.standard_normal((50, 4)).astype(np.float32)
    rows[5] = -0.0
    flat = rng.integers(0, 50, sum(sizes))
    got = vectors.segment_sums(rows, flat, np.array(sizes, dtype=np.int64))
    assert got.shape == (len(sizes), 4) and got.dtype == np.float32
    at = 0
    for segment, size in enumerate(sizes):
        expected = np.zeros(4, dtype=np.float32)
        if size:
            expected = rows[flat[at]].copy()
            for k in range(1, size):
                expected += rows[flat[at + k]]
        assert got[segment].tobytes() == expected.tobytes()
        at += size


@pytest.mark.parametrize("segment", [
    pytest.param([5], id="a negative zero row alone"),
    pytest.param([6, 5], id="zeros of both signs"),
    pytest.param([3, 1, 7], id="three rows"),
    pytest.param([], id="empty"),
])
def test_one_segment_sums_as_it_does_among_others(segment: list[int]) -> None:
    """One segment alone takes a shorter path: the same bits, the sign of a zero included."""
    rows = np.random.default_rng(1).standard_normal((50, 4)).astype(np.float32)
    rows[5], rows[6, :2] = -0.0, -0.0
    flat = np.array(segment, dtype=np.int64)
    alone = vectors.segment_sums(rows, flat, np.array([len(segment)]))
    among = vectors.segment_sums(rows, np.concatenate([flat, [1, 2]]), np.array([len(segment), 2]))
    assert alone.tobytes() == among[:1].tobytes()


KEY_TEXTS = ["OpenAI's CTO, Mira Murati, left on 25.09.2024", "see https://example.org/a?b=c or @openai",
             "write to @ sama and @\nanother", "l'été 1,234.5 x 7 über-große", "深陷高管离职风波的OpenAI",
             "ends with @", "next"]


@pytest.mark.parametrize("texts", [
    pytest.param(KEY_TEXTS[:2], id="words, numbers, URL, handle"),
    pytest.param(KEY_TEXTS[2:4], id="handles across a space and a line"),
    pytest.param(KEY_TEXTS[3:5], id="apostrophes, separators, no spaces"),
    pytest.param(KEY_TEXTS[5:], id="no handle across paragraphs"),
    pytest.param(["", "   "], id="none"),
])
def test_the_blocking_key_keeps_the_texts_long_anchors(texts: list[str]) -> None:
    """The key's anchors are the text's anchors (``builder.align.anchors``, paragraph by paragraph) that are
    not words of fewer than 4 letters, as 64-bit blake2b digests."""
    article = {"article_id": "a", "lang": "en", "published": None}
    key, _ = link_features(article, [{"position": i, "text": t} for i, t in enumerate(texts)])
    kept = {a for t in texts for a in anchors(t) if not a.isalpha() or len(a) >= 4}
    expected = sorted(int.from_bytes(hashlib.blake2b(a.encode(), digest_size=8).digest(), "little") for a in kept)
    assert key.anchors.tolist() == expected


@pytest.mark.parametrize(("lengths", "expected"), [
    pytest.param([100, 200], (2, None), id="all of a short page"),
    pytest.param([1000, 800], (1, 500), id="the second text cut"),
    pytest.param([1000, 500, 10], (2, None), id="ends on a text's end"),
    pytest.param([2000], (0, VECTOR_CHARS), id="the title cut"),
    pytest.param([], (0, None), id="no text"),
])
def test_the_blocking_vector_reads_a_pages_opening(lengths: list[int], expected: tuple) -> None:
    texts = ["x" * n for n in lengths]
    whole, cut = _opening(texts)
    assert (whole, None if cut is None else len(cut)) == expected
    assert sum(map(len, texts[:whole])) + len(cut or "") == min(VECTOR_CHARS, sum(lengths))


def test_work_file_reads_any_record_alone(tmp_path) -> None:
    records = [{"docs": 3}, "a", None, list(range(1000)), b"\x00" * 5]
    path = tmp_path / "w.part"
    path.write_bytes(pack(records))
    with WorkFile(path) as wf:
        assert len(wf) == len(records)
        assert [wf[i] for i in (3, 0, 4, 1, 2)] == [records[i] for i in (3, 0, 4, 1, 2)]
        assert list(wf) == records
    with WorkFiles(open_files=1) as files:  # more files than it keeps open
        other = tmp_path / "v.part"
        other.write_bytes(pack(["x", "y"]))
        assert [files.get(str(path), 1), files.get(str(other), 1), files.get(str(path), 3)] == ["a", "y", records[3]]


def test_a_cut_work_file_is_refused(tmp_path) -> None:
    path = tmp_path / "w.part"
    path.write_bytes(pack(["a", "b"])[:-3])
    with pytest.raises(ValueError, match="not a complete work file"):
        WorkFile(path)
