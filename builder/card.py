"""Stage 8, card: the dataset card (README.md) rendered from dataset_card.md, the schemas and the data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "dataset_card.md"


def card_files(tables: Mapping[str, Sequence[Mapping]], report: Mapping, versions: Mapping[str, str]) -> dict[str, bytes]:
    """Files that describe the dataset, by path relative to the output folder."""
    return {"README.md": TEMPLATE.read_bytes()}
