"""64-bit hashes of strings (8-byte blake2b digests, read little-endian), for the MinHash key's tokens and
the blocking key's anchors: the same on every machine and run, unlike Python's ``hash``.

Each string's digest is kept for the rest of the process: most words of a page were on earlier pages, so most
are hashed once per worker, not once per page. The cache is emptied when full, to bound memory (about 30 MB).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

import numpy as np

LIMIT = 200_000  # strings kept


class Memo(dict):
    """key -> ``compute(key)``, computed when first asked for and kept for the rest of the process; emptied
    when it holds ``limit`` keys, to bound memory. Looking up a kept key is a plain dict lookup."""

    def __init__(self, compute: Callable[[str], bytes], limit: int = LIMIT) -> None:
        super().__init__()
        self._compute, self._limit = compute, limit

    def __missing__(self, key: str) -> bytes:
        if len(self) >= self._limit:
            self.clear()
        value = self[key] = self._compute(key)
        return value


_DIGESTS = Memo(lambda text: hashlib.blake2b(text.encode(), digest_size=8).digest())


def digest(text: str) -> bytes:
    """The text's 8-byte digest (``hashes`` reads these as uint64)."""
    return _DIGESTS[text]


def hashes(texts: Iterable[str]) -> np.ndarray:
    """Each text's 64-bit hash as uint64, in order: the digests joined in one buffer and read by numpy, so
    that no Python int is made per text."""
    return np.frombuffer(b"".join(map(_DIGESTS.__getitem__, texts)), dtype="<u8").astype(np.uint64, copy=False)
