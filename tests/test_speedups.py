"""Cases for the per-document functions whose implementation was made faster: letter and script counts in
langid.guess, anchors, dedupe tokens and hashes, the language-menu and URL regexes, and repeated bodies.

Expected values are written by hand from the rules; the three MinHash values per page were pinned from the
implementation before the speed-ups (the signature must not change: it decides near duplicates).
"""

from __future__ import annotations

import hashlib

import pytest

from builder.align import anchors
from builder.dedupe import dedupe_key
from builder.langid import guess
from builder.layouts import parse
from builder.layouts.kinds import classify
from builder.layouts.text import is_language_menu
from builder.records import Page, Paragraph, Source


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("", None, id="empty"),
        pytest.param("123 ___ !!", None, id="no-letters"),
        pytest.param("abc", None, id="too-few-letters"),
        # ² and ½ are word characters that are not decimal digits: they count as letters; "_" and "3" do not
        pytest.param("ニ x² ½_3", ("ja", 1.0, 4), id="kana-counts-superscripts-as-letters"),
        pytest.param("ᄀᄒ ㄱㅎ abc", ("ko", 1.0, 7), id="hangul-jamo"),
        pytest.param("오픈AI 경영진", ("ko", 1.0, 7), id="hangul-with-latin"),
        pytest.param("한국어 abcdefg", ("ko", 1.0, 10), id="hangul-exactly-three-tenths"),
        pytest.param("中文字 abcdefg", ("zh", 0.9, 10), id="han-exactly-three-tenths"),
        pytest.param("深陷高管 OpenAI", ("zh", 0.9, 10), id="han-with-latin"),
        pytest.param("OpenAI 深陷", None, id="han-below-three-tenths-and-few-letters"),
    ],
)
def test_guess_counts(text: str, expected: tuple | None) -> None:
    assert guess(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("12 12 1.2 1,234 5", {"12", "1234"}, id="numbers-repeated-and-separated"),
        pytest.param("@ foo @bar @bar", {"@foo", "@bar"}, id="handles"),
        pytest.param("HTTP://X.y/Z and http://x.y/z", {"http://x.y/z", "and"}, id="url-case-folded-once"),
        pytest.param("\u212aelvin KELVIN kelvin", {"kelvin"}, id="kelvin-sign"),
        pytest.param("Straße", {"stra"}, id="sharp-s-ends-a-word"),
        pytest.param("a' x’ x’ ab-", {"a", "x", "ab"}, id="stripped-after-the-length-check"),
        pytest.param("İstanbul", {"i\u0307stanbul"}, id="dotted-capital-i"),
        pytest.param("东京 2024", {"2024"}, id="no-latin"),
    ],
)
def test_anchors(text: str, expected: set[str]) -> None:
    assert anchors(text) == expected


def _page(*texts: str) -> Page:
    return Page(Source("p.txt", "", 0, "", ""), "generic", "", None,
                tuple(Paragraph(0, 0, "body", t) for t in texts), (), lang="xx")


@pytest.mark.parametrize(
    "texts, tokens, signature",
    [
        pytest.param(("Hello_world, HELLO wörld!",), ["hello", "world", "hello", "wörld"],
                     (17355347048476993384, 14225740984596840232, 6159291688035912637), id="words"),
        pytest.param(("One two three four five six", "seven"),
                     ["one", "two", "three", "four", "five", "six", "seven"],
                     (1101069789707210100, 9007086931734595883, 2005380834673497161), id="several-shingles"),
        pytest.param(("深陷高管离职风波的OpenAI最近点燃了吃瓜群众", "Ab"),
                     list("深陷高管离职风波的openai最近点燃了吃瓜群众ab"),
                     (668311391298799027, 830045134723072154, 1712827704275927754), id="characters-as-tokens"),
        pytest.param(("!!! ---",), [],
                     (6469070826769519580, 7638980892615003092, 5109505726866483409), id="no-tokens"),
    ],
)
def test_dedupe_key(texts: tuple[str, ...], tokens: list[str], signature: tuple[int, ...]) -> None:
    key = dedupe_key(_page(*texts))
    assert key.exact == hashlib.sha256("\0".join(tokens).encode()).hexdigest()
    assert len(key.signature) == 64 and all(type(v) is int for v in key.signature)
    assert key.signature[:3] == signature


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("EnglishFrançaisDeutsch", True, id="glued"),
        pytest.param("English | Indonesian | Indonesia | Latin", True, id="longest-name-first"),
        pytest.param("ENGLISH DEUTSCH FRANÇAIS", True, id="capitals"),
        pytest.param("简体中文 繁體中文 日本語 한국어", True, id="cjk-names"),
        pytest.param("English Latina", False, id="two-names"),
        pytest.param("English, Deutsch and Français are spoken here by many people every day", False,
                     id="sentence-naming-languages"),
    ],
)
def test_is_language_menu(text: str, expected: bool) -> None:
    assert is_language_menu(text) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("HTTPS://EXAMPLE.COM/a", "reference", id="url-capitals"),
        pytest.param("httpſ://x.y/z", "reference", id="url-long-s"),
        pytest.param("More at WWW.EXAMPLE.ORG", "reference", id="www-capitals"),
        pytest.param("The http protocol is old, and www is older still, and they are words here.", "body",
                     id="words-http-and-www"),
    ],
)
def test_classify_urls(text: str, expected: str) -> None:
    assert classify([text]) == [expected]


def test_repeated_body_in_other_case_is_removed() -> None:
    text = "Title\n\nFirst paragraph here.\n\nSecond one.\n\nFIRST PARAGRAPH HERE.\n\nSECOND ONE.\n"
    data = text.encode()
    page = parse(Source("p.txt", hashlib.sha256(data).hexdigest(), len(data), "utf-8", text))
    assert [(p.start, p.end) for p in page.paragraphs] == [(0, 5), (7, 28), (30, 41)]
    assert [(s.start, s.end, s.label) for s in page.removed] == [(43, 64, "repeated_body"), (66, 77, "repeated_body")]
    assert page.stats == {"repeated_units": 2}
