"""croissant.json: the dataset described in MLCommons Croissant 1.0 (JSON-LD), derived from the contract.

One FileObject per Parquet shard (with its sha256 and size), one FileSet and one RecordSet per table, one
field per column (nested fields of a list of structs as repeated sub-fields). Same inputs, same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from .contract import TABLES, arrow_schema, json_schema
from .hf import PRIMARY_KEY, croissant_type, descriptions
from .files import sha256_file

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET = "application/x-parquet"
# the Croissant 1.0 JSON-LD context, as the specification gives it
CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract", "field": "cr:field",
    "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
    "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField",
    "path": "cr:path", "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex",
    "repeated": "cr:repeated", "replace": "cr:replace", "samplingRate": "cr:samplingRate", "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
}


def _field(table: str, name: str, arrow: pa.Field, about: Mapping[str, str]) -> dict:
    field_set = f"{table}-shards"
    field = {"@type": "cr:Field", "@id": f"{table}/{name}", "name": name, "description": about[name]}
    t = arrow.type
    if pa.types.is_list(t) and pa.types.is_struct(t.value_type):
        field["repeated"] = True
        field["subField"] = [
            {"@type": "cr:Field", "@id": f"{table}/{name}/{sub.name}", "name": sub.name,
             "description": about[f"{name}.{sub.name}"], "dataType": croissant_type(sub.type),
             "source": {"fileSet": {"@id": field_set}, "extract": {"column": name},
                        "transform": {"jsonPath": sub.name}}}
            for sub in t.value_type
        ]
        return field
    if pa.types.is_list(t):
        field["repeated"] = True
        t = t.value_type
    field["dataType"] = croissant_type(t)
    field["source"] = {"fileSet": {"@id": field_set}, "extract": {"column": name}}
    return field


def _record_set(table: str) -> dict:
    about = descriptions(table)
    return {
        "@type": "cr:RecordSet", "@id": table, "name": table, "description": json_schema(table)["description"],
        "key": [{"@id": f"{table}/{name}"} for name in PRIMARY_KEY[table]],
        "field": [_field(table, f.name, f, about) for f in arrow_schema(table)],
    }


def _distribution(folder: Path, shards: Sequence[str]) -> list[dict]:
    files = [
        {"@type": "cr:FileObject", "@id": rel, "name": rel, "contentUrl": rel, "encodingFormat": PARQUET,
         "contentSize": f"{(folder / rel).stat().st_size} B", "sha256": sha256_file(folder / rel)}
        for rel in shards
    ]
    sets = [
        {"@type": "cr:FileSet", "@id": f"{table}-shards", "name": f"{table}-shards",
         "description": f"The Parquet shards of the {table} table.", "encodingFormat": PARQUET,
         "includes": f"{table}/train-*.parquet"}
        for table in TABLES
    ]
    return files + sets


def croissant(folder: Path, about: Mapping[str, object]) -> dict:
    """The Croissant description of the dataset written in ``folder`` (its shards must be there already).

    ``about`` holds name, description, license (a URL), version, citation, languages and keywords.
    """
    shards = sorted(p.relative_to(folder).as_posix() for table in TABLES for p in (folder / table).glob("*.parquet"))
    return {
        "@context": CONTEXT, "@type": "sc:Dataset", "conformsTo": CONFORMS_TO,
        "name": about["name"], "description": about["description"], "license": about["license"],
        "version": about["version"], "citeAs": about["citation"],
        "inLanguage": list(about["languages"]), "keywords": list(about["keywords"]),
        "isLiveDataset": False,
        "distribution": _distribution(folder, shards),
        "recordSet": [_record_set(table) for table in TABLES],
    }


def croissant_bytes(folder: Path, about: Mapping[str, object]) -> bytes:
    return (json.dumps(croissant(folder, about), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
