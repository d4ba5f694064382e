"""Where the per-document work runs. An executor maps a picklable function over inputs, in input order.

``local`` runs it in this process (one worker) or in a pool of processes. The output never depends on the
executor or the number of workers: results come back in input order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def local(fn: Callable[[T], R], items: Sequence[T], workers: int = 1) -> Iterator[R]:
    """``fn`` over ``items`` in order, in ``workers`` processes (in this one when workers is 1)."""
    if workers <= 1 or len(items) < 2:
        yield from map(fn, items)
        return
    chunk = max(1, min(64, len(items) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(fn, items, chunksize=chunk)


def run(fn: Callable[[T], R], items: Sequence[T], workers: int = 1,
        progress: Callable[[Iterable[R], int], Iterable[R]] | None = None) -> list[R]:
    results = local(fn, items, workers)
    return list(progress(results, len(items)) if progress else results)
