"""Stage 8, card: the dataset card (README.md) rendered from dataset_card.md, and croissant.json.

The template holds the prose and the fixed metadata; everything else is derived: the configs and features
from the schemas (``builder/hf.py``), the figures from the tables and the build report. No timestamps: the
same data gives the same bytes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from .contract import TABLES, json_schema
from .croissant import croissant_bytes
from .errors import CardError
from .hf import columns, descriptions, enum_values, features, type_label

TEMPLATE = Path(__file__).resolve().parent.parent / "dataset_card.md"
SPLIT = "train"
LICENSE_URLS = {"cc-by-sa-4.0": "https://creativecommons.org/licenses/by-sa/4.0/"}
SIZE_CATEGORIES = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                   (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
# what each removal reason of schema/article.schema.json (removed.reason) means; the card refuses to render
# when the schema's enum and this list differ
REMOVAL_REASONS = {
    "section_label": "the site's section word above the title (e.g. 'news'), not part of the article",
    "date_line": "the line that shows the publication date; the date itself is kept in `published`",
    "metadata_line": "dense pages: the line under the title with publisher, section and the page's age "
                     "(e.g. '2 months ago'), which is not a date",
    "site_chrome": "site navigation: a line listing the languages the site is available in",
    "repeated_body": "a paragraph that repeats an earlier stretch of the same page (pages often carry their body twice)",
    "trailer": "site boilerplate after the last paragraph: 'advertisement', 'related news', 'read more', 'share' "
               "and their equivalents in other languages",
}
PLACEHOLDER = re.compile(r"\{\{ *([a-z_]+) *\}\}")
Files = dict[str, bytes | Callable[[Path], bytes]]


def _split_template(text: str) -> tuple[dict, str]:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not match:
        raise CardError(f"{TEMPLATE}: no YAML front matter between '---' lines at the top")
    return yaml.safe_load(match.group(1)) or {}, text[match.end():]


def _fill(body: str, values: Mapping[str, str]) -> str:
    used = set(PLACEHOLDER.findall(body))
    missing, unused = sorted(used - set(values)), sorted(set(values) - used)
    if missing or unused:
        raise CardError(f"{TEMPLATE}: placeholders without a value: {missing}; values without a placeholder: "
                        f"{unused}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], body)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def size_category(rows: int) -> str:
    for bound, name in SIZE_CATEGORIES:
        if rows < bound:
            return name
    return "n>1B"


def shard_sizes(folder: Path, table: str) -> tuple[int, int]:
    """(uncompressed bytes of the data, bytes of the files) of a table's shards: ``num_bytes`` and
    ``download_size`` in the card, read from the Parquet footers, so the same data gives the same numbers."""
    shards = sorted((folder / table).glob(f"{SPLIT}-*.parquet"))
    footers = [pq.read_metadata(p) for p in shards]
    data = sum(meta.row_group(i).total_byte_size for meta in footers for i in range(meta.num_row_groups))
    return data, sum(p.stat().st_size for p in shards)


def front_matter(fixed: Mapping, tables: Mapping[str, Sequence[Mapping]], folder: Path) -> dict:
    """The card's YAML: the template's fixed keys, then languages, size, configs and dataset_info."""
    languages = sorted({a["lang"] for a in tables["articles"]})
    sizes = {t: shard_sizes(folder, t) for t in TABLES}
    return {
        **fixed,
        "language": languages,
        "size_categories": [size_category(max(len(tables[t]) for t in TABLES))],
        "configs": [
            {"config_name": t, "data_files": [{"split": SPLIT, "path": f"{t}/{SPLIT}-*.parquet"}],
             **({"default": True} if i == 0 else {})}
            for i, t in enumerate(TABLES)
        ],
        "dataset_info": [
            {"config_name": t, "features": features(t),
             "splits": [{"name": SPLIT, "num_bytes": sizes[t][0], "num_examples": len(tables[t])}],
             "download_size": sizes[t][1], "dataset_size": sizes[t][0]}
            for t in TABLES
        ],
    }


def _fields() -> str:
    parts = []
    for table in TABLES:
        about = descriptions(table)
        lines = [f"### {table}", "", json_schema(table)["description"], ""]
        for name, field in columns(table):
            depth = name.count(".")
            values = enum_values(table, name)
            allowed = f" One of: {', '.join(f'`{v}`' for v in values)}." if values else ""
            nullable = ", nullable" if field.nullable else ""
            lines.append(f"{'  ' * depth}- `{name.split('.')[-1]}` ({type_label(field.type)}{nullable}): "
                         f"{about[name]}{allowed}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _removed(report: Mapping) -> str:
    reasons = enum_values("articles", "removed.reason") or []
    if sorted(reasons) != sorted(REMOVAL_REASONS):
        raise CardError(f"removal reasons differ: schema/article.schema.json has {sorted(reasons)}, "
                        f"builder/card.py REMOVAL_REASONS has {sorted(REMOVAL_REASONS)}")
    counts = report.get("removed", {})
    rows = [(f"`{r}`", REMOVAL_REASONS[r], counts.get(r, {}).get("spans", 0), counts.get(r, {}).get("chars", 0))
            for r in reasons]
    return _table(["reason", "what it is", "spans", "characters"], rows)


def _outcomes(report: Mapping) -> str:
    outcomes = report.get("outcomes", {})
    line = (f"This build read {report.get('inputs', 0)} input files: {outcomes.get('article', 0)} became articles, "
            f"{outcomes.get('duplicate', 0)} are duplicates (kept as rows marked by `duplicate_of`) and "
            f"{outcomes.get('rejected', 0)} were rejected.")
    rejects = report.get("rejects", [])
    if rejects:
        line += "\n\n" + _table(["rejected file", "reason"], [(f"`{r['path']}`", r["reason"]) for r in rejects])
    return line


def _languages(tables: Mapping[str, Sequence[Mapping]]) -> str:
    articles = Counter(a["lang"] for a in tables["articles"])
    paragraphs = Counter(p["lang"] for p in tables["paragraphs"])
    rows = [(f"`{lang}`", articles.get(lang, 0), paragraphs.get(lang, 0)) for lang in sorted(articles | paragraphs)]
    rows.append(("all", sum(articles.values()), sum(paragraphs.values())))
    return _table(["language", "articles", "paragraphs (by their own language)"], rows)


def _links(links: Sequence[Mapping]) -> str:
    levels = Counter(link["level"] for link in links)
    pairs = {frozenset((link["source_article_id"], link["target_article_id"])) for link in links
             if link["level"] == "article"}
    text = (f"{levels.get('article', 0)} article links ({len(pairs)} article pairs) and "
            f"{levels.get('paragraph', 0)} paragraph links.")
    if not links:
        text += (" This version has no translation links yet: the table is empty but has its full schema. polars and "
                 "pyarrow read it; `datasets` cannot load a table without rows (it raises an error).")
    return text


def _sources(articles: Sequence[Mapping]) -> str:
    rows = [(f"`{a['source_path']}`", f"`{a['source_sha256']}`", a["source_bytes"])
            for a in sorted(articles, key=lambda a: a["source_path"])]
    return ("The raw pages this version was built from, as `source_path`, `source_sha256` and `source_bytes` "
            "record them in the articles table:\n\n" + _table(["path", "sha256", "bytes"], rows))


def citation(fixed: Mapping, version: str) -> str:
    return (f"@misc{{turmoil_{version.replace('.', '_')},\n"
            f"  title = {{{{{fixed.get('pretty_name', 'turmoil')}: a multilingual, translation-linked news corpus}}}},\n"
            f"  note = {{Dataset version {version}}},\n"
            f"  version = {{{version}}}\n}}")


def _doctest_values(tables: Mapping[str, Sequence[Mapping]]) -> dict[str, str]:
    per_lang = sorted(Counter(a["lang"] for a in tables["articles"]).items())
    per_kind = sorted(Counter(p["kind"] for p in tables["paragraphs"]).items())
    return {
        "articles_rows": str(len(tables["articles"])),
        "paragraphs_rows": str(len(tables["paragraphs"])),
        "articles_columns": repr([name for name, _ in columns("articles") if "." not in name]),
        "articles_per_language": repr(per_lang),
        "paragraphs_per_kind": repr(per_kind),
    }


def render_card(tables: Mapping[str, Sequence[Mapping]], report: Mapping, versions: Mapping[str, str],
                folder: Path, template: str | None = None) -> str:
    """README.md for the dataset written in ``folder`` (its shards must be there already)."""
    fixed, body = _split_template(template if template is not None else TEMPLATE.read_text(encoding="utf-8"))
    license_id = fixed.get("license", "")
    rows = [(f"`{t}`", len(tables[t]), json_schema(t)["description"]) for t in TABLES]
    values = {
        **{k: versions[k] for k in ("dataset_version", "schema_version", "builder_version")},
        "tables": _table(["config", "rows", "one row per"], rows),
        "languages": _languages(tables),
        "links": _links(tables["translation_links"]),
        "outcomes": _outcomes(report),
        "removed": _removed(report),
        "fields": _fields(),
        "sources": _sources(tables["articles"]),
        "citation": citation(fixed, versions["dataset_version"]),
        "license": f"[{license_id.upper()}]({LICENSE_URLS.get(license_id, '')})",
        **_doctest_values(tables),
    }
    meta = yaml.safe_dump(front_matter(fixed, tables, folder), sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{meta}---\n{_fill(body, values)}"


def about(tables: Mapping[str, Sequence[Mapping]], versions: Mapping[str, str]) -> dict:
    """What croissant.json says about the dataset as a whole, from the template and the data."""
    fixed, body = _split_template(TEMPLATE.read_text(encoding="utf-8"))
    license_id = fixed.get("license", "")
    if license_id not in LICENSE_URLS:
        raise CardError(f"{TEMPLATE}: license {license_id!r} has no URL in builder/card.py LICENSE_URLS")
    match = re.search(r"^# .*\n\n(.+?)\n\n", body, re.M | re.S)  # the paragraph under the title
    if not match:
        raise CardError(f"{TEMPLATE}: no paragraph under a '# ' title to describe the dataset with")
    summary = match.group(1).replace("\n", " ")
    return {
        "name": fixed.get("pretty_name", "turmoil"), "description": summary, "license": LICENSE_URLS[license_id],
        "version": versions["dataset_version"], "citation": citation(fixed, versions["dataset_version"]),
        "languages": sorted({a["lang"] for a in tables["articles"]}), "keywords": fixed.get("tags", []),
    }


def card_files(tables: Mapping[str, Sequence[Mapping]], report: Mapping, versions: Mapping[str, str]) -> Files:
    """Files that describe the dataset, by path relative to the output folder. Each is a function of the folder
    being written, called once the shards are in it: the card gives their sizes, croissant.json their sha256."""
    about_ = about(tables, versions)  # fail before anything is written when the template does not fit
    return {
        "README.md": lambda folder: render_card(tables, report, versions, folder).encode("utf-8"),
        "croissant.json": partial(croissant_bytes, about=about_),
    }
