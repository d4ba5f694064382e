"""Synthetic corpora of any size from real text, for the build benchmark.

Every generated page is laid out exactly like an NTREX dev input page of its language (section word, title,
usually a date line, the site's language-menu line, then paragraphs separated by blank lines): the header
lines are taken from a real input page of that language with its title and date replaced. The body is 4-30
paragraphs drawn at random from the NTREX pages of that language (different documents mixed). A share
``translated`` of the pages come as translation groups: the same (document, paragraph index) choices
rendered in 2-4 languages, dated within 2 days of each other, so the linker has real translations to find.
The 5 seed pages are copied in once. File names say nothing of the language: ``000/page-000123.txt``.

    python benchmarks/corpus.py OUT_DIR PAGES [--seed 0] [--translated 0.02] [--gold GOLD.json]

writes the corpus (``PAGES`` files in all, seeds included) and, with ``--gold``, a gold file in the format
of ``shared/eval/ntrex-dev/gold.json`` for ``python -m builder eval-links``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NTREX = REPO.parent / "shared" / "eval" / "ntrex-dev"
SEEDS = REPO / "seeds"

PER_FOLDER = 1000
MIN_BODY, MAX_BODY = 4, 30
GROUP_SIZES = (2, 3, 4)
UNDATED = 0.10  # share of pages that show no date
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 365  # dates spread over about a year
GROUP_DAYS = 2  # members of a translation group are dated within this many days of each other


@dataclass
class Template:
    """The header of a real input page: its blocks, with the title's and the date's positions."""

    blocks: list[str]
    title_at: int
    date_at: int
    date_format: str  # str.format pattern over year, month, day, e.g. "{y:04d}-{m:02d}-{d:02d}"

    def render(self, title: str, date: dt.date | None, body: list[str]) -> str:
        header = list(self.blocks)
        header[self.title_at] = title
        if date is None:
            del header[self.date_at]
        else:
            header[self.date_at] = self.date_format.format(y=date.year, m=date.month, d=date.day)
        return "\n\n".join(header + body)  # the NTREX inputs end without a final newline


@dataclass
class Source:
    """The NTREX dev pages per language: templates, titles, and every (file, paragraph index)."""

    files: dict[str, dict]
    groups: dict[str, dict[str, str]]
    templates: dict[str, list[Template]] = field(default_factory=dict)
    titles: dict[str, list[str]] = field(default_factory=dict)
    units: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # lang -> (file, paragraph index)


def _date_format(line: str, date: dt.date) -> str | None:
    """The date line as a format pattern, if the gold date's fields can be found in it unambiguously."""
    fields = {"y": (f"{date.year:04d}", "{y:04d}"), "m": (f"{date.month:02d}", "{m:02d}"),
              "d": (f"{date.day:02d}", "{d:02d}")}
    if date.month == date.day or line.count(fields["y"][0]) != 1:
        return None
    pattern = line.replace("{", "{{").replace("}", "}}")
    for text, slot in fields.values():
        if pattern.count(text) != 1:
            return None
        pattern = pattern.replace(text, slot)
    return pattern if pattern.format(y=date.year, m=date.month, d=date.day) == line else None


def _template(text: str, gold: dict) -> Template | None:
    blocks = text.split("\n\n")
    if not gold["date"] or gold["paragraphs"][0] not in blocks or gold["title"] not in blocks:
        return None
    header = blocks[:blocks.index(gold["paragraphs"][0])]
    date = dt.date.fromisoformat(gold["date"])
    dated = [(i, f) for i, b in enumerate(header) if (f := _date_format(b, date))]
    if gold["title"] not in header or len(dated) != 1:
        return None
    return Template(header, header.index(gold["title"]), dated[0][0], dated[0][1])


def load(ntrex: Path = NTREX) -> Source:
    gold = json.loads((ntrex / "gold.json").read_text(encoding="utf-8"))
    source = Source(gold["files"], gold["groups"])
    for name in sorted(gold["files"]):
        f = gold["files"][name]
        lang = f["lang"]
        template = _template((ntrex / "inputs" / name).read_text(encoding="utf-8"), f)
        if template is not None:
            source.templates.setdefault(lang, []).append(template)
        source.titles.setdefault(lang, []).append(f["title"])
        source.units.setdefault(lang, []).extend((name, k) for k in range(len(f["paragraphs"])))
    missing = sorted(set(source.units) - set(source.templates))
    if missing:
        raise ValueError(f"no input page in {ntrex} to copy the layout from for {missing}")
    return source


def _date(rng: random.Random, base: dt.date | None = None) -> dt.date | None:
    if rng.random() < UNDATED:
        return None
    if base is None:
        return FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    return base + dt.timedelta(days=rng.randint(0, GROUP_DAYS))


def _single(rng: random.Random, src: Source, lang: str) -> tuple[str, list[str]]:
    """A title (a title, or now and then a short paragraph, of that language) and a mixed body."""
    units = src.units[lang]
    picks = rng.sample(units, rng.randint(MIN_BODY, MAX_BODY))
    body = [src.files[name]["paragraphs"][k] for name, k in picks]
    title = rng.choice(src.titles[lang])
    if rng.random() < 0.2:  # a short paragraph as the title, one not in the body (it would count as repeated)
        short = [src.files[n]["paragraphs"][k] for n, k in rng.sample(units, 8 + len(picks))]
        title = min((p for p in short if p not in body), key=len)
    return title, body


def _group(rng: random.Random, src: Source, size: int) -> list[tuple[str, str, list[str]]]:
    """``size`` pages in different languages: the same (document, paragraph index) choices in each."""
    common = sorted(set.intersection(*(set(m) for m in src.groups.values())))
    langs = rng.sample(common, size)
    docs = sorted(src.groups)
    units = [(doc, k) for doc in docs for k in range(len(src.files[src.groups[doc][langs[0]]]["paragraphs"]))]
    picks = rng.sample(units, rng.randint(MIN_BODY, MAX_BODY))  # without repeats, like a real page
    title_doc = rng.choice(docs)
    return [(lang, src.files[src.groups[title_doc][lang]]["title"],
             [src.files[src.groups[doc][lang]]["paragraphs"][k] for doc, k in picks]) for lang in langs]


def make_corpus(out_dir: Path, pages: int, seed: int = 0, translated: float = 0.0,
                ntrex: Path = Path("../shared/eval/ntrex-dev"), seeds: Path = Path("seeds"),
                gold: Path | None = None) -> dict:
    """Write a corpus of ``pages`` files (the seed pages included) into ``out_dir`` (made empty first);
    relative paths are taken from the repository root. Returns a summary: pages, bytes, languages, groups.
    With ``gold``, also writes a gold file (format of ntrex-dev/gold.json) there, outside the corpus."""
    ntrex, seeds = (p if p.is_absolute() else REPO / p for p in (Path(ntrex), Path(seeds)))
    out_dir = Path(out_dir)
    src = load(ntrex)
    seed_files = sorted(p for p in seeds.iterdir() if p.is_file())
    generated = pages - len(seed_files)
    if generated < 0:
        raise ValueError(f"{pages} pages is fewer than the {len(seed_files)} seed pages")
    rng = random.Random(seed)
    langs = sorted(src.units)

    # pages as (lang, title, date, body, group): first the translation groups, then single pages
    planned: list[tuple[str, str, dt.date | None, list[str], int | None]] = []
    in_groups = min(generated, round(generated * translated))
    n_groups = 0
    while in_groups - len(planned) >= 2:
        size = min(rng.choice(GROUP_SIZES), in_groups - len(planned))
        base = _date(rng) or FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        for lang, title, body in _group(rng, src, size):
            planned.append((lang, title, _date(rng, base), body, n_groups))
        n_groups += 1
    while len(planned) < generated:
        lang = rng.choice(langs)
        title, body = _single(rng, src, lang)
        planned.append((lang, title, _date(rng), body, None))
    rng.shuffle(planned)

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    total = 0
    gold_files: dict[str, dict] = {}
    gold_groups: dict[str, dict[str, str]] = {}
    for i, (lang, title, date, body, group) in enumerate(planned):
        name = f"page-{i:06d}.txt"
        path = out_dir / f"{i // PER_FOLDER:03d}" / name
        path.parent.mkdir(exist_ok=True)
        data = rng.choice(src.templates[lang]).render(title, date, body).encode("utf-8")
        path.write_bytes(data)
        total += len(data)
        doc = f"group-{group:05d}" if group is not None else f"single-{i:06d}"
        gold_files[name] = {"lang": lang, "group": doc, "title": title,
                            "date": date.isoformat() if date else None, "paragraphs": body}
        gold_groups.setdefault(doc, {})[lang] = name
    for p in seed_files:
        target = out_dir / "seeds" / p.name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(p, target)
        total += p.stat().st_size
    if gold is not None:
        Path(gold).write_text(json.dumps({"source": f"benchmarks/corpus.py seed {seed} from {ntrex}",
                                          "split": "synthetic", "languages": langs, "files": gold_files,
                                          "groups": gold_groups}, ensure_ascii=False), encoding="utf-8")
    return {"pages": pages, "generated": generated, "seeds": len(seed_files), "bytes": total,
            "translated_pages": sum(1 for p in planned if p[4] is not None), "groups": n_groups,
            "languages": {lang: sum(1 for p in planned if p[0] == lang) for lang in langs}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("pages", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--translated", type=float, default=0.02)
    ap.add_argument("--gold", type=Path)
    args = ap.parse_args()
    started = time.perf_counter()
    info = make_corpus(args.out, args.pages, args.seed, args.translated, gold=args.gold)
    print(f"{args.out}: {info['pages']} pages ({info['generated']} generated, {info['seeds']} seeds), "
          f"{info['bytes'] / 1e6:.2f} MB, {info['translated_pages']} pages in {info['groups']} translation groups, "
          f"in {time.perf_counter() - started:.1f} s")
    print(f"rerun: python benchmarks/corpus.py {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
