"""Hugging Face and Croissant descriptions of the tables, derived from the contract.

Nothing here names a column: everything comes from the Arrow schema that ``builder/contract.py`` derives from
``schema/*.schema.json``, and from the JSON Schemas' descriptions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa

from .contract import arrow_schema, json_schema

# Arrow type -> the dtype name `datasets` writes in a card's YAML (datasets.Value)
_HF_VALUE = {
    pa.string(): "string", pa.int32(): "int32", pa.int64(): "int64", pa.float64(): "float64",
    pa.bool_(): "bool", pa.date32(): "date32",
}
# Arrow type -> Croissant 1.0 data type
_CROISSANT_TYPE = {
    pa.string(): "sc:Text", pa.int32(): "sc:Integer", pa.int64(): "sc:Integer", pa.float64(): "sc:Float",
    pa.bool_(): "sc:Boolean", pa.date32(): "sc:Date",
}


def _hf_type(t: pa.DataType) -> dict:
    """One feature as the card's YAML writes it, without its name: {dtype: ...}, {list: ...} or {struct: [...]}."""
    if pa.types.is_list(t):
        item = _hf_type(t.value_type)
        return {"list": item.get("dtype", item.get("struct", item))}
    if pa.types.is_struct(t):
        return {"struct": [{"name": f.name, **_hf_type(f.type)} for f in t]}
    if t not in _HF_VALUE:
        raise ValueError(f"no Hugging Face dtype for Arrow type {t}")
    return {"dtype": _HF_VALUE[t]}


def features(table: str) -> list[dict]:
    """The ``features`` of a config in the card's ``dataset_info`` (the YAML form of ``datasets.Features``)."""
    return [{"name": f.name, **_hf_type(f.type)} for f in arrow_schema(table)]


def croissant_type(t: pa.DataType) -> str:
    if t not in _CROISSANT_TYPE:
        raise ValueError(f"no Croissant data type for Arrow type {t}")
    return _CROISSANT_TYPE[t]


def descriptions(table: str) -> dict[str, str]:
    """Column -> its description in the JSON Schema; nested properties as ``parent.child``."""
    found: dict[str, str] = {}

    def walk(properties: Mapping, prefix: str) -> None:
        for name, prop in properties.items():
            found[prefix + name] = prop.get("description", "")
            inner = prop.get("items", prop)
            if "properties" in inner:
                walk(inner["properties"], f"{prefix}{name}.")

    walk(json_schema(table)["properties"], "")
    return found


def type_label(t: pa.DataType) -> str:
    """A short, readable type for the card's field lists: string, int32, date32, list<struct>..."""
    if pa.types.is_list(t):
        return f"list of {type_label(t.value_type)}"
    if pa.types.is_struct(t):
        return "struct"
    return _HF_VALUE.get(t, str(t))


def columns(table: str) -> Iterator[tuple[str, pa.Field]]:
    """Every column with its dotted name, nested fields of lists of structs included, in schema order."""

    def walk(fields, prefix: str) -> Iterator[tuple[str, pa.Field]]:
        for f in fields:
            yield prefix + f.name, f
            inner = f.type.value_type if pa.types.is_list(f.type) else f.type
            if pa.types.is_struct(inner):
                yield from walk(inner, f"{prefix}{f.name}.")

    yield from walk(arrow_schema(table), "")


def enum_values(table: str, dotted: str) -> list[str] | None:
    """The ``enum`` of a (possibly nested) property, or None."""
    prop: Mapping = {"properties": json_schema(table)["properties"]}
    for part in dotted.split("."):
        prop = prop.get("items", prop)["properties"][part]
    return prop.get("enum")


# The primary key of each table: what identifies a row across versions (the changelog compares by it, and
# croissant.json declares it). It belongs with the schemas; until they carry it, it lives here.
PRIMARY_KEY: dict[str, tuple[str, ...]] = {
    "articles": ("article_id",),
    "paragraphs": ("paragraph_id",),
    "translation_links": ("level", "source_id", "target_id"),
}
