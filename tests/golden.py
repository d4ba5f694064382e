"""The golden files of the end-to-end test: a build of seeds/ as readable JSON lines.

Refresh them on purpose, after reading the diff, with:  python tests/golden.py --approve
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

GOLDEN = Path(__file__).resolve().parent / "golden"
TABLES = ("articles", "paragraphs", "translation_links")


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def render(build_dir: Path) -> dict[str, str]:
    """The golden text of every table and of the build report, from a dataset folder."""
    out = {}
    for table in TABLES:
        shards = sorted((build_dir / table).glob("*.parquet"))
        rows = [r for shard in shards for r in pq.read_table(shard).to_pylist()]
        out[f"{table}.jsonl"] = "".join(
            json.dumps({k: _jsonable(v) for k, v in r.items()}, ensure_ascii=False, sort_keys=True) + "\n"
            for r in rows
        )
    out["build_report.json"] = (build_dir / "build_report.json").read_text(encoding="utf-8")
    return out


def approve() -> None:
    sys.path.insert(0, str(GOLDEN.parent.parent))
    from builder.pipeline import Options, build

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "dataset"
        build(Options(seeds=GOLDEN.parent.parent / "seeds", out=out))
        GOLDEN.mkdir(exist_ok=True)
        for name, text in render(out).items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
            print(f"wrote {GOLDEN / name}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--approve"]:
        sys.exit(__doc__)
    approve()
