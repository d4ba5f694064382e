"""Shared fixtures: one build of the seeds per test session, in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.pipeline import Options, build

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    """Models ship inside their packages: no test may reach a hub (the Hub stand-in tests say otherwise)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def seeds_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seeds") / "dataset"
    build(Options(seeds=SEEDS, out=out))
    return out
