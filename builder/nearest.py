"""An undated article's nearest articles of a language by document vector, without comparing it with all of
them: a forest of random-projection trees (as Annoy builds them), written here because its choices must be
the same bits on every machine. Blocking (``builder.link``) asks it once a language holds more than
``link.EXACT_UP_TO`` articles; below that it compares with every one.

A tree splits the articles at the median of their projections on the line through two of them (chosen by a
hash of their ids' ranks, the tree and the node), and again in each half, down to leaves of at most ``LEAF``
articles. An article asking goes down each tree by the same tests; its candidates are the articles of the
leaves it reaches, ``TREES`` leaves at most, whose cosines are then taken exactly. Its cost is one leaf per
tree whatever the corpus, and the trees cost ``n log n`` to make: blocking grows with the corpus, not with
its square. The nearest it finds are the true nearest most of the time, not always (see the README's
"Large corpora" for the recall measured).

Every product is of float16 values held in float64 (the vectors, and the lines rounded to float16), so it
is exact, the same whatever the BLAS; a split's ties go to the lower id rank, and equal likenesses to the
lower item. So the trees depend only on the articles, not on their order nor on the machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEAF = 128  # articles in a leaf, at most
TREES = 8  # trees per language: an article's candidates are the union of its leaf in each


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a bijection of uint64 that spreads consecutive values."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@dataclass(frozen=True)
class _Tree:
    """Nodes in the order made (the root first): a split's line and threshold and its two children, or a
    leaf's number; each leaf's items, padded with -1 to ``leaf``."""

    line: np.ndarray  # (nodes, dims) float64 of float16 values; zeros for a leaf
    threshold: np.ndarray  # (nodes,): below it, the first child; at or above, the second
    child: np.ndarray  # (nodes, 2) int64; -1 for a leaf
    leaf: np.ndarray  # (nodes,) int64: the node's leaf, or -1
    leaves: np.ndarray  # (leaves, leaf) int64: the items of each, sorted, then -1


def _tree(vectors: np.ndarray, rank: np.ndarray, salt: int, leaf: int) -> _Tree:
    lines: list[np.ndarray] = []
    thresholds: list[float] = []
    children: list[list[int]] = []
    leaf_of: list[int] = []
    leaves: list[np.ndarray] = []

    def new_node() -> int:
        lines.append(np.zeros(vectors.shape[1]))
        thresholds.append(0.0)
        children.append([-1, -1])
        leaf_of.append(-1)
        return len(lines) - 1

    todo = [(new_node(), np.arange(len(vectors), dtype=np.int64))]  # (node, its items)
    while todo:
        node, items = todo.pop()
        if len(items) <= leaf:
            leaf_of[node] = len(leaves)
            leaves.append(np.sort(items))
            continue
        # the line through the two items of least hash (distinct: the ranks are, and _mix is a bijection)
        keys = _mix(rank[items].astype(np.uint64) ^ _mix(np.array([salt << 32 | node], dtype=np.uint64)))
        a, b = items[np.argpartition(keys, 1)[:2]]
        line = (vectors[a] - vectors[b]).astype(np.float16).astype(np.float64)
        projection = vectors[items] @ line
        order = np.lexsort((rank[items], projection))
        half = len(items) // 2
        lines[node], thresholds[node] = line, float(projection[order[half]])
        children[node] = [new_node(), new_node()]
        todo += [(children[node][1], items[order[half:]]), (children[node][0], items[order[:half]])]
    padded = np.full((len(leaves), leaf), -1, dtype=np.int64)
    for k, items in enumerate(leaves):
        padded[k, :len(items)] = items
    return _Tree(np.array(lines), np.array(thresholds), np.array(children, dtype=np.int64),
                 np.array(leaf_of, dtype=np.int64), padded)


def top(values: np.ndarray, k: int) -> np.ndarray:
    """Mask of each row's ``k`` largest values, ties to the lower index: the set that
    ``argsort(-values, stable)[:, :k]`` takes, in linear time."""
    if values.shape[1] <= k:
        return np.ones(values.shape, dtype=bool)
    cut = -np.partition(-values, k - 1, axis=1)[:, k - 1:k]  # each row's k-th largest
    above = values > cut
    ties = values == cut
    return above | (ties & (np.cumsum(ties, axis=1) <= k - above.sum(axis=1, keepdims=True)))


class Forest:
    """Items (``vectors``: float64 holding float16 values, one row per item; ``norm``: each one's) to search
    for the nearest of a query by cosine: ``trees`` random-projection trees with leaves of at most ``leaf``
    items; ``rank``: each item's id rank (distinct), which picks the lines and breaks ties. With ``leaf`` as
    many as the items, one leaf of them all: the exact search."""

    def __init__(self, vectors: np.ndarray, norm: np.ndarray, rank: np.ndarray, trees: int = TREES,
                 leaf: int = LEAF) -> None:
        self.vectors, self.norm = vectors, norm
        self.trees = [_tree(vectors, rank, salt, leaf) for salt in range(trees)]
        self.width = max(tree.leaves.shape[1] for tree in self.trees)  # likenesses of a query in one product

    def _reached(self, tree: _Tree, queries: np.ndarray) -> np.ndarray:
        node = np.zeros(len(queries), dtype=np.int64)
        inner = np.flatnonzero(tree.leaf[node] < 0)
        while len(inner):
            at = node[inner]
            side = (np.einsum("ij,ij->i", queries[inner], tree.line[at]) >= tree.threshold[at]).astype(np.int64)
            node[inner] = tree.child[at, side]
            inner = inner[tree.leaf[node[inner]] < 0]
        return tree.leaf[node]

    def nearest(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each query's ``k`` nearest items among the leaves it reaches, by cosine (0 for an item of norm 0),
        ties to the lower item: as (query, item) pairs, query by query, items in order. The queries that reach
        a leaf are multiplied with its items at once, and keep its ``k`` best: the ``k`` best of the union of
        their leaves are among them."""
        item = np.full((len(queries), k * len(self.trees)), -1, dtype=np.int64)
        value = np.full(item.shape, -np.inf)
        for t, tree in enumerate(self.trees):
            reached = self._reached(tree, queries)
            order = np.argsort(reached, kind="stable")
            for asking in np.split(order, np.flatnonzero(np.diff(reached[order])) + 1) if len(order) else []:
                members = tree.leaves[reached[asking[0]]]
                members = members[members >= 0]  # sorted: a row's columns in the order of the items
                dots = queries[asking] @ self.vectors[members].T
                norm = np.broadcast_to(self.norm[members], dots.shape)
                likeness = np.divide(dots, norm, out=np.zeros_like(dots), where=norm > 0)
                kept = min(k, len(members))
                cols = np.nonzero(top(likeness, kept))[1].reshape(len(asking), kept)
                item[asking, t * k:t * k + kept] = members[cols]
                value[asking, t * k:t * k + kept] = np.take_along_axis(likeness, cols, axis=1)
        if len(self.trees) > 1:
            # each item once per query (an item reached in several trees has the same value in each), in order
            order = np.argsort(item, axis=1, kind="stable")
            item, value = np.take_along_axis(item, order, axis=1), np.take_along_axis(value, order, axis=1)
            value[:, 1:][item[:, 1:] == item[:, :-1]] = -np.inf
        query, col = np.nonzero(top(value, k) & (item >= 0) & (value > -np.inf))
        return query, item[query, col]
