"""The three versions every output carries: dataset (pyproject.toml), schema (schema/VERSION), builder."""

from __future__ import annotations

import tomllib
from pathlib import Path

from . import __version__
from .contract import SCHEMA_DIR, schema_version

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def dataset_version(pyproject: Path = PYPROJECT) -> str:
    """The dataset's semver: the ``turmoil`` package version in pyproject.toml, its one home."""
    with open(pyproject, "rb") as f:
        return tomllib.load(f)["project"]["version"]


def versions() -> dict[str, str]:
    return {
        "dataset_version": dataset_version(),
        "schema_version": schema_version(SCHEMA_DIR),
        "builder_version": __version__,
    }
