"""Stage 8, card: the dataset card (README.md) rendered from dataset_card.md, and croissant.json.

The template holds the prose and the fixed metadata; everything else is derived: the configs and features
from the schemas (``builder/hf.py``), the figures from the Parquet shards already written in the output folder
and from the build report. No timestamps: the same data gives the same bytes.

The figures are read from the shards, never from the rows in memory: row counts from the Parquet footers, the
rest by reading only the columns needed, one record batch at a time, and counting with ``pyarrow.compute``.
Memory stays bounded by the batch size and the number of distinct values counted (languages, kinds), with two
exceptions kept small on purpose: the list of sources (at most ``MAX_LISTED_SOURCES`` rows, else one sentence)
and the distinct article pairs of the translation links (two string columns in Arrow, one row per pair).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
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
# above this many articles, the Sources section gives their number and total size instead of one row each
MAX_LISTED_SOURCES = 1000
BATCH_ROWS = 65_536  # rows per record batch when the card reads a column of the shards
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


def shards(folder: Path, table: str) -> list[Path]:
    """The Parquet shards of ``table`` in ``folder``, in order."""
    return sorted((Path(folder) / table).glob(f"{SPLIT}-*.parquet"))


def shard_sizes(folder: Path, table: str) -> tuple[int, int]:
    """(uncompressed bytes of the data, bytes of the files) of a table's shards: ``num_bytes`` and
    ``download_size`` in the card, read from the Parquet footers, so the same data gives the same numbers."""
    paths = shards(folder, table)
    footers = [pq.read_metadata(p) for p in paths]
    data = sum(meta.row_group(i).total_byte_size for meta in footers for i in range(meta.num_row_groups))
    return data, sum(p.stat().st_size for p in paths)


def row_count(folder: Path, table: str) -> int:
    """Rows of a table, from its shards' Parquet footers (no data read)."""
    return sum(pq.read_metadata(p).num_rows for p in shards(folder, table))


def batches(folder: Path, table: str, names: Sequence[str]) -> Iterator[pa.RecordBatch]:
    """The columns ``names`` of a table, one record batch at a time, shard after shard."""
    for path in shards(folder, table):
        parquet = pq.ParquetFile(path)
        try:
            yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=list(names))
        finally:
            parquet.close()


def value_counts(folder: Path, table: str, names: Sequence[str]) -> dict[str, Counter]:
    """How often each value occurs, per column of ``names``, in one pass over those columns only."""
    counts: dict[str, Counter] = {name: Counter() for name in names}
    for batch in batches(folder, table, names):
        for name in names:
            for item in pc.value_counts(batch.column(name)).to_pylist():
                counts[name][item["values"]] += item["counts"]
    return counts


def _article_pairs(folder: Path) -> int:
    """Distinct unordered (source, target) article pairs among the links of level ``article``."""
    parts = []
    for batch in batches(folder, "translation_links", ["level", "source_article_id", "target_article_id"]):
        links = batch.filter(pc.equal(batch.column("level"), "article"))
        if not links.num_rows:
            continue
        source, target = links.column("source_article_id"), links.column("target_article_id")
        pairs = pa.table({"lo": pc.min_element_wise(source, target), "hi": pc.max_element_wise(source, target)})
        parts.append(pairs.group_by(["lo", "hi"]).aggregate([]))
    if not parts:
        return 0
    return pa.concat_tables(parts).group_by(["lo", "hi"]).aggregate([]).num_rows


@dataclass(frozen=True)
class Figures:
    """What the card says about the data, read from the shards in the output folder."""

    rows: dict[str, int]  # table -> rows
    articles_per_lang: Counter
    paragraphs_per_lang: Counter
    paragraphs_per_kind: Counter
    link_levels: Counter
    article_pairs: int


def figures(folder: Path) -> Figures:
    """The card's figures for the dataset written in ``folder``, reading only the columns they need."""
    paragraphs = value_counts(folder, "paragraphs", ["lang", "kind"])
    return Figures(
        rows={t: row_count(folder, t) for t in TABLES},
        articles_per_lang=value_counts(folder, "articles", ["lang"])["lang"],
        paragraphs_per_lang=paragraphs["lang"], paragraphs_per_kind=paragraphs["kind"],
        link_levels=value_counts(folder, "translation_links", ["level"])["level"],
        article_pairs=_article_pairs(folder),
    )


def languages(folder: Path) -> list[str]:
    """The languages of the articles written in ``folder``, sorted."""
    return sorted(value_counts(folder, "articles", ["lang"])["lang"])


def front_matter(fixed: Mapping, folder: Path, data: Figures | None = None) -> dict:
    """The card's YAML: the template's fixed keys, then languages, size, configs and dataset_info."""
    data = data if data is not None else figures(folder)
    sizes = {t: shard_sizes(folder, t) for t in TABLES}
    return {
        **fixed,
        "language": sorted(data.articles_per_lang),
        "size_categories": [size_category(max(data.rows[t] for t in TABLES))],
        "configs": [
            {"config_name": t, "data_files": [{"split": SPLIT, "path": f"{t}/{SPLIT}-*.parquet"}],
             **({"default": True} if i == 0 else {})}
            for i, t in enumerate(TABLES)
        ],
        "dataset_info": [
            {"config_name": t, "features": features(t),
             "splits": [{"name": SPLIT, "num_bytes": sizes[t][0], "num_examples": data.rows[t]}],
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


def _languages(data: Figures) -> str:
    articles, paragraphs = data.articles_per_lang, data.paragraphs_per_lang
    rows = [(f"`{lang}`", articles.get(lang, 0), paragraphs.get(lang, 0)) for lang in sorted(articles | paragraphs)]
    rows.append(("all", sum(articles.values()), sum(paragraphs.values())))
    return _table(["language", "articles", "paragraphs (by their own language)"], rows)


def _links(data: Figures) -> str:
    levels = data.link_levels
    text = (f"{levels.get('article', 0)} article links ({data.article_pairs} article pairs) and "
            f"{levels.get('paragraph', 0)} paragraph links.")
    if not data.rows["translation_links"]:
        text += (" This version has no translation links yet: the table is empty but has its full schema. polars and "
                 "pyarrow read it; `datasets` cannot load a table without rows (it raises an error).")
    return text


def _sources(folder: Path, count: int | None = None) -> str:
    """One row per article's source page, or, above ``MAX_LISTED_SOURCES`` articles, one sentence."""
    count = count if count is not None else row_count(folder, "articles")
    if count > MAX_LISTED_SOURCES:
        total = sum(pc.sum(batch.column("source_bytes")).as_py() or 0
                    for batch in batches(folder, "articles", ["source_bytes"]))
        return (f"This version was built from {count} raw pages, {total} bytes in all: too many to list here. The "
                "full list is in the articles table, columns `source_path`, `source_sha256` and `source_bytes`.")
    articles = [a for batch in batches(folder, "articles", ["source_path", "source_sha256", "source_bytes"])
                for a in batch.to_pylist()]  # at most MAX_LISTED_SOURCES rows
    rows = [(f"`{a['source_path']}`", f"`{a['source_sha256']}`", a["source_bytes"])
            for a in sorted(articles, key=lambda a: a["source_path"])]
    return ("The raw pages this version was built from, as `source_path`, `source_sha256` and `source_bytes` "
            "record them in the articles table:\n\n" + _table(["path", "sha256", "bytes"], rows))


def citation(fixed: Mapping, version: str) -> str:
    return (f"@misc{{turmoil_{version.replace('.', '_')},\n"
            f"  title = {{{{{fixed.get('pretty_name', 'turmoil')}: a multilingual, translation-linked news corpus}}}},\n"
            f"  note = {{Dataset version {version}}},\n"
            f"  version = {{{version}}}\n}}")


def _doctest_values(data: Figures) -> dict[str, str]:
    per_lang = sorted(data.articles_per_lang.items())
    per_kind = sorted(data.paragraphs_per_kind.items())
    return {
        "articles_rows": str(data.rows["articles"]),
        "paragraphs_rows": str(data.rows["paragraphs"]),
        "articles_columns": repr([name for name, _ in columns("articles") if "." not in name]),
        "articles_per_language": repr(per_lang),
        "paragraphs_per_kind": repr(per_kind),
    }


def render_card(report: Mapping, versions: Mapping[str, str], folder: Path, template: str | None = None) -> str:
    """README.md for the dataset written in ``folder`` (its shards must be there already; the figures are read
    from them)."""
    fixed, body = _split_template(template if template is not None else TEMPLATE.read_text(encoding="utf-8"))
    license_id = fixed.get("license", "")
    data = figures(folder)
    rows = [(f"`{t}`", data.rows[t], json_schema(t)["description"]) for t in TABLES]
    values = {
        **{k: versions[k] for k in ("dataset_version", "schema_version", "builder_version")},
        "tables": _table(["config", "rows", "one row per"], rows),
        "languages": _languages(data),
        "links": _links(data),
        "outcomes": _outcomes(report),
        "removed": _removed(report),
        "fields": _fields(),
        "sources": _sources(folder, data.rows["articles"]),
        "citation": citation(fixed, versions["dataset_version"]),
        "license": f"[{license_id.upper()}]({LICENSE_URLS.get(license_id, '')})",
        **_doctest_values(data),
    }
    meta = yaml.safe_dump(front_matter(fixed, folder, data), sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{meta}---\n{_fill(body, values)}"


def about(versions: Mapping[str, str], folder: Path | None = None) -> dict:
    """What croissant.json says about the dataset as a whole. Without ``folder``, from the template alone (and
    it raises when the template does not fit): everything but ``languages``. With ``folder``, the dataset
    written there (its shards must be there already) gives ``languages`` too."""
    fixed, body = _split_template(TEMPLATE.read_text(encoding="utf-8"))
    license_id = fixed.get("license", "")
    if license_id not in LICENSE_URLS:
        raise CardError(f"{TEMPLATE}: license {license_id!r} has no URL in builder/card.py LICENSE_URLS")
    match = re.search(r"^# .*\n\n(.+?)\n\n", body, re.M | re.S)  # the paragraph under the title
    if not match:
        raise CardError(f"{TEMPLATE}: no paragraph under a '# ' title to describe the dataset with")
    summary = match.group(1).replace("\n", " ")
    fields = {
        "name": fixed.get("pretty_name", "turmoil"), "description": summary, "license": LICENSE_URLS[license_id],
        "version": versions["dataset_version"], "citation": citation(fixed, versions["dataset_version"]),
        "keywords": fixed.get("tags", []),
    }
    return fields if folder is None else {**fields, "languages": languages(folder)}


def card_files(report: Mapping, versions: Mapping[str, str]) -> Files:
    """Files that describe the dataset, by path relative to the output folder. Each is a function of the folder
    being written, called once the shards are in it: the card reads its figures and sizes from them,
    croissant.json their sha256 and the languages. The template is checked here, before anything is written."""
    about_ = about(versions)  # fail before anything is written when the template does not fit

    def readme(folder: Path) -> bytes:
        return render_card(report, versions, folder).encode("utf-8")

    def croissant_json(folder: Path) -> bytes:
        return croissant_bytes(folder, about={**about_, "languages": languages(folder)})

    return {"README.md": readme, "croissant.json": croissant_json}
