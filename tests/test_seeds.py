"""What the five seed pages must give, written from reading them (not from the builder's output)."""

from __future__ import annotations

import polars as pl
import pytest

from builder.layouts.text import is_language_menu

EXPECTED = [  # file, language, title starts with, date
    pytest.param("000_649e56bae12c91cd.txt", "pt", "a história interna da onda de demissões", "2024-09-27", id="pt"),
    pytest.param("001_85c76a0cb57df940.txt", "ja", "openai幹部の辞任相次ぐ内幕が暴露され", "2024-09-27", id="ja"),
    pytest.param("002_64c3c0530d4eca56.txt", "zh", "他爱赚钱也爱宫斗!OpenAI 高管离职潮内幕曝", None, id="zh-no-date"),
    pytest.param("003_a515efed1dfb9b2d.txt", "it", "Terremoto del personale OpenAI", "2024-08-06", id="it"),
    pytest.param("004_6577e15565fca9e7.txt", "fr", "l'histoire intérieure de la démission du cto", "2024-10-04", id="fr"),
]


@pytest.fixture(scope="module")
def tables(seeds_build):
    return {t: pl.read_parquet(seeds_build / t / "*.parquet")
            for t in ("articles", "paragraphs", "translation_links")}


@pytest.mark.parametrize("path, lang, title, published", EXPECTED)
def test_article_fields(tables, path, lang, title, published):
    row = tables["articles"].filter(pl.col("source_path") == path).row(0, named=True)
    assert row["lang"] == lang
    assert row["title"].startswith(title)
    assert (row["published"].isoformat() if row["published"] else None) == published


def test_five_articles(tables):
    assert tables["articles"].height == 5


def test_chinese_body_appears_once(tables):
    zh = tables["articles"].filter(pl.col("lang") == "zh")["article_id"][0]
    texts = tables["paragraphs"].filter(pl.col("article_id") == zh)["text"].to_list()
    assert texts.count("深陷高管离职风波的 OpenAI 最近点燃了吃瓜群众的热情。") == 1
    assert len(texts) == len(set(texts))
    removed = tables["articles"].filter(pl.col("lang") == "zh")["removed"][0].to_list()
    reasons = [r["reason"] for r in removed]
    assert reasons.count("repeated_body") == 74  # lines 78-151 repeat lines 4-77
    assert reasons.count("trailer") == 2 and reasons.count("metadata_line") == 1


@pytest.mark.parametrize("text", ["notícias", "ニュース", "notizia", "nouvelles", "2024-09-27",
                                  "大鱼新闻 财经 2 months, 3 weeks", "Advertisements", "相关新闻"])
def test_no_chrome_line_is_a_paragraph(tables, text):
    assert text not in tables["paragraphs"]["text"].to_list()


def test_no_language_menu_paragraph(tables):
    assert not any(is_language_menu(t) for t in tables["paragraphs"]["text"])


@pytest.mark.parametrize("lang, kind, text", [
    pytest.param("pt", "caption", "imagem via @blizaine", id="pt-caption"),
    pytest.param("ja", "caption", "画像提供 @blizaine", id="ja-caption"),
    pytest.param("zh", "caption", "图片来自@ Blizaine", id="zh-caption"),
    pytest.param("it", "byline", "Rapporto sul cuore della macchina", id="it-byline-1"),
    pytest.param("it", "byline", "Dipartimento editoriale di Machine Heart", id="it-byline-2"),
    pytest.param("fr", "heading", "points forts:", id="fr-heading"),
    pytest.param("zh", "heading", "心里受委屈了", id="zh-heading"),
    pytest.param("pt", "heading", "o que aconteceu com openai?", id="pt-question-heading"),
])
def test_paragraph_kinds(tables, lang, kind, text):
    ids = tables["articles"].filter(pl.col("lang") == lang)["article_id"].to_list()
    rows = tables["paragraphs"].filter(pl.col("article_id").is_in(ids) & (pl.col("text") == text))
    assert rows["kind"].to_list() == [kind]


def test_french_highlights_are_list_items(tables):
    fr = tables["articles"].filter(pl.col("lang") == "fr")["article_id"][0]
    items = tables["paragraphs"].filter((pl.col("article_id") == fr) & (pl.col("kind") == "list_item"))
    assert [t[:2] for t in items["text"]] == ["1.", "2.", "3.", "4."]


def test_italian_reference(tables):
    refs = tables["paragraphs"].filter(pl.col("kind") == "reference")["text"].to_list()
    assert len(refs) == 1 and refs[0].startswith("Link di riferimento: https://")


def test_text_is_as_written(tables):
    """Lowercased machine translation stays lowercased; the paragraph language is the article's."""
    pt = tables["articles"].filter(pl.col("lang") == "pt")["article_id"][0]
    paras = tables["paragraphs"].filter(pl.col("article_id") == pt)
    assert "o que aconteceu com openai?" in paras["text"].to_list()
    assert set(paras["lang"]) == {"pt"}
