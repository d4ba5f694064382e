"""What a layout reads from the top of a page."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..records import Span


@dataclass(frozen=True)
class Header:
    title: int  # index of the title unit; the body starts after it
    published: str | None = None
    removed: tuple[Span, ...] = ()
    skip: frozenset[int] = field(default_factory=frozenset)  # units after the title that the header took
