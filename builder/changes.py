"""What changed between two versions of the dataset, table by table, by primary key; and the CHANGELOG.md
that lists it. Pure functions over rows: the Hub is publish.py's business."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .contract import TABLES
from .errors import DatasetProblem
from .hf import PRIMARY_KEY

TITLE = "# Changelog\n"
SHOWN = 20  # keys listed per kind of change; the counts are always complete


@dataclass(frozen=True)
class TableChanges:
    table: str
    before: int
    after: int
    added: tuple[tuple, ...]
    removed: tuple[tuple, ...]
    changed: tuple[tuple, ...]


def read_tables(folder: Path, files: Iterable[str]) -> dict[str, list[dict]]:
    """Every table's rows from the Parquet shards among ``files`` (paths relative to ``folder``)."""
    tables: dict[str, list[dict]] = {}
    for table in TABLES:
        shards = sorted(rel for rel in files if rel.startswith(f"{table}/") and rel.endswith(".parquet"))
        tables[table] = pa.concat_tables([pq.read_table(folder / rel) for rel in shards]).to_pylist() if shards else []
    return tables


def _by_key(table: str, rows: Sequence[Mapping], where: str) -> dict[tuple, Mapping]:
    key = PRIMARY_KEY[table]
    found: dict[tuple, Mapping] = {}
    for row in rows:
        k = tuple(row.get(name) for name in key)
        if k in found:
            raise DatasetProblem(where, [f"{table}: primary key {dict(zip(key, k))} appears twice"])
        found[k] = row
    return found


def diff_table(table: str, old: Sequence[Mapping], new: Sequence[Mapping]) -> TableChanges:
    """Rows added, removed and changed (same key, other values) from ``old`` to ``new``, keys sorted."""
    before, after = _by_key(table, old, "previous version"), _by_key(table, new, "this version")
    return TableChanges(
        table, len(old), len(new),
        added=tuple(sorted(after.keys() - before.keys(), key=repr)),
        removed=tuple(sorted(before.keys() - after.keys(), key=repr)),
        changed=tuple(sorted((k for k in after.keys() & before.keys() if dict(after[k]) != dict(before[k])), key=repr)),
    )


def diff(old: Mapping[str, Sequence[Mapping]], new: Mapping[str, Sequence[Mapping]]) -> dict[str, TableChanges]:
    return {table: diff_table(table, old.get(table, ()), new.get(table, ())) for table in TABLES}


def _keys(table: str, keys: Sequence[tuple]) -> str:
    shown = ", ".join("`" + "/".join(map(str, k)) + "`" for k in keys[:SHOWN])
    return shown + (f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else "")


def entry(version: str, versions: Mapping[str, str], rows: Mapping[str, int], previous: str | None = None,
          previous_versions: Mapping[str, str] | None = None, changes: Mapping[str, TableChanges] | None = None) -> str:
    """One version's section of CHANGELOG.md (no dates: the same inputs give the same text)."""
    lines = [f"## v{version}", ""]
    built = f"schema {versions['schema_version']}, builder {versions['builder_version']}"
    if previous is None or changes is None:
        counts = ", ".join(f"{table} {n} rows" for table, n in rows.items())
        return "\n".join([*lines, f"First published version ({built}): {counts}.", ""])
    old = previous_versions or {}
    lines += [f"Compared with {previous} (schema {old.get('schema_version', '?')}, builder "
              f"{old.get('builder_version', '?')}; now {built}), by primary key:", "",
              "| table | key | rows before | rows after | added | removed | changed |", "|---|---|---|---|---|---|---|"]
    for table, c in changes.items():
        lines.append(f"| {table} | {', '.join(PRIMARY_KEY[table])} | {c.before} | {c.after} | {len(c.added)} | "
                     f"{len(c.removed)} | {len(c.changed)} |")
    details = [f"- {table}, {kind}: {_keys(table, keys)}" for table, c in changes.items()
               for kind, keys in (("added", c.added), ("removed", c.removed), ("changed", c.changed)) if keys]
    return "\n".join([*lines, "", *details, *([""] if details else [])])


def changelog(new_entry: str, previous_changelog: str | None) -> str:
    """CHANGELOG.md: the newest version first, then everything the previous version's file said."""
    older = (previous_changelog or "").removeprefix(TITLE).strip("\n")
    return f"{TITLE}\n{new_entry.rstrip()}\n" + (f"\n{older}\n" if older else "")
