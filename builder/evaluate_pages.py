"""Page-level figures against a gold file: language, title and date accuracy, and paragraph agreement."""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

import polars as pl

from .layouts.text import fold


def eval_pages(gold_path: Path, build_dir: Path) -> dict:
    gold = json.loads(Path(gold_path).read_text(encoding="utf-8"))["files"]
    articles = pl.read_parquet(Path(build_dir) / "articles" / "*.parquet")
    paragraphs = pl.read_parquet(Path(build_dir) / "paragraphs" / "*.parquet")
    texts = {
        row["article_id"]: row["text"]
        for row in paragraphs.filter(pl.col("kind") != "title").sort("article_id", "position")
        .group_by("article_id", maintain_order=True).agg("text").iter_rows(named=True)
    }
    counts = {"pages": 0, "lang": 0, "title": 0, "date": 0, "paragraphs": 0}
    misses: list[str] = []
    for row in articles.iter_rows(named=True):
        name = posixpath.basename(row["source_path"])
        if name not in gold:
            continue
        g = gold[name]
        counts["pages"] += 1
        published = row["published"].isoformat() if row["published"] else None
        checks = {
            "lang": row["lang"] == g["lang"],
            "title": row["title"] == fold(g["title"]),
            "date": published == g["date"],
            "paragraphs": texts.get(row["article_id"], []) == [fold(p) for p in g["paragraphs"]],
        }
        for key, ok in checks.items():
            counts[key] += ok
            if not ok:
                misses.append(f"{name}: {key}")
    return {"gold_pages": len(gold), **counts, "misses": misses}


def format_pages(result: dict) -> str:
    n = max(result["pages"], 1)
    lines = [f"pages matched to gold: {result['pages']} of {result['gold_pages']}"]
    for key in ("lang", "title", "date", "paragraphs"):
        lines.append(f"{key:<11} {result[key]:>5} / {result['pages']}  ({result[key] / n:.4f})")
    lines += [f"  miss: {m}" for m in result["misses"][:50]]
    return "\n".join(lines)
