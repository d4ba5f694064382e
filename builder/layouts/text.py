"""Language-independent text facts the layouts are built from: segments, widths, dates, chrome."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Unit:
    """A candidate paragraph: ``source[start:end]`` with no white space at either end."""

    start: int
    end: int
    text: str  # white space folded

    @property
    def key(self) -> str:
        """What two copies of one paragraph share: folded, case-folded text."""
        return self.text.casefold()


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


def fold(text: str) -> str:
    """Unicode NFC with every run of white space made one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, line ending excluded; blank lines included as start == end after trim."""
    out = []
    for m in _LINE.finditer(text):
        if m.start() == len(text) and m.start() == m.end():
            break
        raw = m.group(0).rstrip("\r\n")
        lead = len(raw) - len(raw.lstrip())
        body = raw.strip()
        start = m.start() + lead
        out.append((start, start + len(body)))
    return out


LIST_MARK = re.compile(r"^(?:\d{1,3}[.)、]|[-•*·▪●◦‣]|[a-zA-Z][.)])\s+")


def segment(text: str) -> tuple[list[Unit], bool]:
    """Split a page into units, and say whether it separates paragraphs by blank lines.

    Pages that separate paragraphs by blank lines give one unit per block (a block's soft-wrapped lines are
    joined; lines that each start with a list marker stay apart). Dense pages give one unit per line.
    """
    spans = lines(text)
    blocks: list[list[tuple[int, int]]] = [[]]
    for start, end in spans:
        if start == end:
            if blocks[-1]:
                blocks.append([])
        else:
            blocks[-1].append((start, end))
    blocks = [b for b in blocks if b]
    non_blank = sum(len(b) for b in blocks)
    blank_separated = non_blank > 1 and (len(blocks) - 1) >= 0.5 * (non_blank - 1)
    units: list[Unit] = []
    for block in blocks if blank_separated else [[s] for b in blocks for s in b]:
        listed = len(block) > 1 and all(LIST_MARK.match(text[s:e]) for s, e in block[1:])
        for group in ([[s] for s in block] if listed else [block]):
            start, end = group[0][0], group[-1][1]
            units.append(Unit(start, end, fold(text[start:end])))
    return units, blank_separated


def width(text: str) -> int:
    """Display width: wide (CJK) characters count two, so one bound serves every script."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def narrower(text: str, bound: int) -> bool:
    """width(text) <= bound, without measuring long texts (a character is one or two columns wide)."""
    if len(text) > bound:
        return False
    return 2 * len(text) <= bound or width(text) <= bound


_CLOSERS = "\"'”’»」』）)]】"
SENTENCE_END = ".!?。！？…;；"


def ends_sentence(text: str) -> bool:
    stripped = text.rstrip(_CLOSERS + " ")
    return bool(stripped) and stripped[-1] in SENTENCE_END


# ---------------------------------------------------------------------------------------------- dates

_MONTHS = {
    # en, fr, de, es, it, pt, nl, ru (genitive and nominative stems)
    1: "january jan janvier janv januar jänner enero ene gennaio gen janeiro januari января январь",
    2: "february feb février févr fevrier februar febrero febbraio fevereiro februari февраля февраль",
    3: "march mar mars märz marzo março maart марта март",
    4: "april apr avril abril aprile апреля апрель",
    5: "may mai mayo maggio maio mei мая май",
    6: "june jun juin juni junio giugno junho июня июнь",
    7: "july jul juillet juli julio luglio julho июля июль",
    8: "august aug août aout agosto augustus августа август",
    9: "september sep sept septembre septiembre settembre setembro сентября сентябрь",
    10: "october oct octobre oktober octubre ottobre outubro oktober октября октябрь",
    11: "november nov novembre noviembre novembro ноября ноябрь",
    12: "december dec décembre decembre dezember diciembre dicembre dezembro декабря декабрь",
}
MONTH = {name: number for number, names in _MONTHS.items() for name in names.split()}
_MONTH_RE = "|".join(sorted(map(re.escape, MONTH), key=len, reverse=True))
_WEEKDAY = r"(?:[^\W\d]+,?\s+)?"  # an optional leading weekday word ("Friday, ")
_TIME = r"(?:[ T,]+\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:[AaPp]\.?[Mm]\.?|Z|[+-]\d{2}:?\d{2}|UTC|GMT))?)?"

_DATE_FORMS = [  # (regex, order of the groups)
    (rf"(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}", "ymd"),
    (r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일号]?", "ymd"),
    (rf"{_WEEKDAY}(\d{{1,2}})\.?\s+(?:de\s+)?({_MONTH_RE})\.?,?\s+(?:de\s+)?(\d{{4}}){_TIME}", "dMy"),
    (rf"{_WEEKDAY}({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TIME}", "Mdy"),
    (rf"(\d{{1,2}})[./](\d{{1,2}})[./](\d{{4}}){_TIME}", "dmy?"),
]
_DATE_RES = [(re.compile(rf"^{pattern}$", re.IGNORECASE), order) for pattern, order in _DATE_FORMS]
_DATE_SEARCH = [(re.compile(rf"(?<!\d){pattern}(?!\d)", re.IGNORECASE), order) for pattern, order in _DATE_FORMS]


class DateLine:
    """The result of reading a date: ``iso`` is None when the form is a date but its day is ambiguous."""

    __slots__ = ("iso",)

    def __init__(self, iso: str | None):
        self.iso = iso


def _to_iso(groups: tuple[str, ...], order: str) -> DateLine | None:
    if order == "dmy?":
        first, second, year = int(groups[0]), int(groups[1]), int(groups[2])
        if first > 12 >= second:
            d, m = first, second
        elif second > 12 >= first:
            d, m = second, first
        elif first == second:
            d = m = first
        else:
            return DateLine(None)  # 03/04/2024: day-month or month-day? Never guessed.
        y = year
    else:
        values = dict(zip(order, groups))
        y = int(values["y"])
        m = int(values["m"]) if "m" in values else MONTH[values["M"].lower().rstrip(".")]
        d = int(values["d"])
    try:
        return DateLine(date(y, m, d).isoformat())
    except ValueError:
        return None


def read_date(text: str) -> DateLine | None:
    """The date when the whole text is one date (ISO, CJK, 'September 27, 2024', '27 settembre 2024', ...)."""
    text = text.strip()
    for regex, order in _DATE_RES:
        m = regex.match(text)
        if m:
            return _to_iso(m.groups(), order)
    return None


def find_date(text: str) -> DateLine | None:
    """The first unambiguous absolute date anywhere in the text."""
    for regex, order in _DATE_SEARCH:
        for m in regex.finditer(text):
            found = _to_iso(m.groups(), order)
            if found and found.iso:
                return found
    return None


_RELATIVE_AGE = re.compile(
    r"\d+\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?)\b(?:\s*ago)?"
    r"|\d+\s*(?:秒|分钟|分鐘|小时|小時|天|周|週|个月|個月|年)前|\d+\s*(?:分|時間|日|週間|ヶ月|か月|年)前"
    r"|\d+\s*(?:초|분|시간|일|주|개월|년)\s*전|\b(?:yesterday|today|昨天|今天|昨日|今日|어제|오늘)\b",
    re.IGNORECASE,
)


def is_metadata_line(text: str) -> bool:
    """A short line of publisher / section / age words: it carries a relative age or a date, little else."""
    if not narrower(text, 80) or ends_sentence(text):
        return False
    stripped = _RELATIVE_AGE.sub(" ", text)
    for regex, _ in _DATE_SEARCH:
        stripped = regex.sub(" ", stripped)
    return stripped != text and len(stripped.split()) <= 5


# ---------------------------------------------------------------------------------------------- chrome

_AUTONYMS = sorted(
    """English Français Francais Deutsch Español Espanol Italiano Português Portugues Nederlands Polski Русский
    Русский язык 日本語 中文 简体中文 繁體中文 한국어 العربية Türkçe Tiếng Việt Indonesia Indonesian Bahasa
    Ελληνικά Suomi Suomalainen Svenska Norsk Dansk Čeština Magyar Română Українська हिन्दी ไทย עברית فارسی
    Sanskrit Latina Latin Català Hrvatski Slovenčina Slovenščina Български Српски Lietuvių Latviešu Eesti
    Melayu Filipino Tagalog বাংলা தமிழ் اردو Kiswahili Afrikaans Gaeilge Cymraeg Euskara Galego""".split(),
    key=len, reverse=True,
)


def _alternation(words: list[str]) -> str:
    """A regex for any of ``words``, tried in the given order, with one branch per first character: at each
    position the engine tries one branch rather than every word (the same matches, found faster)."""
    branches: dict[str, list[str]] = {}
    for word in words:
        branches.setdefault(word[0], []).append(re.escape(word[1:]))
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in branches.items())


_AUTONYM_RE = re.compile(_alternation(sorted({a.casefold() for a in _AUTONYMS}, key=len, reverse=True)))


def is_language_menu(text: str) -> bool:
    """A line of site chrome listing languages: language names cover most of it."""
    folded = text.casefold()
    letters = len(folded) - folded.count(" ")
    hits = _AUTONYM_RE.findall(folded)
    return len(set(hits)) >= 3 and sum(map(len, hits)) >= 0.6 * letters


_TRAILERS = {
    "advertisement", "advertisements", "ads", "sponsored", "sponsored content", "related", "related news",
    "related articles", "related stories", "read more", "share", "share this", "more news", "comments",
    "相关新闻", "相关阅读", "相关文章", "推荐阅读", "广告", "分享", "热门新闻", "更多新闻", "相關新聞", "廣告",
    "関連ニュース", "関連記事", "広告", "관련 기사", "관련기사", "광고", "publicité", "articles liés",
    "à lire aussi", "pubblicità", "articoli correlati", "notizie correlate", "anuncios", "publicidad",
    "noticias relacionadas", "anúncios", "publicidade", "notícias relacionadas", "anzeige", "werbung",
    "ähnliche artikel", "реклама", "похожие новости", "читайте также",
}


def is_trailer(text: str) -> bool:
    return text.casefold().strip(" :：.·-—|»›>") in _TRAILERS


def is_section_label(text: str) -> bool:
    """A page's section word ('news', 'ニュース'): a few letters, no digits, no punctuation at the end."""
    return (
        len(text.split()) <= 3 and narrower(text, 24) and not any(ch.isdigit() for ch in text)
        and not ends_sentence(text) and text[-1:] not in ":：" and "@" not in text
    )
