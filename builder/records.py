"""The record types that flow between the per-document stages, defined once.

The rows that are written (articles, paragraphs, translation links) are plain dicts whose fields are the
JSON Schemas' in ``schema/``; these dataclasses are the in-flight forms before a page becomes rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Source:
    """An input file, decoded. ``text`` is the decoded text with any BOM dropped, line endings as in the file."""

    path: str  # relative to the input folder, '/'-separated
    sha256: str
    size: int
    encoding: str
    text: str


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch ``text[start:end]`` of a Source, with what it is: a paragraph kind, or a removal reason."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    start: int
    end: int
    kind: str
    text: str = ""  # filled by normalize
    lang: str = ""  # filled by langid


@dataclass(frozen=True, slots=True)
class Page:
    """A parsed page: article fields, paragraphs in reading order, and every removed span with its reason."""

    source: Source
    layout: str
    title: str
    published: str | None
    paragraphs: tuple[Paragraph, ...]
    removed: tuple[Span, ...]
    lang: str = ""  # filled by langid
    stats: dict = field(default_factory=dict, compare=False)
