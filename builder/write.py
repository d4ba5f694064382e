"""Stage 7, write: Parquet shards, the build report and the manifest, moved into place atomically.

Same records, same bytes: no timestamps, stable row order, fixed writer settings.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .contract import TABLES, arrow_schema

SHARD_BYTES = 256 * 1024 * 1024  # a table is split into shards of at most this much Arrow data
ROW_GROUP_BYTES = 32 * 1024 * 1024  # and each shard into row groups of at most this much
METADATA_PREFIX = "turmoil."


def to_arrow(table: str, records: Sequence[Mapping]) -> pa.Table:
    schema = arrow_schema(table)
    dates = [f.name for f in schema if pa.types.is_date32(f.type)]
    if dates:
        records = [{**r, **{d: date.fromisoformat(r[d]) if r[d] else None for d in dates}} for r in records]
    return pa.Table.from_pylist(list(records), schema=schema)


def shard_paths(table: str, count: int) -> list[str]:
    return [f"{table}/train-{i:05d}-of-{count:05d}.parquet" for i in range(count)]


def write_table(folder: Path, table: str, data: pa.Table, versions: Mapping[str, str]) -> list[str]:
    """Write one table as shards named as the Hugging Face Hub does; return their relative paths."""
    shards = max(1, math.ceil(data.nbytes / SHARD_BYTES))
    rows_per_shard = math.ceil(data.num_rows / shards) if data.num_rows else 0
    row_bytes = data.nbytes / data.num_rows if data.num_rows else 1
    row_group = max(1, min(1_000_000, int(ROW_GROUP_BYTES / max(row_bytes, 1))))
    metadata = {f"{METADATA_PREFIX}{k}": v for k, v in versions.items()} | {f"{METADATA_PREFIX}table": table}
    data = data.replace_schema_metadata(metadata)
    paths = shard_paths(table, shards)
    (folder / table).mkdir(parents=True, exist_ok=True)
    settings = dict(compression="zstd", compression_level=3, use_dictionary=False, write_page_index=True,
                    write_statistics=True)
    for i, rel in enumerate(paths):
        if not data.num_rows:  # no row group at all: readers choke on an empty one
            pq.ParquetWriter(folder / rel, data.schema, **settings).close()
            continue
        part = data.slice(i * rows_per_shard, rows_per_shard)
        pq.write_table(part, folder / rel, row_group_size=row_group, **settings)
    return paths


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        aside = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.rename(out, aside)
        os.rename(tmp, out)
        shutil.rmtree(aside)
    else:
        os.rename(tmp, out)


def write_dataset(out: Path, tables: Mapping[str, Sequence[Mapping]], report: Mapping,
                  versions: Mapping[str, str],
                  extra_files: Mapping[str, bytes | Callable[[Path], bytes]] | None = None) -> dict:
    """Write every table, the report, ``extra_files`` (the card...) and the manifest into a temporary folder
    beside ``out``, then swap it in. Returns the manifest. A value of ``extra_files`` may be a function of the
    folder being written, called once the tables are in it (croissant.json lists the shards' sha256).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        rows = {}
        for table in TABLES:
            records = tables.get(table, ())
            write_table(tmp, table, to_arrow(table, records), versions)
            rows[table] = len(records)
        (tmp / "build_report.json").write_bytes(dump_json(report))
        for rel, data in (extra_files or {}).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data(tmp) if callable(data) else data)
        files = {
            p.relative_to(tmp).as_posix(): sha256_file(p)
            for p in sorted(tmp.rglob("*")) if p.is_file()
        }
        manifest = {**versions, "rows": rows, "files": files}
        (tmp / "manifest.json").write_bytes(dump_json(manifest))
        os.chmod(tmp, 0o755)
        publish_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest
