"""What each body paragraph is: heading, body, caption, list item, quote, byline or reference.

Rules read the paragraph's shape (length, final punctuation, markers, handles, URLs) and its neighbours;
the few words they know (image, editorial desk...) are listed here for many languages, none for one site.
"""

from __future__ import annotations

import re

from .text import SENTENCE_END, LIST_MARK, ends_sentence, narrower, width

SHORT = 60  # display width (a CJK character counts two) of a line short enough to be a heading

# "https?://" or "www." in any case, spelled out (long s included): faster than matching with re.IGNORECASE.
# One class of first letters, then a look back at which one it was: a pattern that starts with a class lets
# the engine skip to the next h or w instead of trying the pattern at every character (3x faster, same matches).
_URL = re.compile(r"[hHwW](?:(?<=[hH])[tT][tT][pP][sSſ]?://|(?<=[wW])[wW][wW]\.)\S+")
_HANDLE = re.compile(r"@\s?[\w.]+")
_IMAGE_WORDS = re.compile(
    r"\b(?:image|images|imagem|immagine|imagen|photo|photos|foto|fotos|bild|picture|pic|crédit|credit|credits"
    r"|illustration|source)\b|图片|圖片|图源|配图|画像|写真|사진|이미지|изображение|фото",
    re.IGNORECASE,
)
_BYLINE_WORDS = re.compile(
    r"editorial|editoriale|redazione|rédaction|redacción|redação|redaktion|rapporto|report|reporter|reportage"
    r"|correspondent|correspondant|corrispondente|corresponsal|staff writer|journalist|giornalista"
    r"|记者|編集|编辑|報道|报道|記者|기자|특파원|корреспондент|редакци",
    re.IGNORECASE,
)
_BYLINE_START = re.compile(r"^(?:by|par|por|von|di|door|от|文|作者|撰文)[\s:：]", re.IGNORECASE)
_QUOTED = re.compile(r'^(?:“[^”]*”|"[^"]*"|«[^»]*»|「[^」]*」|『[^』]*』|„[^“”]*[“”])$')


def _short_line(text: str) -> bool:
    """Short, and not a sentence: no final full stop (a final '?' or ':' is allowed on very short lines)."""
    if not narrower(text, SHORT) or any(ch in SENTENCE_END for ch in text.rstrip("?？")):
        return False
    w = width(text)
    if text.endswith((":", "：")):  # a line that introduces what follows: a heading only when very short
        return w <= 24
    return not ends_sentence(text) or (text.rstrip()[-1] in "?？" and w <= 40)


def classify(texts: list[str]) -> list[str]:
    """The kind of each body paragraph, given all of them in reading order (folded text)."""
    kinds = []
    for i, text in enumerate(texts):
        short = narrower(text, 80)
        if _URL.search(text) and (short or len(_URL.sub("", text).split()) <= 6):
            kinds.append("reference")
        elif short and not ends_sentence(text) and (_IMAGE_WORDS.search(text) or _HANDLE.search(text)):
            kinds.append("caption")
        elif LIST_MARK.match(text):
            kinds.append("list_item")
        elif i < 3 and _short_line(text) and (_BYLINE_WORDS.search(text) or _BYLINE_START.match(text)):
            kinds.append("byline")
        elif _QUOTED.match(text) and not narrower(text, 10):
            kinds.append("quote")
        elif _short_line(text):
            kinds.append("heading")
        else:
            kinds.append("body")
    # a run of short lines is a list, not a stack of headings; a short last line is not a heading
    for i, kind in enumerate(kinds):
        if kind != "heading":
            continue
        before = i > 0 and kinds[i - 1] in ("heading", "list_item") and not texts[i - 1].endswith((":", "："))
        after = i + 1 < len(kinds) and kinds[i + 1] == "heading"
        if before or after:
            kinds[i] = "list_item"
        elif i + 1 == len(kinds):
            kinds[i] = "body"
    return kinds
