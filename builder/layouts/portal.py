"""News-portal pages: section word, title, an optional date, a language-menu line, then the body,
paragraphs separated by blank lines."""

from __future__ import annotations

from ..records import Span
from .header import Header
from .text import Unit, is_language_menu, is_section_label, read_date

NAME = "portal"


def matches(units: list[Unit], blank_separated: bool) -> bool:
    if len(units) < 3 or not is_section_label(units[0].text):
        return False
    return read_date(units[2].text) is not None or any(is_language_menu(u.text) for u in units[2:4])


def read_header(units: list[Unit]) -> Header:
    removed = [Span(units[0].start, units[0].end, "section_label")]
    published, skip = None, set()
    found = read_date(units[2].text)
    if found is not None:
        published = found.iso
        removed.append(Span(units[2].start, units[2].end, "date_line"))
        skip.add(2)
    return Header(title=1, published=published, removed=tuple(removed), skip=frozenset(skip))
