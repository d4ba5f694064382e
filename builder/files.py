"""Small file helpers shared by the writer, the checker, the publisher, the executors and the model cache (no
heavy imports)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def replacing(path: Path, sync: bool = True) -> Iterator[Path]:
    """A file beside ``path`` for the block to write; when the block ends, it is synced (unless ``sync`` is
    false: then a crash of the machine may leave it torn) and renamed over ``path``: whole or not at all."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    yield tmp
    if sync:
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    os.replace(tmp, path)


def write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """``data`` at ``path`` whole or not at all (``replacing``)."""
    with replacing(path, sync) as tmp:
        tmp.write_bytes(data)
