"""Stage 2, parse: a decoded page -> title, date, paragraph spans and removed spans.

Each layout module recognises its pages by their structure and reads their header; what follows the
header is handled the same way for every layout (chrome lines, trailers, repeated body, paragraph kinds).
"""

from __future__ import annotations

from ..records import Page, Paragraph, Source, Span
from . import dense, generic, portal
from .kinds import classify
from .text import Unit, is_language_menu, is_trailer, segment

LAYOUTS = (portal, dense, generic)  # tried in order; generic always matches


class NoText(ValueError):
    """The page has no unit that could be a title."""


def _repeats(units: list[Unit], keys: list[str], first_body: int) -> set[int]:
    """Indexes of body units that repeat an earlier stretch of the page (a body written twice or more);
    ``keys`` are the units' keys (case-folded once, not at every comparison)."""
    first_seen: dict[str, int] = {}
    repeated: set[int] = set()
    for i, key in enumerate(keys):
        if i >= first_body and i not in repeated and key in first_seen:
            j = first_seen[key]
            run = 0
            while i + run < len(units) and j + run < i and keys[i + run] == keys[j + run]:
                run += 1
            if run >= 2 or len(units[i].text) >= 100:
                repeated.update(range(i, i + run))
        first_seen.setdefault(key, i)
    return repeated


def parse(source: Source) -> Page:
    units, blank_separated = segment(source.text)
    if not units:
        raise NoText(f"{source.path}: no text")
    layout = next(m for m in LAYOUTS if m.matches(units, blank_separated))
    header = layout.read_header(units)
    removed = list(header.removed)
    keys = [unit.key for unit in units]  # case-folded once, for the language menus and the repeats
    # chrome anywhere; trailers at the end; copies of earlier stretches
    body = []
    for i in range(header.title + 1, len(units)):
        if i in header.skip:
            continue
        if is_language_menu(units[i].text, keys[i]):
            removed.append(Span(units[i].start, units[i].end, "site_chrome"))
        else:
            body.append(i)
    while body and is_trailer(units[body[-1]].text):
        removed.append(Span(units[body[-1]].start, units[body[-1]].end, "trailer"))
        body.pop()
    kept = [header.title, *body]
    kept_units = [units[i] for i in kept]
    repeated = _repeats(kept_units, [keys[i] for i in kept], 1)
    for r in sorted(repeated):
        removed.append(Span(kept_units[r].start, kept_units[r].end, "repeated_body"))
    body_units = [u for r, u in enumerate(kept_units[1:], start=1) if r not in repeated]
    kinds = classify([u.text for u in body_units])
    title = units[header.title]
    paragraphs = (Paragraph(title.start, title.end, "title"),) + tuple(
        Paragraph(u.start, u.end, kind) for u, kind in zip(body_units, kinds)
    )
    return Page(
        source=source, layout=layout.NAME, title=title.text, published=header.published,
        paragraphs=paragraphs, removed=tuple(sorted(removed, key=lambda s: s.start)),
        stats={"repeated_units": len(repeated)},
    )
