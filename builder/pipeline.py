"""The build, top to bottom. Each stage is a plain function in its own module:

    read -> parse -> normalize -> identify language -> dedupe key     (per document, in the workers)
    deduplicate -> rows -> link -> validate -> card -> write          (per corpus)
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .card import card_files
from .contract import validate
from .dedupe import DedupeKey, dedupe_key, duplicates
from .errors import Reject, RejectedInputs, UsageError
from .executors import run
from .langid import identify
from .layouts import NoText, parse
from .link import link
from .normalize import normalize
from .read import MAX_BYTES, list_inputs, read
from .records import Page
from .versions import versions
from .write import write_dataset

PER_DOCUMENT: tuple[Callable[[Page], Page], ...] = (normalize, identify)


@dataclass(frozen=True)
class Options:
    seeds: Path
    out: Path
    allow_rejects: bool = False
    max_bytes: int = MAX_BYTES
    workers: int = 1  # processes for the per-document stages; the command line defaults to every core


@dataclass(frozen=True)
class Summary:
    out: Path
    articles: int
    paragraphs: int
    links: int
    rejects: int
    seconds: float

    def __str__(self) -> str:
        return (f"built {self.out}: {self.articles} articles, {self.paragraphs} paragraphs, {self.links} links, "
                f"{self.rejects} rejects in {self.seconds:.1f} s")


Done = tuple[Page, DedupeKey]


def process(root: Path, item: str | Reject, max_bytes: int = MAX_BYTES) -> Done | Reject:
    """One input file through the per-document stages."""
    if isinstance(item, Reject):
        return item
    source = read(root, item, max_bytes)
    if isinstance(source, Reject):
        return source
    try:
        page = parse(source)
    except NoText:
        return Reject(item, "no_text", "no line of text to take as a title")
    for stage in PER_DOCUMENT:
        page = stage(page)
    return page, dedupe_key(page)


def article_id(page: Page) -> str:
    key = f"{page.source.sha256}\0{page.source.path}".encode()
    return "a" + hashlib.sha256(key).hexdigest()[:16]


def rows(page: Page, duplicate_of: str | None = None) -> tuple[dict, list[dict]]:
    """A page as one articles row and its paragraphs rows (fields exactly as in schema/); a duplicate has
    no paragraphs rows."""
    aid = article_id(page)
    article = {
        "article_id": aid, "lang": page.lang, "title": page.title, "published": page.published,
        "source_path": page.source.path, "source_sha256": page.source.sha256, "source_bytes": page.source.size,
        "source_encoding": page.source.encoding, "layout": page.layout,
        "paragraph_count": 0 if duplicate_of else len(page.paragraphs), "duplicate_of": duplicate_of,
        "removed": [{"char_start": s.start, "char_end": s.end, "reason": s.label} for s in page.removed],
    }
    paragraphs = [] if duplicate_of else [
        {"paragraph_id": f"{aid}-p{i}", "article_id": aid, "position": i, "kind": p.kind, "text": p.text,
         "lang": p.lang, "char_start": p.start, "char_end": p.end}
        for i, p in enumerate(page.paragraphs)
    ]
    return article, paragraphs


def report(results: list[Page | Reject], articles: list[dict]) -> dict:
    """What became of every input, and how much was removed for which reason."""
    by_path = {a["source_path"]: a for a in articles}
    removed: dict[str, Counter] = defaultdict(Counter)
    files = []
    for result in results:
        if isinstance(result, Reject):
            files.append({"path": result.path, "outcome": "rejected", "reason": result.reason})
            continue
        article = by_path[result.source.path]
        per_reason: Counter[str] = Counter()
        for span in result.removed:
            per_reason[span.label] += span.end - span.start
            removed[span.label]["spans"] += 1
            removed[span.label]["chars"] += span.end - span.start
        files.append({
            "path": result.source.path, "outcome": "duplicate" if article["duplicate_of"] else "article",
            "article_id": article["article_id"], "duplicate_of": article["duplicate_of"], "encoding": result.source.encoding, "layout": result.layout,
            "lang": result.lang, "paragraphs": article["paragraph_count"], "removed_chars": dict(per_reason),
        })
    outcomes = Counter(f["outcome"] for f in files)
    return {
        "inputs": len(results), "outcomes": dict(outcomes), "removed": {k: dict(v) for k, v in removed.items()},
        "rejects": [r.as_dict() for r in results if isinstance(r, Reject)], "files": files,
    }


def build(options: Options, progress: Callable[[Iterable, int], Iterator] | None = None) -> Summary:
    started = time.perf_counter()
    if Path(options.out).resolve().is_relative_to(Path(options.seeds).resolve()):
        raise UsageError(f"--out {options.out} is inside --seeds {options.seeds}: the next build would read its "
                         "own output as pages; write it elsewhere")
    inputs = list_inputs(options.seeds)
    work = functools.partial(process, options.seeds, max_bytes=options.max_bytes)
    done = run(work, inputs, options.workers, progress)
    rejects = [r for r in done if isinstance(r, Reject)]
    if rejects and not options.allow_rejects:
        raise RejectedInputs(rejects)
    pages = [d[0] for d in done if not isinstance(d, Reject)]
    duplicate_of = duplicates([d[1] for d in done if not isinstance(d, Reject)])
    articles, paragraphs = [], []
    for i, page in enumerate(pages):
        article, paras = rows(page, article_id(pages[duplicate_of[i]]) if i in duplicate_of else None)
        articles.append(article)
        paragraphs.extend(paras)
    results = [d if isinstance(d, Reject) else d[0] for d in done]
    by_article: dict[str, list[dict]] = defaultdict(list)
    for paragraph in paragraphs:
        by_article[paragraph["article_id"]].append(paragraph)
    links = link([a for a in articles if not a["duplicate_of"]], by_article)
    tables = {"articles": articles, "paragraphs": paragraphs, "translation_links": links}
    validate(tables, source_of={a["article_id"]: a["source_path"] for a in articles})
    build_report, stamp = report(results, articles), versions()
    write_dataset(options.out, tables, build_report, stamp, card_files(tables, build_report, stamp))
    return Summary(options.out, len(articles), len(paragraphs), len(links), len(rejects),
                   time.perf_counter() - started)
