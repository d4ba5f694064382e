"""Small file helpers shared by the writer, the checker, the publisher, the executors and the model cache (no
heavy imports)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes, sync: bool = True) -> None:
    """``data`` at ``path`` whole or not at all: written beside it, synced (unless ``sync`` is false: then a
    crash of the machine may leave it torn), then renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        if sync:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
