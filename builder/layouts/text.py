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


_BREAK = re.compile(r"(\r\n|\r|\n)")


def fold(text: str) -> str:
    """Unicode NFC with every run of white space made one space."""
    text = unicodedata.normalize("NFC", text)
    # Most texts are folded already: the space is the only printable white space character, so a printable
    # text without a double space or a space at either end is returned as it is, without splitting it.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every line, line ending excluded; blank lines included as start == end after trim."""
    parts = _BREAK.split(text)  # line, ending, line, ending, ..., line
    if not parts[-1]:  # the text ends with a line ending (or is empty): no line after it
        parts.pop()
    out = []
    pos = 0
    for line, ending in zip(parts[::2], parts[1::2] + [""]):
        n = len(line)
        body = line.strip()
        if len(body) == n:  # nothing to trim (most lines)
            out.append((pos, pos + n))
        else:
            start = pos + n - len(line.lstrip())
            out.append((start, start + len(body)))
        pos += n + len(ending)
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
        for start, end in block if listed else [(block[0][0], block[-1][1])]:
            units.append(Unit(start, end, fold(text[start:end])))
    return units, blank_separated


class _Widths(dict):
    """Each character's display width, looked up in the Unicode tables once per character."""

    def __missing__(self, ch: str) -> int:
        w = self[ch] = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        return w


_WIDTHS = _Widths()


def width(text: str) -> int:
    """Display width: wide (CJK) characters count two, so one bound serves every script."""
    return sum(map(_WIDTHS.__getitem__, text))


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


_NAMES = sorted({a.casefold() for a in _AUTONYMS}, key=len, reverse=True)
_AUTONYM_RE = re.compile(_alternation(_NAMES))
_LONGEST = len(_NAMES[0])


def is_language_menu(text: str, folded: str | None = None) -> bool:
    """A line of site chrome listing languages: language names cover most of it. ``folded``: the text
    case-folded, when the caller has it already."""
    if folded is None:
        folded = text.casefold()
    letters = len(folded) - folded.count(" ")
    need = 0.6 * letters
    # Most lines are prose: search a head first, and the rest only if the line can still be a menu. The search
    # runs left to right and no name is longer than _LONGEST, so before end - _LONGEST it finds in folded[:end]
    # the names it finds in the whole line: the whole line's names cover at most the head's plus everything
    # after that point. A head of this length without a name is enough to reject a line (about half of it).
    end = int(len(folded) + _LONGEST - need) + 1
    if end < len(folded):
        head = _AUTONYM_RE.findall(folded, 0, end)
        if sum(map(len, head)) + len(folded) - end + _LONGEST < need:
            return False
    hits = _AUTONYM_RE.findall(folded)
    return len(set(hits)) >= 3 and sum(map(len, hits)) >= need


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
