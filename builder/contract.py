"""The contract: the JSON Schemas in ``schema/``, and everything derived from them.

The schemas are the single source of truth. The Arrow schema of each table (and, for the card, the
Hugging Face features) are derived here, never written by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import jsonschema
import jsonschema_rs
import pyarrow as pa

from .errors import ContractViolation, Violation

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"

# table name -> schema file stem; the order is the order tables are written and listed.
TABLES: dict[str, str] = {
    "articles": "article",
    "paragraphs": "paragraph",
    "translation_links": "translation_link",
}
# the field that names a record in error messages
RECORD_KEY = {"articles": "article_id", "paragraphs": "paragraph_id", "translation_links": None}

INT32_MAX = 2**31 - 1


@cache
def schema_version(schema_dir: Path = SCHEMA_DIR) -> str:
    return (schema_dir / "VERSION").read_text(encoding="utf-8").strip()


@cache
def json_schema(table: str, schema_dir: Path = SCHEMA_DIR) -> dict:
    path = schema_dir / f"{TABLES[table]}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _types(prop: Mapping) -> tuple[str, bool]:
    """The JSON type of a property and whether it may be null."""
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    non_null = [t for t in types if t != "null"]
    if len(non_null) != 1:
        raise ValueError(f"a property must have exactly one non-null type, got {types}")
    return non_null[0], "null" in types


def _arrow_type(prop: Mapping) -> pa.DataType:
    kind, _ = _types(prop)
    if kind == "string":
        return pa.date32() if prop.get("format") == "date" else pa.string()
    if kind == "integer":
        lo, hi = prop.get("minimum"), prop.get("maximum")
        if lo is None or hi is None:
            raise ValueError("integer properties need minimum and maximum to fix their width")
        if lo >= 0 and hi <= INT32_MAX:
            return pa.int32()
        return pa.int64()
    if kind == "number":
        return pa.float64()
    if kind == "boolean":
        return pa.bool_()
    if kind == "array":
        return pa.list_(_arrow_type(prop["items"]))
    if kind == "object":
        return pa.struct(_arrow_fields(prop))
    raise ValueError(f"no Arrow type for JSON type {kind!r}")


def _arrow_fields(obj: Mapping) -> list[pa.Field]:
    required = set(obj.get("required", ()))
    fields = []
    for name, prop in obj["properties"].items():
        _, nullable = _types(prop)
        fields.append(pa.field(name, _arrow_type(prop), nullable=nullable or name not in required))
    return fields


@cache
def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a table, derived from its JSON Schema (property order = column order)."""
    return pa.schema(_arrow_fields(json_schema(table)))


@cache
def _validator(table: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(json_schema(table), validate_formats=True)


def violations(table: str, records: Iterable[Mapping], source_of: Mapping[str, str] | None = None) -> list[Violation]:
    """Every schema violation in ``records`` (empty when all are valid). Validators are built once."""
    validator = _validator(table)
    key = RECORD_KEY[table]
    found: list[Violation] = []
    for index, record in enumerate(records):
        if validator.is_valid(record):
            continue
        name = str(record.get(key, f"#{index}")) if key else f"#{index}"
        article = record.get("article_id") or record.get("source_article_id")
        source = (source_of or {}).get(article) if article else None
        for error in validator.iter_errors(record):
            pointer = "".join(f"/{part}" for part in error.instance_path)
            found.append(Violation(table, name, source, pointer, error.message))
    return found


def validate(tables: Mapping[str, Iterable[Mapping]], source_of: Mapping[str, str] | None = None) -> None:
    """Raise ContractViolation listing every violation across all tables."""
    found = [v for table, records in tables.items() for v in violations(table, records, source_of)]
    if found:
        raise ContractViolation(found)
