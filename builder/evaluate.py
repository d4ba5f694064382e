"""Evaluate translation links against a gold file (the format of ``eval/ntrex-dev/gold.json``).

Gold: ``files[name]`` has ``lang``, ``group`` (files of one group translate each other), ``title``, ``date``,
``paragraphs`` and, optionally, ``units``: one id per paragraph, equal ids translating each other within a
group (default: the paragraph's index, so paragraph k aligns with paragraph k). Titles align with titles.

Built articles map to gold files by the base name of ``source_path`` (articles marked ``duplicate_of`` are
left out), paragraphs to gold paragraphs by their text (NFC, white space folded), titles by
``kind == "title"``. Only gold files that were built are scored; article pairs are scored after the
transitive closure of the predicted links, paragraph pairs as predicted.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from itertools import combinations
from pathlib import Path, PurePosixPath
from typing import Iterable, Sequence

TITLE = "title"


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def _units(gold_file: dict) -> list:
    """The translation unit of each gold paragraph: its index unless the gold says otherwise."""
    return gold_file.get("units", list(range(len(gold_file["paragraphs"]))))


def _prf(predicted: set, gold: set) -> dict:
    tp = len(predicted & gold)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(gold) if gold else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "predicted": len(predicted), "gold": len(gold), "true_positive": tp}


def _closure(edges: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}  # type: ignore[misc]


def eval_links_records(gold: dict, articles: Sequence[dict], paragraphs: Sequence[dict],
                       links: Sequence[dict]) -> dict:
    files = gold["files"]
    file_of = {a["article_id"]: PurePosixPath(a["source_path"]).name for a in articles
               if PurePosixPath(a["source_path"]).name in files and a.get("duplicate_of") is None}
    present = set(file_of.values())
    unit_by_text = {name: {_fold(t): u for t, u in zip(files[name]["paragraphs"], _units(files[name]))}
                    for name in present}
    unit_of: dict[str, tuple[str, object]] = {}
    for p in paragraphs:
        name = file_of.get(p["article_id"])
        if name is not None:
            unit = TITLE if p["kind"] == "title" else unit_by_text[name].get(_fold(p["text"]))
            if unit is not None:
                unit_of[p["paragraph_id"]] = (name, unit)

    by_group: dict[str, list[str]] = {}
    for name in sorted(present):
        by_group.setdefault(files[name]["group"], []).append(name)
    gold_articles = {p for names in by_group.values() for p in combinations(names, 2)}
    gold_paragraphs = set()
    for a, b in gold_articles:
        shared = set(_units(files[a])) & set(_units(files[b]))
        gold_paragraphs |= {((a, u), (b, u)) for u in shared | {TITLE}}

    edges, cross_articles, cross_paragraphs, predicted_paragraphs = [], 0, 0, set()
    for link in links:
        s, t = file_of.get(link["source_article_id"]), file_of.get(link["target_article_id"])
        different = s is not None and t is not None and files[s]["group"] != files[t]["group"]
        if link["level"] == "article":
            cross_articles += different
            if s is not None and t is not None:
                edges.append((s, t))
            continue
        cross_paragraphs += different
        us, ut = unit_of.get(link["source_id"]), unit_of.get(link["target_id"])
        if us is None or ut is None:  # a paragraph the gold does not know: a wrong link
            predicted_paragraphs.add((link["source_id"], link["target_id"]))
        else:
            predicted_paragraphs.add(tuple(sorted((us, ut), key=str)))
    gold_paragraphs = {tuple(sorted(p, key=str)) for p in gold_paragraphs}
    return {
        "articles": _prf(_closure(edges), gold_articles),
        "paragraphs": _prf(predicted_paragraphs, gold_paragraphs),
        "cross_document_article_links": cross_articles,
        "cross_document_paragraph_links": cross_paragraphs,
        "files": len(present),
        "gold_files_not_built": len(files) - len(present),
        "paragraphs_not_in_gold": sum(1 for p in paragraphs if p["article_id"] in file_of
                                      and p["paragraph_id"] not in unit_of),
    }


def _rows(folder: Path, columns: list[str]) -> list[dict]:
    import pyarrow.parquet as pq

    rows: list[dict] = []
    for path in sorted(folder.glob("*.parquet")):
        rows += pq.read_table(path, columns=columns).to_pylist()
    return rows


def eval_links(gold_path: str | Path, build_dir: str | Path) -> dict:
    """Figures for a built dataset folder (``articles/``, ``paragraphs/``, ``translation_links/`` Parquet)."""
    gold = json.loads(Path(gold_path).read_text(encoding="utf-8"))
    build = Path(build_dir)
    articles = _rows(build / "articles", ["article_id", "source_path", "duplicate_of"])
    paragraphs = _rows(build / "paragraphs", ["paragraph_id", "article_id", "kind", "text"])
    links = _rows(build / "translation_links", ["level", "source_id", "target_id", "source_article_id",
                                                 "target_article_id"])
    return eval_links_records(gold, articles, paragraphs, links)


def format_report(figures: dict) -> str:
    lines = []
    for level in ("articles", "paragraphs"):
        f = figures[level]
        lines.append(f"{level + ' pairs':16} P {f['precision']:.4f}  R {f['recall']:.4f}  F1 {f['f1']:.4f}  "
                     f"(predicted {f['predicted']}, gold {f['gold']}, correct {f['true_positive']})")
    lines.append(f"cross-document links: {figures['cross_document_article_links']} article, "
                 f"{figures['cross_document_paragraph_links']} paragraph")
    lines.append(f"gold files built: {figures['files']} (not built: {figures['gold_files_not_built']}); "
                 f"built paragraphs not in gold: {figures['paragraphs_not_in_gold']}")
    return "\n".join(lines)


def records_from_gold(gold: dict, names: Iterable[str] | None = None) -> tuple[list[dict], dict[str, list[dict]]]:
    """Article and paragraph records made straight from gold files (paragraph 0 is the title), with the
    fields the linker and the evaluator read: lets both run before, or without, the builder."""
    articles, paragraphs = [], {}
    for name in sorted(names if names is not None else gold["files"]):
        f = gold["files"][name]
        aid = "a" + hashlib.sha256(name.encode()).hexdigest()[:16]
        articles.append({"article_id": aid, "lang": f["lang"], "title": f["title"], "published": f["date"],
                         "source_path": name, "duplicate_of": None})
        texts = [("title", f["title"])] + [("body", t) for t in f["paragraphs"]]
        paragraphs[aid] = [{"paragraph_id": f"{aid}-p{i}", "article_id": aid, "position": i, "kind": kind,
                            "text": _fold(text), "lang": f["lang"]} for i, (kind, text) in enumerate(texts)]
    return articles, paragraphs
