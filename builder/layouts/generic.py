"""Any other page: the first line is the title; a date right after it is the publication date."""

from __future__ import annotations

from ..records import Span
from .header import Header
from .text import Unit, read_date

NAME = "generic"


def matches(units: list[Unit], blank_separated: bool) -> bool:
    return True


def read_header(units: list[Unit]) -> Header:
    if len(units) > 1:
        found = read_date(units[1].text)
        if found is not None:
            return Header(title=0, published=found.iso,
                          removed=(Span(units[1].start, units[1].end, "date_line"),), skip=frozenset({1}))
    return Header(title=0)
