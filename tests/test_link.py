"""Article linking over a corpus: the seeds, small hand-made corpora, and a few NTREX documents if present."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from builder.evaluate import eval_links_records, records_from_gold
from builder.link import link

ROOT = Path(__file__).resolve().parent.parent
SEEDS_GOLD = json.loads((ROOT / "tests" / "data" / "seeds_gold.json").read_text(encoding="utf-8"))
NTREX_GOLD = ROOT.parent / "shared" / "eval" / "ntrex-dev" / "gold.json"
SCHEMA = json.loads((ROOT / "schema" / "translation_link.schema.json").read_text(encoding="utf-8"))
PT, JA, ZH, IT, FR = sorted(SEEDS_GOLD["files"])


@pytest.fixture(scope="module")
def seeds() -> tuple[list[dict], dict[str, list[dict]], list[dict]]:
    articles, paragraphs = records_from_gold(SEEDS_GOLD)
    return articles, paragraphs, link(articles, paragraphs)


def names(articles: list[dict]) -> dict[str, str]:
    return {a["article_id"]: a["source_path"] for a in articles}


def test_seeds_link_the_translations_only(seeds) -> None:
    articles, _, links = seeds
    name = names(articles)
    found = {frozenset((name[x["source_id"]], name[x["target_id"]])) for x in links if x["level"] == "article"}
    assert found == {frozenset((PT, ZH)), frozenset((JA, ZH)), frozenset((PT, JA))}
    assert not [x for x in links if {name[x["source_article_id"]], name[x["target_article_id"]]} & {IT, FR}]


def test_seeds_original_is_the_cased_chinese_page(seeds) -> None:
    articles, _, links = seeds
    name = names(articles)
    original = {frozenset((name[x["source_id"]], name[x["target_id"]])): x["likely_original"] and name[x["likely_original"]]
                for x in links if x["level"] == "article"}
    assert original == {frozenset((PT, ZH)): ZH, frozenset((JA, ZH)): ZH, frozenset((PT, JA)): None}


@pytest.mark.parametrize("pair", [pytest.param((ZH, PT), id="zh-pt"), pytest.param((ZH, JA), id="zh-ja")])
def test_seeds_paragraph_alignment(pair: tuple[str, str]) -> None:
    articles, paragraphs = records_from_gold(SEEDS_GOLD, pair)
    flat = [p for ps in paragraphs.values() for p in ps]
    figures = eval_links_records(SEEDS_GOLD, articles, flat, link(articles, paragraphs))
    assert figures["paragraphs"]["f1"] >= 0.98
    assert figures["articles"]["f1"] == 1.0


def test_seeds_image_credit_crosses(seeds) -> None:
    articles, paragraphs, links = seeds
    ids = {name: aid for aid, name in names(articles).items()}
    text = {p["paragraph_id"]: p["text"] for ps in paragraphs.values() for p in ps}
    pairs = {(text[x["source_id"]], text[x["target_id"]]) for x in links
             if x["level"] == "paragraph" and {x["source_article_id"], x["target_article_id"]} == {ids[PT], ids[ZH]}}
    assert {("imagem via @blizaine", "图片来自@ Blizaine"), ("图片来自@ Blizaine", "imagem via @blizaine")} & pairs


def test_links_follow_the_schema_and_orientation(seeds) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    _, _, links = seeds
    for x in links:
        jsonschema.validate(x, SCHEMA)
        assert x["source_article_id"] < x["target_article_id"]
        assert (x["bead"] is None) == (x["level"] == "article")
        assert x["source_id"].startswith(x["source_article_id"]) and x["target_id"].startswith(x["target_article_id"])


def test_same_input_in_any_order_gives_the_same_links(seeds) -> None:
    articles, paragraphs, links = seeds
    shuffled = articles[::-1]
    random.Random(7).shuffle(shuffled)
    assert link(shuffled, {k: v[::-1] for k, v in reversed(paragraphs.items())}) == links


def test_duplicates_take_no_part(seeds) -> None:
    articles, paragraphs, _ = seeds
    marked = [{**a, "duplicate_of": "a" + "0" * 16} if a["source_path"] == PT else a for a in articles]
    assert not [x for x in link(marked, paragraphs) if articles[0]["article_id"] in (x["source_article_id"], x["target_article_id"])]


QUAKE_EN = ["Earthquake shakes the island of Kefalonia",
            "An earthquake of magnitude 5.8 struck the island of Kefalonia at 03:12 on Tuesday, the geological institute said.",
            "No one was injured, but 14 old houses in the village of Assos were damaged and the harbour road was closed.",
            "Ferries to Patras kept running, and schools in the north of the island will stay closed until Thursday."]
QUAKE_FR = ["Un séisme secoue l'île de Céphalonie",
            "Un séisme de magnitude 5,8 a frappé l'île de Céphalonie mardi à 03h12, a indiqué l'institut géologique.",
            "Personne n'a été blessé, mais 14 vieilles maisons du village d'Assos ont été endommagées et la route du port fermée.",
            "Les ferries vers Patras ont continué à circuler, et les écoles du nord de l'île resteront fermées jusqu'à jeudi."]
QUAKE_DE_REPORT = ["Nach dem Beben: Kefalonia zählt die Schäden",
                   "Zwei Tage nach dem Erdbeben sind Statiker in Assos unterwegs; viele Bewohner schlafen noch in Zelten.",
                   "Der Bürgermeister fordert Hilfe aus Athen, denn die Insel lebt vom Tourismus und die Saison beginnt bald.",
                   "Auf Kefalonia hatte es bereits 2014 zwei schwere Beben gegeben, nach denen der Wiederaufbau Jahre dauerte."]
BUDGET_FR = ["Le budget de la ville adopté de justesse",
             "Le conseil municipal a adopté le budget 2025 par 23 voix contre 21 après six heures de débat.",
             "L'opposition reproche à la maire la hausse de la taxe foncière et le report de la rénovation des écoles.",
             "Les transports publics recevront 12 millions d'euros de plus, surtout pour de nouveaux bus électriques."]


def corpus(*pages: tuple[str, str, str | None, list[str]]) -> tuple[list[dict], dict[str, list[dict]]]:
    """Pages (id digit, lang, date, texts with the title first) as article and paragraph records."""
    articles, paragraphs = [], {}
    for digit, lang, date, texts in pages:
        aid = "a" + digit * 16
        articles.append({"article_id": aid, "lang": lang, "title": texts[0], "published": date,
                         "source_path": f"{digit}.txt", "duplicate_of": None})
        paragraphs[aid] = [{"paragraph_id": f"{aid}-p{i}", "article_id": aid, "position": i,
                            "kind": "title" if i == 0 else "body", "text": t, "lang": lang} for i, t in enumerate(texts)]
    return articles, paragraphs


@pytest.mark.parametrize(("pages", "expected"), [
    pytest.param([("1", "en", "2024-05-07", QUAKE_EN), ("2", "fr", "2024-05-08", QUAKE_FR)], {("1", "2")},
                 id="translation-linked"),
    pytest.param([("1", "en", None, QUAKE_EN), ("2", "fr", "2024-05-08", QUAKE_FR)], {("1", "2")},
                 id="translation-linked-undated"),
    pytest.param([("1", "en", "2024-05-07", QUAKE_EN), ("2", "en", "2024-05-07", QUAKE_EN)], set(),
                 id="same-language-copies-never-linked"),
    pytest.param([("1", "en", "2024-05-07", QUAKE_EN), ("2", "fr", "2024-05-07", BUDGET_FR)], set(),
                 id="unrelated-not-linked"),
    pytest.param([("1", "en", "2024-05-07", QUAKE_EN), ("3", "de", "2024-05-09", QUAKE_DE_REPORT)], set(),
                 id="related-not-translated"),
    pytest.param([("1", "en", "2024-05-01", QUAKE_EN), ("2", "fr", "2024-05-08", QUAKE_FR)], set(),
                 id="dated-a-week-apart-not-compared"),
])
def test_link_table(pages: list, expected: set[tuple[str, str]]) -> None:
    articles, paragraphs = corpus(*pages)
    found = {(x["source_id"][1], x["target_id"][1]) for x in link(articles, paragraphs) if x["level"] == "article"}
    assert found == expected


def test_translation_pair_aligns_paragraph_k_with_k() -> None:
    articles, paragraphs = corpus(("1", "en", "2024-05-07", QUAKE_EN), ("2", "fr", "2024-05-08", QUAKE_FR))
    got = {(x["source_id"], x["target_id"], x["bead"]) for x in link(articles, paragraphs) if x["level"] == "paragraph"}
    assert got == {(f"a{'1' * 16}-p{k}", f"a{'2' * 16}-p{k}", k) for k in range(4)}


@pytest.mark.skipif(not NTREX_GOLD.exists(), reason="shared NTREX dev set not present")
def test_ntrex_handful_of_documents() -> None:
    gold = json.loads(NTREX_GOLD.read_text(encoding="utf-8"))
    chosen = [name for doc in sorted(gold["groups"])[::20] for name in gold["groups"][doc].values()]
    articles, paragraphs = records_from_gold(gold, chosen)
    figures = eval_links_records(gold, articles, [p for ps in paragraphs.values() for p in ps], link(articles, paragraphs))
    assert figures["cross_document_article_links"] == 0
    assert figures["articles"]["f1"] >= 0.95
    assert figures["paragraphs"]["f1"] >= 0.90


def test_eval_links_reads_a_built_folder(seeds, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    from builder.evaluate import eval_links

    articles, paragraphs, links = seeds
    flat = [p for ps in paragraphs.values() for p in ps]
    for table, rows in (("articles", articles), ("paragraphs", flat), ("translation_links", links)):
        (tmp_path / table).mkdir()
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / table / "part-0.parquet")
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps(SEEDS_GOLD), encoding="utf-8")
    figures = eval_links(gold, tmp_path)
    assert figures == eval_links_records(SEEDS_GOLD, articles, flat, links)
    assert (figures["articles"]["true_positive"], figures["cross_document_article_links"]) == (3, 0)


@pytest.mark.parametrize("values", [
    pytest.param([], id="none"),
    pytest.param([7], id="one"),
    pytest.param([5, 5, 5], id="all the same"),
    pytest.param([9, 1, 9, 3, 1, 2**64 - 1, 0, 2**63], id="repeats and the extremes of uint64"),
])
def test_sorted_unique_is_numpys_unique(values: list[int]) -> None:
    from builder.link import _sorted_unique

    x = np.array(values, dtype=np.uint64)
    got = _sorted_unique(x)
    assert got.dtype == np.uint64 and got.tolist() == sorted(set(values))


@pytest.mark.parametrize("values", [
    pytest.param([], id="none"),
    pytest.param([7], id="one"),
    pytest.param([5, 5, 5], id="all the same"),
    pytest.param([9, 1, 9, 3, 1, 2**64 - 1, 0, 2**63, 2**63 + 1], id="repeats and the extremes of uint64"),
    pytest.param(list(range(1000, 0, -1)) * 2, id="many, descending, twice"),
])
def test_unique_inverse_is_numpys_unique(values: list[int]) -> None:
    from builder.link import _unique_inverse

    x = np.array(values, dtype=np.uint64)
    inverse, counts = _unique_inverse(np.repeat(x, 2)[::2])  # a strided view, not a contiguous array
    distinct = sorted(set(values))
    assert inverse.tolist() == [distinct.index(v) for v in values]
    assert counts.tolist() == [values.count(v) for v in distinct]
