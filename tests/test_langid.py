"""Unit tables for builder/langid.py: per-text guesses (script rules, then the bundled fastText model) and
the article/paragraph decision on a small page. Everything runs offline."""

from __future__ import annotations

import hashlib
import re

import pytest

from builder import langid
from builder.langid import guess, identify
from builder.layouts import parse
from builder.normalize import normalize
from builder.records import Source


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No download may happen: the model is the file shipped inside the installed wheel."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("FTLANG_CACHE", "/nonexistent-cache-dir")


FR = ("Le conseil municipal a voté hier soir un budget en forte hausse pour les écoles de la ville, après des mois "
      "de débats parfois houleux entre la majorité et l'opposition. Les parents d'élèves, venus nombreux, ont salué "
      "une décision qu'ils réclamaient depuis longtemps.")
EN = ("The council said the money would be spent over the next three years on new classrooms, better heating and "
      "more teachers, and that a public report on the progress of the works would be published every six months "
      "so that families could follow how the budget was used.")


@pytest.mark.parametrize(
    "text, lang",
    [
        pytest.param("OpenAIで幹部の辞任が相次ぐ", "ja", id="kana-ja"),
        pytest.param("ニュース", "ja", id="katakana-only-ja"),
        pytest.param("오픈AI 경영진 사임 잇따라", "ko", id="hangul-ko"),
        pytest.param("深陷高管离职风波的 OpenAI 最近点燃了吃瓜群众的热情。", "zh", id="han-only-zh"),
        pytest.param("幹部辞任相次", "zh", id="kanji-only-line-on-its-own-zh"),
        pytest.param("L'histoire intérieure de la démission du directeur technique a été révélée hier soir.", "fr",
                     id="fr"),
        pytest.param("A história interna da onda de demissões de executivos da empresa foi exposta ontem.", "pt",
                     id="pt"),
        pytest.param("La dirigenza della società ha ricevuto ancora una volta tre importanti notizie.", "it",
                     id="it"),
        pytest.param("Die Führung des Unternehmens hat erneut drei wichtige Personalentscheidungen getroffen.", "de",
                     id="de"),
        pytest.param("La dirección de la empresa ha recibido una vez más tres importantes noticias de personal.",
                     "es", id="es"),
        pytest.param("Руководство компании снова получило три важные новости о смене персонала.", "ru", id="ru"),
        pytest.param("The company's leadership has once again received three important personnel updates.", "en",
                     id="en"),
        # fastText reads the first SAMPLE (300) characters: French here, English for the 500 after them
        pytest.param(f"{FR} {EN} {EN}", "fr", id="long-paragraph-labelled-by-its-opening"),
    ],
)
def test_guess_language(text, lang):
    found = guess(text)
    assert found is not None
    assert found[0] == lang
    assert 0.5 <= found[1] <= 1.0


# guess(text, expect): fastText reads the first 40, then 100 characters to confirm the expected language (the
# paragraph before's), and the first 300 (SAMPLE) when neither does; ``reads`` lists the characters read
@pytest.mark.parametrize(
    "text, expect, lang, reads",
    [
        pytest.param("Die Führung des Unternehmens hat erneut drei wichtige Personalentscheidungen getroffen.", "de",
                     "de", [40], id="confirmed-by-40-characters"),
        pytest.param("Marco Rubio, Elizabeth Warren y Ted Cruz votaron el martes a favor de la nueva ley sobre los "
                     "salarios mínimos.", "es", "es", [40, 100], id="names-first-confirmed-by-100-characters"),
        pytest.param("The company's leadership has once again received three important personnel updates.", "fr",
                     "en", [40, 300], id="foreign-paragraph-read-on-its-own"),
        pytest.param("La dirigenza della società ha ricevuto ancora una volta tre importanti notizie.", "en", "it",
                     [40, 300], id="italian-in-an-english-article"),
        pytest.param(f"{EN} {EN}", "fr", "en", [40, 100, 300], id="long-foreign-paragraph"),
        pytest.param("Le maire de la ville a déclaré devant les journalistes : " + EN, "fr", "fr", [40],
                     id="french-opening-then-english-quote-confirmed-by-its-opening"),
        pytest.param("Le maire de la ville a déclaré devant les journalistes : " + EN, None, "en", [300],
                     id="same-without-expectation-read-on-its-sample"),
        pytest.param("Ein kurzer deutscher Satz.", "de", "de", [300], id="no-longer-than-40-read-once"),
    ],
)
def test_guess_expect(monkeypatch, text, expect, lang, reads):
    read = langid._read
    seen = []

    def spy(text: str, chars: int) -> tuple[str, float]:
        seen.append(chars)
        return read(text, chars)

    monkeypatch.setattr(langid, "_read", spy)
    found = guess(text, expect)
    assert found is not None and found[0] == lang and found[1] >= 0.5
    assert seen == reads


# letters, Hangul and Han counted exactly (the thresholds are shares of the letters)
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
    "text",
    [
        pytest.param("OpenAI", id="name"),
        pytest.param("@blizaine", id="handle"),
        pytest.param("2024-09-27", id="digits-only"),
        pytest.param("", id="empty"),
    ],
)
def test_guess_too_short_to_say(text):
    assert guess(text) is None


def make_source(text: str) -> Source:
    data = text.encode("utf-8")
    return Source("ja.txt", hashlib.sha256(data).hexdigest(), len(data), "utf-8", text)


JA_PAGE = """ニュース

幹部辞任相次

2024-09-27

OpenAI

OpenAIで幹部の辞任が相次ぎ、その内幕が明らかになった。多くの従業員が会社を去っている。

社内対立深刻化

外部のメディアは社内の対立について詳しく報じており、研究部門と製品部門の間で意見の食い違いが続いていたという。

@blizaine

アルトマン氏はお金を稼ぐことが大好きだが、社内の権力争いにも強い関心を持っていると言われている。
"""


def test_identify_japanese_page():
    page = identify(normalize(parse(make_source(JA_PAGE))))
    assert page.lang == "ja"
    assert [p.kind for p in page.paragraphs][:4] == ["title", "heading", "body", "heading"]
    by_text = {p.text: p.lang for p in page.paragraphs}
    assert by_text == {
        "幹部辞任相次": "ja",  # the kanji-only title: Chinese on its own, Japanese in this article
        "OpenAI": "ja",  # a name: takes the article's language
        "OpenAIで幹部の辞任が相次ぎ、その内幕が明らかになった。多くの従業員が会社を去っている。": "ja",
        "社内対立深刻化": "ja",  # a kanji-only heading inside the body
        "外部のメディアは社内の対立について詳しく報じており、研究部門と製品部門の間で意見の食い違いが続いていたという。": "ja",
        "@blizaine": "ja",  # a handle: takes the article's language
        "アルトマン氏はお金を稼ぐことが大好きだが、社内の権力争いにも強い関心を持っていると言われている。": "ja",
    }


def test_identify_mixed_page_keeps_a_confident_foreign_paragraph():
    text = """news

OpenAI executives leave the company

2024-09-27

The company's leadership has once again received three important personnel updates this week.

Several senior researchers have left to start their own companies or to join rivals.

La dirigenza della società ha ricevuto ancora una volta tre importanti notizie di cambio di personale.

OpenAI
"""
    page = identify(normalize(parse(make_source(text))))
    assert page.lang == "en"
    assert [p.lang for p in page.paragraphs] == ["en", "en", "en", "it", "en"]


def test_model_is_the_bundled_file_not_a_download(monkeypatch):
    """Loading the model must not reach the network: any attempt to open a socket fails the test."""
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("language identification tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    langid._model.cache_clear()
    try:
        found = guess("Die Führung des Unternehmens hat erneut drei wichtige Personalentscheidungen getroffen.")
        assert found is not None and found[0] == "de"
    finally:
        langid._model.cache_clear()


@pytest.mark.parametrize("text", [
    pytest.param("", id="empty"),
    pytest.param("OpenAI's CTO_left in 2024!", id="ascii-digits-underscore"),
    pytest.param("Größe, élan, ª º µ ß ÿ × ÷ ¼ ¹ «»", id="latin-1-letters-and-signs"),
    pytest.param("Руководство ‘quoted’ — 深陷", id="beyond-latin-1"),
    pytest.param("Latin-1 then one œ", id="one-character-beyond"),
])
def test_letters_are_the_regex_letters(text):
    """Counted on the bytes of a Latin-1 text, with the regex otherwise: the same count either way."""
    assert langid._letters(text) == len(re.findall(r"[^\W\d_]", text))
