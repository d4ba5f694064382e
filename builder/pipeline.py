"""The build, top to bottom. Each stage is a plain function in its own module; the corpus streams through
in shards of ``SHARD_FILES`` input files, so memory holds one shard's pages and compact keys, never the corpus:

1. per shard, in the workers: read -> parse -> normalize -> identify language, file by file, then rows and
   keys (dedupe key, link key, the screen's sketch) for ``KEYS_CHARS`` characters of pages at a time (their
   words looked up together), then the rows validated and the paragraphs laid out as columns for the writer
   (``Rows``), written to a work file with a completion marker;
2. in the driver, on the keys only: deduplicate, then choose the candidate translation pairs;
3. in the workers: screen the candidate pairs (``SCREEN_PAIRS`` per unit), run the full encoder once over
   each article of a pair that passed (``EMBED_ARTICLES`` per unit; with workers in other processes, beside
   the screen's units as soon as that many wait), then align and link those pairs (``PAIRS_PER_UNIT`` per
   unit);
4. in the driver, streaming the work files in order: write Parquet shards (validating the links, and again
   the articles rows that deduplication changed), the report, the card, the manifest, and swap the folder in.
   The articles and paragraphs need only step 2: when the units run in other processes, a process of the
   lowest priority writes them from then on, on the cores that step 3 leaves idle.

Work files live in ``.<out>.work/`` beside the output (or ``--work``); a build that is stopped resumes
from the shards it finished. Units are cut from the sorted inputs and merged in order, so the output bytes
never depend on the executor, the number of workers or the order in which units finish.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

from . import vectors
from .card import card_files
from .contract import arrow_schema, violations
from .dedupe import DedupeKey, dedupe_key, duplicates
from .errors import ContractViolation, Reject, RejectedInputs, TurmoilError, UsageError
from .executors import Background, Executor, Unit, fingerprint, make_executor, one_blas_thread, run_units, unit
from .langid import identify
from .layouts import NoText, parse
from .lexicon import LEXICON
from .link import (
    LinkKey,
    Sketch,
    articles_units,
    candidate_batches,
    link_batch,
    link_features,
    screen_pairs,
)
from .normalize import normalize
from .read import MAX_BYTES, list_inputs, read
from .records import Page
from .versions import versions
from .workfile import WorkFile, WorkFiles, pack, read_all
from .write import JsonListWriter, TableWriter, finish_folder, new_folder
from .write import warm as warm_writer

SHARD_FILES = 256  # input files per unit of per-document work, at most
MIN_SHARD_FILES = 16  # ... and at least, unless --shard-files says otherwise
UNITS_PER_WORKER = 8  # fewer files per unit when the corpus is small, so that the workers finish together
SCREEN_PAIRS = 4096  # candidate pairs per unit of screening work
FIRST_SCREEN_PAIRS = 256  # ... in the first unit, then twice as many each unit (the workers start sooner)
EMBED_ARTICLES = 8  # articles per unit of encoder work, at most (fewer when few: the workers finish together)
KEYS_CHARS = 1_000_000  # characters of text whose pages' keys are worked out together (their words looked up at once)
PAIRS_PER_UNIT = 16  # pairs per unit of linking work (some 20 ms a pair: small units spread it over the workers)
PER_DOCUMENT: tuple[tuple[str, Callable[[Page], Page]], ...] = (("normalize", normalize), ("identify", identify))


@dataclass(frozen=True)
class Options:
    seeds: Path
    out: Path
    allow_rejects: bool = False
    max_bytes: int = MAX_BYTES
    workers: int = 1  # processes for the per-document and linking work; the command line defaults to every core
    executor: str = "local"  # or "ray"
    ray_address: str | None = None  # an existing Ray cluster; None starts a local one
    work: Path | None = None  # work files; default .<out>.work beside the output
    shard_files: int | None = None  # input files per unit of per-document work (default: ``shard_files()``); the
    # output does not depend on it


@dataclass(frozen=True)
class Summary:
    out: Path
    articles: int
    paragraphs: int
    links: int
    rejects: int
    seconds: float
    pages: int = 0
    input_bytes: int = 0
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (per-document ones summed over workers)
    resumed: int = 0  # work units taken from an earlier, interrupted run

    def __str__(self) -> str:
        resumed = f" ({self.resumed} shards resumed)" if self.resumed else ""
        return (f"built {self.out}: {self.articles} articles, {self.paragraphs} paragraphs, {self.links} links, "
                f"{self.rejects} rejects in {self.seconds:.1f} s{resumed}")

    def timings(self) -> dict:
        return {"pages": self.pages, "input_bytes": self.input_bytes, "seconds": self.seconds,
                "stages": self.stages}


@dataclass(frozen=True)
class Doc:
    """What the per-document stages make of one input: a reject, or its rows and keys."""

    reject: Reject | None = None
    article: dict | None = None  # the articles row, before deduplication
    paragraphs: tuple[dict, ...] = ()
    dedupe: DedupeKey | None = None
    link: LinkKey | None = None


def article_id(page: Page) -> str:
    key = f"{page.source.sha256}\0{page.source.path}".encode()
    return "a" + hashlib.sha256(key).hexdigest()[:16]


def rows(page: Page) -> tuple[dict, list[dict]]:
    """A page as one articles row and its paragraphs rows (fields exactly as in schema/)."""
    aid = article_id(page)
    article = {
        "article_id": aid, "lang": page.lang, "title": page.title, "published": page.published,
        "source_path": page.source.path, "source_sha256": page.source.sha256, "source_bytes": page.source.size,
        "source_encoding": page.source.encoding, "layout": page.layout,
        "paragraph_count": len(page.paragraphs), "duplicate_of": None,
        "removed": [{"char_start": s.start, "char_end": s.end, "reason": s.label} for s in page.removed],
    }
    paragraphs = [
        {"paragraph_id": f"{aid}-p{i}", "article_id": aid, "position": i, "kind": p.kind, "text": p.text,
         "lang": p.lang, "char_start": p.start, "char_end": p.end}
        for i, p in enumerate(page.paragraphs)
    ]
    return article, paragraphs


def process(root: Path, item: str | Reject, max_bytes: int, clock: Counter) -> Page | Reject:
    """One input file through the per-document stages; ``clock`` gathers seconds per stage."""
    if isinstance(item, Reject):
        return item
    t = time.perf_counter()
    source = read(root, item, max_bytes)
    clock["read"] += (now := time.perf_counter()) - t
    if isinstance(source, Reject):
        return source
    try:
        page = parse(source)
    except NoText:
        return Reject(item, "no_text", "no line of text to take as a title")
    finally:
        clock["parse"] += (t := time.perf_counter()) - now
    for name, stage in PER_DOCUMENT:
        page = stage(page)
        clock[name] += (now := time.perf_counter()) - t
        t = now
    return page


def keyed(pages: Sequence[Page | Reject], clock: Counter) -> list[tuple[Doc, Sketch | None]]:
    """Processed pages as Docs (their rows and keys) and the screen's sketches of their articles; their words
    are looked up together (``Lexicon.words_of``)."""
    t = time.perf_counter()
    words = iter(LEXICON.words_of([[p.text for p in page.paragraphs] for page in pages if isinstance(page, Page)]))
    done: list[tuple[Doc, Sketch | None]] = []
    for page in pages:
        if isinstance(page, Reject):
            done.append((Doc(reject=page), None))
            continue
        article, paragraphs = rows(page)
        page_words = next(words)  # looked up once for both keys
        key, sketch = link_features(article, paragraphs, page_words)
        done.append((Doc(article=article, paragraphs=tuple(paragraphs), dedupe=dedupe_key(page, page_words),
                         link=key), sketch))
    clock["keys"] += time.perf_counter() - t
    return done


# A docs work file holds, as records: {"docs": n, "seconds": {stage: seconds}}, then the n Docs in input
# order (without their dedupe keys), then their n sketches (None for a reject), so that linking reads one
# article's record alone, then one record of what the driver needs of them all: each Doc without its paragraphs
# (with its dedupe key), and its characters of text; then one record of what the writer needs (``Rows``).
DOCS_FORMAT = 3  # in the docs units' fingerprints: a work file of another layout is not resumed


def doc_record(index: int) -> int:
    return 1 + index


def sketch_record(docs: int, index: int) -> int:
    return 1 + docs + index


def keys_record(docs: int) -> int:
    return 1 + 2 * docs


def rows_record(docs: int) -> int:
    return 2 + 2 * docs


@dataclass(frozen=True)
class Rows:
    """What the writer needs of a docs unit's Docs, made in the worker that made them, so that the one process
    that writes the tables does little per row (its work is serial, however many workers there are): each
    input's reject or articles row (as if no duplicate), the paragraphs rows as columns, and each article's
    schema violations, found here (the writer validates again only the rows that deduplication changes)."""

    docs: tuple[tuple[Reject | None, dict | None], ...]  # per input, in order
    paragraphs: dict[str, list]  # column -> values, the paragraphs of every article in order
    counts: tuple[int, ...]  # per input, its rows in ``paragraphs``
    found: tuple[tuple[list, list], ...]  # per input, its articles and paragraphs rows' violations (empty: a reject)


def rows_of(done: Sequence[tuple[Doc, Sketch | None]], clock: Counter) -> Rows:
    """A docs unit's ``Rows``; ``clock`` gets the seconds of validating ("validate") and of the columns ("write")."""
    t = time.perf_counter()
    found = []
    for doc, _ in done:
        if doc.article is None:
            found.append(([], []))
            continue
        source_of = {doc.article["article_id"]: doc.article["source_path"]}
        found.append((violations("articles", [doc.article], source_of),
                      violations("paragraphs", doc.paragraphs, source_of)))
    clock["validate"] += (now := time.perf_counter()) - t
    every = [p for doc, _ in done for p in doc.paragraphs]
    columns = {name: [p[name] for p in every] for name in arrow_schema("paragraphs").names}
    clock["write"] += time.perf_counter() - now
    return Rows(tuple((doc.reject, doc.article) for doc, _ in done), columns,
                tuple(len(doc.paragraphs) for doc, _ in done), tuple(found))


@unit
def process_shard(payload: tuple[str, Sequence[str | Reject], int]) -> bytes:
    """A unit of per-document work: a docs work file of its inputs."""
    root, items, max_bytes = payload
    clock: Counter[str] = Counter()
    done: list[tuple[Doc, Sketch | None]] = []
    pages: list[Page | Reject] = []  # processed, waiting for their keys
    chars = 0
    for item in items:
        pages.append(page := process(Path(root), item, max_bytes, clock))
        chars += 0 if isinstance(page, Reject) else sum(len(p.text) for p in page.paragraphs)
        if chars >= KEYS_CHARS:
            done += keyed(pages, clock)
            pages, chars = [], 0
    done += keyed(pages, clock)
    keys = [(dataclasses.replace(d, paragraphs=()), sum(len(p["text"]) for p in d.paragraphs)) for d, _ in done]
    table = rows_of(done, clock)
    return pack([{"docs": len(done), "seconds": dict(clock)}, *(dataclasses.replace(d, dedupe=None) for d, _ in done),
                 *(s for _, s in done), keys, table])


# Where an article's records are: (docs work file, number of Docs in it, the Doc's index).
Place = tuple[str, int, int]


@unit
def screen_unit(payload: tuple[Sequence[tuple[str, str]], dict[str, Place]]) -> bytes:
    """A unit of screening work: a work file of the candidate pairs of a batch that pass the screen."""
    pairs, where = payload
    with WorkFiles() as files:
        sketches = {aid: files.get(path, sketch_record(n, i)) for aid, (path, n, i) in where.items()}
    passed = screen_pairs(pairs, sketches)
    return pack(pair for pair, ok in zip(pairs, passed) if ok)


@unit
def embed_unit(payload: Sequence[tuple[str, int]]) -> bytes:
    """A unit of encoder work: the aligner's view (``Units``) of the Docs at (docs work file, index), each
    article encoded once however many pairs it is in, their paragraphs together; a work file, one record per Doc."""
    with WorkFiles() as files:
        docs = [files.get(path, doc_record(i)) for path, i in payload]
    assert all(doc.article is not None for doc in docs)
    return pack(articles_units([(doc.article, doc.paragraphs) for doc in docs]))


def screen_or_embed_unit(payload: tuple[str, object]) -> bytes:
    """A screening unit (``("screen", payload)``) or an encoder unit (``("embed", payload)``): so that the
    encoder can start on the articles of the pairs that passed while the screen goes on."""
    kind, inner = payload
    return screen_unit(inner) if kind == "screen" else embed_unit(inner)  # type: ignore[arg-type]


@unit
def link_unit(payload: tuple[Sequence[tuple[str, str]], dict[str, tuple[str, int, str, int]]]) -> bytes:
    """A unit of linking work: a work file of the links of a batch of screened pairs.
    ``payload[1]``: per article, its docs work file, its Doc's record, its Units' file and record."""
    pairs, where = payload
    with WorkFiles() as files:
        docs = {aid: files.get(path, record) for aid, (path, record, _, _) in where.items()}
        feats = {aid: files.get(units, k) for aid, (_, _, units, k) in where.items()}
    links = link_batch(pairs, {a: d.link for a, d in docs.items()}, {a: d.article for a, d in docs.items()},
                       {a: d.paragraphs for a, d in docs.items()}, feats)
    return pack(links)


def per_unit(items: int, workers: int, least: int, most: int) -> int:
    """Items per unit of work: enough that each worker gets about ``UNITS_PER_WORKER`` units (with a few big
    ones, one worker ends long after the others), within ``least`` and ``most``."""
    return max(least, min(most, -(-items // (UNITS_PER_WORKER * max(1, workers)))))


def shard_files(inputs: int, workers: int) -> int:
    """Input files per unit of per-document work: ``SHARD_FILES``, or fewer for a small corpus."""
    return per_unit(inputs, workers, MIN_SHARD_FILES, SHARD_FILES)


def _stat(root: Path, item: str | Reject) -> object:
    if isinstance(item, Reject):
        return item.as_dict()
    try:
        st = os.lstat(root / item)
    except OSError as err:
        return [item, str(err)]
    return [item, st.st_size, st.st_mtime_ns]


def _units(root: Path, inputs: Sequence[str | Reject], max_bytes: int, stamp: dict, size: int) -> list[Unit]:
    units = []
    for n, start in enumerate(range(0, len(inputs), size)):
        items = inputs[start:start + size]
        units.append(Unit(f"docs-{n:06d}", fingerprint(stamp, DOCS_FORMAT, max_bytes, [_stat(root, i) for i in items]),
                          (str(root), items, max_bytes)))
    return units


def _keys(path: Path) -> list[tuple[Place, Doc, int]]:
    """What blocking and deduplication need of a docs work file's Docs: each one's place, the Doc without its
    paragraphs, and the characters of their text (one record: the paragraphs are not read)."""
    with WorkFile(path) as wf:
        count = wf[0]["docs"]
        return [((str(path), count, index), doc, chars) for index, (doc, chars) in enumerate(wf[keys_record(count)])]


def _places(where: dict[str, Place], batch: Sequence[tuple[str, str]]) -> dict[str, Place]:
    return {a: where[a] for pair in batch for a in pair}


def _named(places: dict[str, tuple]) -> list:
    """What a linking unit's result depends on besides its pairs: where each article's records are."""
    return sorted((a, *(os.path.basename(x) if isinstance(x, str) else x for x in p)) for a, p in places.items())


def _report_entry(article: dict) -> dict:
    """The build report's line for an accepted input."""
    per_reason: Counter[str] = Counter()
    for span in article["removed"]:
        per_reason[span["reason"]] += span["char_end"] - span["char_start"]
    return {"path": article["source_path"], "outcome": "duplicate" if article["duplicate_of"] else "article",
            "article_id": article["article_id"], "duplicate_of": article["duplicate_of"],
            "encoding": article["source_encoding"], "layout": article["layout"], "lang": article["lang"],
            "paragraphs": article["paragraph_count"], "removed_chars": dict(per_reason)}


T = TypeVar("T")
_END = object()  # what ``_timed`` gets from an iterator that is done


def _timed(items: Iterator[T], clock: Counter, name: str) -> Iterator[T]:
    """``items``, with the seconds spent making them added to ``clock[name]``."""
    while True:
        start = time.perf_counter()
        item = next(items, _END)
        clock[name] += time.perf_counter() - start
        if item is _END:
            return
        yield item


def _cut(batches: Iterable[Sequence[T]], size: int, first: int | None = None) -> Iterator[list[T]]:
    """The items of ``batches``, in order, as lists of ``size`` (the last one shorter); the first ones of
    ``first`` items, then twice as many each time up to ``size``, so that the first is ready soon."""
    cut: list[T] = []
    size, most = min(size, first or size), size
    for batch in batches:
        cut.extend(batch)
        at = 0
        while len(cut) - at >= size:
            yield cut[at:at + size]
            at, size = at + size, min(most, 2 * size)
        del cut[:at]  # one copy of what is left, however large the batch
    if cut:
        yield cut


@contextmanager
def lap(clock: Counter, name: str, timer: Callable[[], float] = time.perf_counter) -> Iterator[None]:
    """Add the seconds the block takes to ``clock[name]`` (wall seconds, or what ``timer`` counts)."""
    start = timer()
    try:
        yield
    finally:
        clock[name] += timer() - start


def build(options: Options, progress: Callable[[int], Callable[[int], None]] | None = None) -> Summary:
    """Build the dataset folder ``options.out`` from ``options.seeds``. ``progress(total)``, when given, is
    called with the number of input shards and returns a function told how many more are done.

    The work files are removed when the build ends, whether it succeeds or fails on the data (rejects,
    violations); a build that is interrupted (killed, Ctrl-C, out of memory) leaves them, to resume from."""
    seeds, out = Path(options.seeds), Path(options.out)
    if out.resolve().is_relative_to(seeds.resolve()):
        raise UsageError(f"--out {out} is inside --seeds {seeds}: the next build would read its own output as "
                         "pages; write it elsewhere")
    work = Path(options.work) if options.work else out.parent / f".{out.name}.work"
    try:
        with one_blas_thread():  # blocking's products here; the workers forked from here keep it too
            return _build(options, seeds, out, work, progress)
    except TurmoilError:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _build(options: Options, seeds: Path, out: Path, work: Path,
           progress: Callable[[int], Callable[[int], None]] | None) -> Summary:
    started = time.perf_counter()
    stamp = versions()
    inputs = list_inputs(seeds)
    size = options.shard_files or shard_files(len(inputs), options.workers)
    units = _units(seeds.resolve(), inputs, options.max_bytes, stamp, max(1, size))
    clock: Counter[str] = Counter()
    if any(isinstance(i, str) for i in inputs):
        vectors.ensure()  # distilled once here, so that workers only read it
    executor: Executor = make_executor(options.executor, options.workers, options.ray_address)
    tmp: Path | None = None
    written: Background | None = None  # writes the articles and paragraphs while blocking and linking go on
    try:
        # 1. the per-document stages, shard by shard; each docs work file's keys are read as soon as its unit
        # is done, while the workers go on with the others
        keys_of: dict[Path, list[tuple[Place, Doc, int]]] = {}

        def docs_done(path: Path) -> None:
            keys_of[path] = _keys(path)
            if len(keys_of) == 1 and not executor.in_process:
                warm_writer()  # here, while the workers are busy: not when the links are written (see warm)

        files, ran = run_units(executor, process_shard, units, work / "docs",
                               progress(len(units)) if progress else None, finished=docs_done)
        # 2. keys only: duplicates, candidate pairs
        rejects: list[Reject] = []
        dedupe_keys: list[DedupeKey] = []
        link_keys: list[LinkKey] = []
        where: dict[str, Place] = {}
        chars: dict[str, int] = {}  # an article's characters of text: what encoding it costs
        ids: list[str] = []
        pages = input_bytes = 0
        for path in files:
            for place, doc, text_chars in keys_of.pop(path):
                if doc.reject is not None:
                    rejects.append(doc.reject)
                    continue
                assert doc.article is not None and doc.dedupe is not None and doc.link is not None
                pages += 1
                input_bytes += doc.article["source_bytes"]
                ids.append(doc.article["article_id"])
                dedupe_keys.append(doc.dedupe)
                link_keys.append(doc.link)
                where[doc.article["article_id"]] = place
                chars[doc.article["article_id"]] = text_chars
        if rejects and not options.allow_rejects:
            raise RejectedInputs(rejects)
        with lap(clock, "dedupe"):
            duplicate_of = {ids[i]: ids[j] for i, j in duplicates(dedupe_keys).items()}
        del dedupe_keys
        # the articles and paragraphs tables and the report need only the docs and the duplicates: when the
        # units run in other processes, a process of the lowest priority writes them from here on, on the cores
        # that blocking and the linking units leave idle (in this process after the linking, with 1 worker)
        tmp = new_folder(out)
        write_docs = partial(_write_docs, tmp, files, duplicate_of, rejects, stamp)
        if not executor.in_process:  # timed in CPU seconds: its wall time is mostly waiting for a core
            written = Background(partial(write_docs, timer=time.process_time))
        live = [k for k in link_keys if k.article_id not in duplicate_of]
        del link_keys
        # 3. screen the candidate pairs as blocking settles them, the undated articles' first and then day by
        # day (the workers screen the first units while the driver blocks the later days: a unit then reads the
        # sketches of a few days' articles, not of all), encode the articles of the pairs that pass, link those
        # pairs. Blocking's own time is "candidates"; the rest of the phase, "screen".
        blocking: Counter[str] = Counter()

        def screen_units(live: Sequence[LinkKey], where: dict[str, Place]) -> Iterator[Unit]:
            batches = _timed(candidate_batches(live), blocking, "candidates")
            for n, batch in enumerate(_cut(batches, SCREEN_PAIRS, FIRST_SCREEN_PAIRS)):
                places = _places(where, batch)
                yield Unit(f"screen-{n:06d}", fingerprint(stamp, batch, _named(places)), (batch, places))

        # with workers in other processes, the encoder starts on the articles of the pairs that passed as
        # soon as EMBED_ARTICLES of them wait (while blocking and the screen go on), in units beside the
        # screen's; the rest, longest first, once every pair is screened
        passed: list[tuple[str, str]] = []  # the pairs that passed, as their screen units finish
        waiting: list[str] = []  # articles of passed pairs not yet given to an encoder unit, as they come
        taken: set[str] = set()
        early: list[list[tuple[str, int]]] = []  # the encoder units made beside the screen's

        def passing(path: Path) -> None:
            if path.name.startswith("screen-"):
                for pair in read_all(path):
                    passed.append(pair)
                    waiting.extend(a for a in pair if a not in taken)
                    taken.update(pair)

        def embed_batch(articles: Sequence[str], where: dict[str, Place]) -> list[tuple[str, int]]:
            return [(where[a][0], where[a][2]) for a in articles]

        def screen_and_embed_units(live: Sequence[LinkKey], where: dict[str, Place]) -> Iterator[Unit]:
            for screen in screen_units(live, where):
                yield dataclasses.replace(screen, payload=("screen", screen.payload))
                while len(waiting) >= EMBED_ARTICLES:
                    batch = embed_batch(waiting[:EMBED_ARTICLES], where)
                    del waiting[:EMBED_ARTICLES]
                    early.append(batch)
                    yield embed_unit_of(f"units-a{len(early) - 1:06d}", batch)

        def embed_unit_of(name: str, batch: list[tuple[str, int]]) -> Unit:
            return Unit(name, fingerprint(stamp, [(os.path.basename(p), i) for p, i in batch]), ("embed", batch))

        with lap(clock, "screen"):
            if executor.in_process:  # one after the other anyway: the screen's time apart from the encoder's
                screen_files, screen_ran = run_units(executor, screen_unit, screen_units(live, where),
                                                     work / "screen", finished=passing)
            else:
                screen_files, screen_ran = run_units(executor, screen_or_embed_unit,
                                                     screen_and_embed_units(live, where), work / "screen",
                                                     finished=passing)
            early_files = [path for path in screen_files if path.name.startswith("units-")]
            passed.sort()
        clock.update(blocking)
        clock["screen"] -= blocking["candidates"]
        del live
        # 4a. link the pairs that passed the screen
        with lap(clock, "link"):
            # the articles left in units of a few (not one per docs shard: the articles that pass are not
            # spread evenly, and the encoder is most of this stage), the longest first, so that the workers
            # finish together
            encode = embed_batch(sorted(waiting, key=lambda a, c=chars, w=where: (-c[a], w[a])), where)
            size = per_unit(len(encode), options.workers, 1, EMBED_ARTICLES)
            batches = [encode[start:start + size] for start in range(0, len(encode), size)]
            embed_units = [embed_unit_of(f"units-{n:06d}", batch) for n, batch in enumerate(batches)]
            unit_files, embed_ran = run_units(executor, screen_or_embed_unit, embed_units, work / "units")
            batches, unit_files = early + batches, early_files + unit_files
            units_at = {place: (str(f), k) for batch, f in zip(batches, unit_files) for k, place in enumerate(batch)}
            link_units = []
            for n, start in enumerate(range(0, len(passed), PAIRS_PER_UNIT)):
                batch = passed[start:start + PAIRS_PER_UNIT]
                involved = {a: (p, doc_record(i), *units_at[p, i]) for a, (p, _, i) in _places(where, batch).items()}
                link_units.append(Unit(f"links-{n:06d}", fingerprint(stamp, batch, _named(involved)), (batch, involved)))
            link_files, link_ran = run_units(executor, link_unit, link_units, work / "links")
            ran += screen_ran + embed_ran + link_ran
        executor.close()
        del where, chars, passed
        # 4b. validate and write what is left, streaming the work files in order: the links first, while the
        # background process (if any) finishes the articles and paragraphs
        links, more = _write_links(tmp, link_files, stamp, clock)
        counts, found, seconds = written.result() if written is not None else write_docs()
        clock.update(seconds)
        counts["translation_links"] = links
        if found + more:
            raise ContractViolation(found + more)
        with lap(clock, "card"):
            report_summary = json.loads((tmp / "build_report.json").read_bytes())
            finish_folder(tmp, out, stamp, counts, card_files(report_summary, stamp))
    except BaseException:
        if written is not None:
            written.cancel()  # before its folder goes
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        executor.close()
    shutil.rmtree(work, ignore_errors=True)
    stages = {name: round(clock[name], 3) for name in
              ("read", "parse", "normalize", "identify", "keys", "dedupe", "candidates", "screen", "link",
               "validate", "write", "card")}
    return Summary(out, counts["articles"], counts["paragraphs"], counts["translation_links"], len(rejects),
                   time.perf_counter() - started, pages, input_bytes, stages,
                   resumed=len(units) + len(screen_files) + len(embed_units) + len(link_units) - ran)


def _write_docs(tmp: Path, files: Sequence[Path], duplicate_of: dict[str, str], rejects: Sequence[Reject],
                stamp: dict, timer: Callable[[], float] = time.perf_counter) -> tuple[dict, list, Counter]:
    """Stream the docs work files' ``Rows`` into the articles and paragraphs tables and the report; return their
    row counts, every violation, and seconds per stage (the workers' from the work files, with validating the
    rows that deduplication changed and writing, timed by ``timer``)."""
    clock: Counter[str] = Counter()
    writers = {t: TableWriter(tmp, t, stamp) for t in ("articles", "paragraphs")}
    found: list = []
    report = JsonListWriter(tmp / "build_report.json", "files")
    outcomes: Counter[str] = Counter()
    removed: dict[str, Counter] = defaultdict(Counter)
    inputs = 0
    for path in files:
        with WorkFile(path) as wf:
            head = wf[0]
            clock.update(head["seconds"])
            table: Rows = wf[rows_record(head["docs"])]
        keep: list[bool] = []  # per paragraphs row: not of a duplicate
        articles: list[dict] = []
        for (reject, article), count, (bad_article, bad_paragraphs) in zip(table.docs, table.counts, table.found):
            inputs += 1
            if reject is not None:
                report.add({"path": reject.path, "outcome": "rejected", "reason": reject.reason})
                outcomes["rejected"] += 1
                continue
            assert article is not None
            dup = duplicate_of.get(article["article_id"])
            if dup:  # no paragraphs: its row changes, and is validated again here
                article = {**article, "duplicate_of": dup, "paragraph_count": 0}
                with lap(clock, "validate", timer):
                    found += violations("articles", [article], {article["article_id"]: article["source_path"]})
            else:
                found += bad_article + bad_paragraphs
            keep += [not dup] * count
            articles.append(article)
            entry = _report_entry(article)
            report.add(entry)
            outcomes[entry["outcome"]] += 1
            for span in article["removed"]:
                removed[span["reason"]]["spans"] += 1
                removed[span["reason"]]["chars"] += span["char_end"] - span["char_start"]
        with lap(clock, "write", timer):
            writers["articles"].add(articles)
            columns = table.paragraphs
            if not all(keep):
                columns = {name: [v for v, k in zip(values, keep) if k] for name, values in columns.items()}
            writers["paragraphs"].add_columns(columns)
    with lap(clock, "write", timer):
        counts = {t: w.count for t, w in writers.items()}
        for w in writers.values():
            w.close()
        report.close({"inputs": inputs, "outcomes": dict(outcomes),
                      "removed": {k: dict(v) for k, v in removed.items()},
                      "rejects": [r.as_dict() for r in rejects]})
    return counts, found, clock


def _write_links(tmp: Path, link_files: Sequence[Path], stamp: dict, clock: Counter) -> tuple[int, list]:
    """Stream the links work files into the translation_links table; return its row count and every
    violation."""
    writer = TableWriter(tmp, "translation_links", stamp)
    found: list = []
    for path in link_files:
        links = read_all(path)
        with lap(clock, "validate"):
            found += violations("translation_links", links)
        with lap(clock, "write"):
            writer.add(links)
    with lap(clock, "write"):
        writer.close()
    return writer.count, found
