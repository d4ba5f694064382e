"""The undated articles' nearest-neighbour search (builder.nearest) and the centered vectors it searches."""

from __future__ import annotations

import numpy as np
import pytest

from builder.link import _centered
from builder.nearest import Forest


def unit16(rows: np.ndarray) -> np.ndarray:
    """Unit rows rounded to float16, held in float64: as blocking holds the vectors."""
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float16).astype(np.float64)


def exact_nearest(items: np.ndarray, queries: np.ndarray, k: int) -> list[list[int]]:
    """Each query's k best items by cosine, ties to the lower item, by a stable sort of every item."""
    cos = (queries @ items.T) / np.linalg.norm(items, axis=1)
    return [sorted(row[:k]) for row in np.argsort(-cos, axis=1, kind="stable").tolist()]


def found(forest: Forest, queries: np.ndarray, k: int) -> list[list[int]]:
    query, item = forest.nearest(queries, k)
    return [item[query == q].tolist() for q in range(len(queries))]


@pytest.mark.parametrize(("items", "k"), [
    pytest.param(50, 4, id="50 items"),
    pytest.param(3, 4, id="fewer items than k"),
])
def test_one_leaf_is_the_exact_search(items: int, k: int) -> None:
    rng = np.random.default_rng(1)
    vectors, queries = unit16(rng.normal(size=(items, 16))), unit16(rng.normal(size=(9, 16)))
    forest = Forest(vectors, np.linalg.norm(vectors, axis=1), np.arange(items), trees=1, leaf=items)
    assert found(forest, queries, k) == exact_nearest(vectors, queries, k)


def test_ties_go_to_the_lower_item() -> None:
    vectors = unit16(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.6, 0.8]]))
    forest = Forest(vectors, np.linalg.norm(vectors, axis=1), np.arange(5), trees=3, leaf=2)
    forest_one = Forest(vectors, np.linalg.norm(vectors, axis=1), np.arange(5), trees=1, leaf=5)
    query = unit16(np.array([[1.0, 0.0]]))
    assert found(forest_one, query, 2) == [[0, 2]]
    assert all(set(row) <= {0, 2, 3, 4} for row in found(forest, query, 2))


@pytest.mark.parametrize(("items", "leaf", "trees"), [
    pytest.param(1000, 32, 4, id="1000 items, leaves of 32, 4 trees"),
    pytest.param(257, 16, 2, id="257 items, leaves of 16, 2 trees"),
])
def test_trees_split_every_item_into_one_leaf_that_it_reaches(items: int, leaf: int, trees: int) -> None:
    rng = np.random.default_rng(2)
    vectors = unit16(rng.normal(size=(items, 32)))
    forest = Forest(vectors, np.linalg.norm(vectors, axis=1), rng.permutation(items), trees=trees, leaf=leaf)
    for tree in forest.trees:
        leaves = tree.leaves[tree.leaves >= 0]
        assert sorted(leaves.tolist()) == list(range(items))  # each item in one leaf
        assert ((tree.leaves >= 0).sum(axis=1) <= leaf).all() and ((tree.leaves >= 0).sum(axis=1) >= leaf // 2).all()
        reached = forest._reached(tree, vectors)  # an item's own vector goes down to its leaf
        assert all(i in tree.leaves[reached[i]] for i in range(items))
    # and so each item is its own nearest
    assert found(forest, vectors, 1) == [[i] for i in range(items)]


def test_a_forest_does_not_depend_on_the_order_of_its_items() -> None:
    rng = np.random.default_rng(3)
    vectors, queries = unit16(rng.normal(size=(600, 24))), unit16(rng.normal(size=(40, 24)))
    rank = rng.permutation(600)
    forest = Forest(vectors, np.linalg.norm(vectors, axis=1), rank, trees=4, leaf=32)
    shuffle = rng.permutation(600)
    shuffled = Forest(vectors[shuffle], np.linalg.norm(vectors[shuffle], axis=1), rank[shuffle], trees=4, leaf=32)
    assert [sorted(shuffle[row].tolist()) for row in found(shuffled, queries, 4)] == found(forest, queries, 4)


def test_the_forest_finds_most_of_the_exact_nearest_of_clustered_items() -> None:
    """Items in 40 topics, queries near a topic: the forest's 4 nearest are mostly the exact ones."""
    rng = np.random.default_rng(4)
    topics = rng.normal(size=(40, 64))
    vectors = unit16(topics[rng.integers(0, 40, 4000)] + 0.6 * rng.normal(size=(4000, 64)))
    queries = unit16(topics[rng.integers(0, 40, 200)] + 0.6 * rng.normal(size=(200, 64)))
    forest = Forest(vectors, np.linalg.norm(vectors, axis=1), np.arange(4000), trees=8, leaf=128)
    exact = exact_nearest(vectors, queries, 4)
    recall = np.mean([len(set(a) & set(b)) / 4 for a, b in zip(found(forest, queries, 4), exact)])
    assert recall >= 0.8


@pytest.mark.parametrize("shift", [pytest.param(0.0, id="no language direction"),
                                   pytest.param(3.0, id="a strong language direction")])
def test_centered_vectors_lose_their_languages_mean(shift: float) -> None:
    rng = np.random.default_rng(5)
    lang = np.repeat([0, 1], 100)
    raw = rng.normal(size=(200, 16)) + shift * np.where(lang[:, None] == 0, 1.0, -1.0)
    vectors = unit16(raw)
    has_vector = np.ones(200, dtype=bool)
    has_vector[7] = False
    vectors[7] = 0.0
    centered, norm = _centered(vectors, lang, has_vector)
    assert (centered[7] == 0).all() and norm[7] == 0
    for other in (0, 1):
        rows = np.flatnonzero(has_vector & (lang == other))
        assert np.abs(centered[rows].mean(axis=0)).max() < 1e-3  # float16 rounding
        assert np.array_equal(centered[rows], centered[rows].astype(np.float16).astype(np.float64))
    assert np.allclose(norm, np.linalg.norm(centered, axis=1))
