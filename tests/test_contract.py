"""The contract: schemas are valid Draft 2020-12, the Arrow schema derives from them, and bad records are
reported one violation at a time with their location."""

from __future__ import annotations

import pyarrow as pa
import pytest

from builder.contract import TABLES, arrow_schema, json_schema, validate, violations
from builder.errors import ContractViolation

GOOD_ARTICLE = {
    "article_id": "a0123456789abcdef", "lang": "zh", "title": "标题", "published": None,
    "source_path": "x/002.txt", "source_sha256": "0" * 64, "source_bytes": 10, "source_encoding": "utf-8",
    "layout": "dense", "paragraph_count": 1, "duplicate_of": None,
    "removed": [{"char_start": 3, "char_end": 9, "reason": "metadata_line"}],
}
GOOD_LINK = {
    "level": "article", "source_id": "a0123456789abcdef", "target_id": "a0123456789abcdee",
    "source_article_id": "a0123456789abcdef", "target_article_id": "a0123456789abcdee", "score": 0.9,
    "method": "x", "bead": None, "likely_original": None,
}
GOOD_PARAGRAPH = {
    "paragraph_id": "a0123456789abcdef-p0", "article_id": "a0123456789abcdef", "position": 0, "kind": "title",
    "text": "标题", "lang": "zh", "char_start": 0, "char_end": 2,
}


@pytest.mark.parametrize("table, column, arrow_type, nullable", [
    pytest.param("articles", "article_id", pa.string(), False, id="string-required"),
    pytest.param("articles", "published", pa.date32(), True, id="date-nullable"),
    pytest.param("articles", "source_bytes", pa.int64(), False, id="int64-when-max-needs-it"),
    pytest.param("articles", "paragraph_count", pa.int32(), False, id="int32"),
    pytest.param("articles", "removed", pa.list_(pa.struct([
        pa.field("char_start", pa.int32(), nullable=False), pa.field("char_end", pa.int32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False)])), False, id="list-of-struct"),
    pytest.param("paragraphs", "kind", pa.string(), False, id="enum-is-plain-string"),
    pytest.param("translation_links", "score", pa.float64(), False, id="number"),
    pytest.param("translation_links", "bead", pa.int32(), True, id="int-nullable"),
])
def test_arrow_schema_is_derived(table, column, arrow_type, nullable):
    field = arrow_schema(table).field(column)
    assert field.type == arrow_type
    assert field.nullable == nullable


@pytest.mark.parametrize("table", list(TABLES))
def test_columns_follow_schema_properties(table):
    assert arrow_schema(table).names == list(json_schema(table)["properties"])


def test_good_records_pass():
    validate({"articles": [GOOD_ARTICLE], "paragraphs": [GOOD_PARAGRAPH], "translation_links": [GOOD_LINK]})


@pytest.mark.parametrize("table, record, field, words", [
    pytest.param("articles", {**GOOD_ARTICLE, "lang": "Chinese"}, "/lang", "does not match", id="lang-pattern"),
    pytest.param("articles", {**GOOD_ARTICLE, "published": "2024-13-01"}, "/published", "date", id="bad-date"),
    pytest.param("articles", {**GOOD_ARTICLE, "removed": [{"char_start": 1, "char_end": 2, "reason": "ads"}]},
                 "/removed/0/reason", "is not one of", id="removed-reason-enum"),
    pytest.param("articles", {k: v for k, v in GOOD_ARTICLE.items() if k != "title"}, "", "title",
                 id="missing-title"),
    pytest.param("articles", {**GOOD_ARTICLE, "extra": 1}, "", "extra", id="unknown-field"),
    pytest.param("paragraphs", {**GOOD_PARAGRAPH, "kind": "footer"}, "/kind", "is not one of", id="kind-enum"),
    pytest.param("paragraphs", {**GOOD_PARAGRAPH, "text": ""}, "/text", "", id="empty-text"),
    pytest.param("paragraphs", {**GOOD_PARAGRAPH, "char_start": -1}, "/char_start", "minimum",
                 id="negative-offset"),
    pytest.param("translation_links", {**GOOD_LINK, "score": 1.5}, "/score", "maximum", id="score-above-1"),
    pytest.param("translation_links", {**GOOD_LINK, "level": "page"}, "/level", "is not one of", id="level-enum"),
])
def test_each_violation_is_located(table, record, field, words):
    good = {"articles": GOOD_ARTICLE, "paragraphs": GOOD_PARAGRAPH, "translation_links": GOOD_LINK}[table]
    found = violations(table, [good, record], source_of={"a0123456789abcdef": "x/002.txt"})
    assert [v.field for v in found] == [field]
    assert found[0].record.startswith(("a0123456789abcdef", "#1"))
    assert words in found[0].message
    assert found[0].source_path == "x/002.txt"


def test_every_violation_reported_not_just_first():
    bad = [{**GOOD_PARAGRAPH, "kind": "footer", "lang": "x"}, {**GOOD_PARAGRAPH, "position": -3}]
    with pytest.raises(ContractViolation) as err:
        validate({"paragraphs": bad}, source_of={"a0123456789abcdef": "x/002.txt"})
    assert sorted(v.field for v in err.value.violations) == ["/kind", "/lang", "/position"]
    assert "x/002.txt" in str(err.value) and "/kind" in str(err.value)
