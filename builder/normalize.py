"""Stage 3, normalize: each paragraph's text is its source span in Unicode NFC, white space folded.

Nothing else changes: lowercased machine translation stays lowercased.
"""

from __future__ import annotations

import dataclasses

from .layouts.text import fold
from .records import Page, Paragraph


def normalize(page: Page) -> Page:
    text = page.source.text
    # every field of Paragraph given here: dataclasses.replace costs twice as much, once per paragraph
    paragraphs = tuple(Paragraph(p.start, p.end, p.kind, fold(text[p.start:p.end]), p.lang) for p in page.paragraphs)
    return dataclasses.replace(page, title=fold(page.title), paragraphs=paragraphs)
