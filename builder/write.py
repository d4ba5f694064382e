"""Stage 7, write: Parquet shards, the build report and the manifest, moved into place atomically.

Same records, same bytes: no timestamps, stable row order, fixed writer settings.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .contract import arrow_schema
from .files import sha256_file

SHARD_BYTES = 256 * 1024 * 1024  # a table is split into shards of at most this much Arrow data
ROW_GROUP_BYTES = 32 * 1024 * 1024  # and each shard into row groups of at most this much
METADATA_PREFIX = "turmoil."
BATCH_ROWS = 4096  # rows converted to Arrow at a time
PARQUET_SETTINGS = dict(compression="zstd", compression_level=3, use_dictionary=False, write_page_index=True,
                        write_statistics=True)


def _dated(values: Sequence[str | None]) -> list[date | None]:
    """ISO dates (the JSON Schema's "format": "date") as dates, for a date32 column."""
    return [date.fromisoformat(v) if v else None for v in values]


def to_arrow(table: str, records: Sequence[Mapping]) -> pa.Table:
    schema = arrow_schema(table)
    dates = [f.name for f in schema if pa.types.is_date32(f.type)]
    if dates:
        records = [{**r, **dict(zip(dates, _dated([r[d] for d in dates])))} for r in records]
    return pa.Table.from_pylist(list(records), schema=schema)


def warm() -> None:
    """pyarrow imports pandas, when it is installed, the first time it converts Python objects: some 0.15-0.2 s.
    A process with time to spare before it writes (the driver, while the workers run the per-document units)
    calls this, so that neither its own writing nor a writer it forks later waits for that import."""
    pa.array([0])


def shard_paths(table: str, count: int) -> list[str]:
    return [f"{table}/train-{i:05d}-of-{count:05d}.parquet" for i in range(count)]


class TableWriter:
    """One table written as it streams in: rows are converted to Arrow ``BATCH_ROWS`` at a time, written as a
    row group when ``ROW_GROUP_BYTES`` of Arrow data are buffered, and a new shard is begun when the current one
    would pass ``SHARD_BYTES``. Boundaries depend on the rows only, never on how they were fed in."""

    def __init__(self, folder: Path, table: str, versions: Mapping[str, str]) -> None:
        metadata = {f"{METADATA_PREFIX}{k}": v for k, v in versions.items()} | {f"{METADATA_PREFIX}table": table}
        self.folder, self.table = folder, table
        self.schema = arrow_schema(table).with_metadata(metadata)
        self.rows: list[Mapping] = []
        self.columns: dict[str, list] | None = None  # rows fed as columns (``add_columns``), not yet converted
        self.batches: list[pa.Table] = []
        self.buffered = 0
        self.shards: list[Path] = []
        self.shard_bytes = 0
        self.writer: pq.ParquetWriter | None = None
        self.count = 0
        (folder / table).mkdir(parents=True, exist_ok=True)

    def add(self, rows: Sequence[Mapping]) -> None:
        self.rows.extend(rows)
        self.count += len(rows)
        while len(self.rows) >= BATCH_ROWS:
            self._convert(self.rows[:BATCH_ROWS])
            del self.rows[:BATCH_ROWS]

    def add_columns(self, columns: Mapping[str, Sequence]) -> None:
        """Rows given as columns (every column of the table, as many values each), converted column by column:
        the same bytes as ``add`` of those rows, with no dict per row (a table of millions of rows is written by
        one process). A table is fed one way or the other, not both."""
        if self.columns is None:
            self.columns = {name: [] for name in self.schema.names}
        for name, values in self.columns.items():
            values.extend(columns[name])
        self.count += len(columns[self.schema.names[0]])
        while self._pending() >= BATCH_ROWS:
            self._convert_columns(BATCH_ROWS)

    def _pending(self) -> int:
        """Rows fed as columns and not converted yet."""
        return len(self.columns[self.schema.names[0]]) if self.columns else 0

    def _convert_columns(self, rows: int) -> None:
        assert self.columns is not None
        arrays = []
        for f in self.schema:
            values = self.columns[f.name][:rows]
            arrays.append(pa.array(_dated(values) if pa.types.is_date32(f.type) else values, type=f.type))
        for values in self.columns.values():
            del values[:rows]
        self._converted(pa.Table.from_arrays(arrays, schema=self.schema))

    def _convert(self, rows: Sequence[Mapping]) -> None:
        self._converted(to_arrow(self.table, rows))

    def _converted(self, data: pa.Table) -> None:
        self.batches.append(data)
        self.buffered += data.nbytes
        if self.buffered >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self.batches:
            return
        data = pa.concat_tables(self.batches).replace_schema_metadata(self.schema.metadata).combine_chunks()
        self.batches, self.buffered = [], 0
        if self.writer is None or self.shard_bytes + data.nbytes > SHARD_BYTES:
            self._next_shard()
        assert self.writer is not None
        self.writer.write_table(data, row_group_size=max(1, data.num_rows))
        self.shard_bytes += data.nbytes

    def _next_shard(self) -> None:
        if self.writer is not None:
            self.writer.close()
        path = self.folder / self.table / f".part-{len(self.shards):05d}.parquet"
        self.shards.append(path)
        self.writer = pq.ParquetWriter(path, self.schema, **PARQUET_SETTINGS)
        self.shard_bytes = 0

    def close(self) -> list[str]:
        """Finish the table; return its shards' paths relative to the folder (named as the Hub names them)."""
        if self.rows:
            self._convert(self.rows)
            self.rows = []
        if self._pending():
            self._convert_columns(self._pending())
        self._flush()
        if self.writer is None:  # no rows: one shard without any row group (readers choke on an empty one)
            self._next_shard()
        assert self.writer is not None
        self.writer.close()
        paths = shard_paths(self.table, len(self.shards))
        for temporary, final in zip(self.shards, paths):
            os.rename(temporary, self.folder / final)
        return paths


def dump_json(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def publish_folder(tmp: Path, out: Path) -> None:
    """Put the finished folder ``tmp`` at ``out``: the old output stays whole until one atomic swap."""
    if out.exists() and _exchange(tmp, out):
        shutil.rmtree(tmp)
        return
    if out.exists():  # no atomic swap here: move the old output aside first, then the new one in
        aside = out.with_name(f".{out.name}.old-{_owner()}")
        os.rename(out, aside)
        os.rename(tmp, out)
        shutil.rmtree(aside)
    else:
        os.rename(tmp, out)


class JsonListWriter:
    """A JSON document ``{..., key: [items...]}`` written item by item, for lists too long to hold: laid out as
    ``dump_json`` lays it out (sorted keys, indent 2), but each item on a line of its own. That keeps a report of
    a million files a million lines (one per file, for grep and line-based tools, not thirteen), and Python's
    C encoder writes it: only the pure-Python one indents (a report entry: 12 us indented, 4 on one line)."""

    def __init__(self, path: Path, key: str) -> None:
        self.path, self.key = path, key
        self.tmp = path.with_name(f".{path.name}.items")
        self.file = open(self.tmp, "wb")
        self.count = 0

    def add(self, item: object) -> None:
        text = json.dumps(item, ensure_ascii=False, sort_keys=True)
        self.file.write(((",\n" if self.count else "") + "    " + text).encode("utf-8"))
        self.count += 1

    def close(self, rest: Mapping[str, object]) -> None:
        """Write the document: ``rest`` and the list under ``key``."""
        self.file.close()
        marker = "\u0000items\u0000"
        whole = dump_json({**rest, self.key: marker}).decode("utf-8")
        before, after = whole.split(json.dumps(marker), 1)
        with open(self.path, "wb") as out, open(self.tmp, "rb") as items:
            out.write(before.encode("utf-8"))
            if self.count:
                out.write(b"[\n")
                shutil.copyfileobj(items, out)
                out.write(b"\n  ]")
            else:
                out.write(b"[]")
            out.write(after.encode("utf-8"))
        os.remove(self.tmp)


def _owner() -> str:
    """This machine and process, in the names of the folders a build keeps beside its output."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale(out: Path) -> list[Path]:
    """Remove the folders beside ``out`` that builds on this machine left when they were killed: their
    ``.tmp-`` folders, and an ``.old-`` one (the previous output moved aside) only once ``out`` exists again.
    A build that fails removes its own; a build still running keeps its. Returns what was removed."""
    owned = re.compile(rf"\.{re.escape(out.name)}\.(tmp|old)-{re.escape(socket.gethostname())}-(\d+)(-|$)")
    removed = []
    for path in sorted(out.parent.iterdir()) if out.parent.is_dir() else ():
        found = owned.match(path.name)
        if not found or _running(int(found[2])) or (found[1] == "old" and not out.is_dir()):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def new_folder(out: Path) -> Path:
    """A temporary folder beside ``out`` to write the next output into (stale ones from killed builds are
    removed first)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{_owner()}-", dir=out.parent))


def finish_folder(tmp: Path, out: Path, versions: Mapping[str, str], rows: Mapping[str, int],
                  extra_files: Mapping[str, bytes | Callable[[Path], bytes]] | None = None) -> dict:
    """Write ``extra_files`` and the manifest into ``tmp`` (its tables and report are there), then swap it in
    for ``out``. A value of ``extra_files`` may be a function of the folder (croissant.json lists the shards'
    sha256). Returns the manifest."""
    for rel, data in (extra_files or {}).items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(data(tmp) if callable(data) else data)
    files = {p.relative_to(tmp).as_posix(): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    manifest = {**versions, "rows": dict(rows), "files": files}
    (tmp / "manifest.json").write_bytes(dump_json(manifest))
    os.chmod(tmp, 0o755)
    publish_folder(tmp, Path(out))
    return manifest
