"""Dense pages: one paragraph per line; the title, then a metadata line (publisher, section, the page's
age such as '2 months, 3 weeks' or a date), then the body, often followed by site trailers."""

from __future__ import annotations

from ..records import Span
from .header import Header
from .text import Unit, find_date, is_metadata_line

NAME = "dense"


def matches(units: list[Unit], blank_separated: bool) -> bool:
    return not blank_separated and len(units) >= 3 and is_metadata_line(units[1].text)


def read_header(units: list[Unit]) -> Header:
    found = find_date(units[1].text)  # a relative age is not a date: published stays null
    return Header(
        title=0, published=found.iso if found else None,
        removed=(Span(units[1].start, units[1].end, "metadata_line"),), skip=frozenset({1}),
    )
