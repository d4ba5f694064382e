"""Work files: pickled records packed one after another, with an index of their offsets at the end, so that a
process reads the one record it needs (a seek and a read) and never a whole file.

Layout: record bytes ..., then ``count + 1`` little-endian uint64 offsets, then ``count`` as one more uint64.
Private to one builder version (the units' fingerprints include it); never shipped.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

_U64 = struct.Struct("<Q")


def pack(objects: Iterable[Any]) -> bytes:
    """The bytes of a work file holding ``objects``, in order."""
    records = [pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL) for o in objects]
    offsets = [0]
    for r in records:
        offsets.append(offsets[-1] + len(r))
    return b"".join(records) + struct.pack(f"<{len(offsets)}Q", *offsets) + _U64.pack(len(records))


class WorkFile:
    """One work file, open for reading records by index."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._file: BinaryIO = open(self.path, "rb")
        try:
            self._file.seek(-_U64.size, 2)
            (count,) = _U64.unpack(self._file.read(_U64.size))
            self._file.seek(-_U64.size * (count + 2), 2)
            self._offsets = struct.unpack(f"<{count + 1}Q", self._file.read(_U64.size * (count + 1)))
        except (OSError, struct.error) as err:
            self._file.close()
            raise ValueError(f"{self.path}: not a complete work file ({err})") from err

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> Any:
        start = self._offsets[index]
        self._file.seek(start)
        return pickle.loads(self._file.read(self._offsets[index + 1] - start))

    def __iter__(self) -> Iterator[Any]:
        self._file.seek(0)
        for start, end in zip(self._offsets, self._offsets[1:]):
            yield pickle.loads(self._file.read(end - start))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> WorkFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class WorkFiles:
    """Records of many work files by (path, index), keeping at most ``open_files`` files open (a unit of
    linking work reads a few records from each of many files)."""

    def __init__(self, open_files: int = 64) -> None:
        self._open: OrderedDict[str, WorkFile] = OrderedDict()
        self._limit = open_files

    def get(self, path: str, index: int) -> Any:
        wf = self._open.pop(path, None) or WorkFile(path)
        self._open[path] = wf
        if len(self._open) > self._limit:
            self._open.popitem(last=False)[1].close()
        return wf[index]

    def close(self) -> None:
        for wf in self._open.values():
            wf.close()
        self._open.clear()

    def __enter__(self) -> WorkFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_all(path: str | Path) -> list[Any]:
    """Every record of a work file, in order."""
    with WorkFile(path) as wf:
        return list(wf)
