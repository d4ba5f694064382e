"""End to end: a fresh build of seeds/ equals the committed golden files, and what the seeds must give."""

from __future__ import annotations

import pytest

from golden import GOLDEN, render

APPROVE = "if the change is deliberate, refresh with: python tests/golden.py --approve"


@pytest.mark.parametrize("name", ["articles.jsonl", "paragraphs.jsonl", "translation_links.jsonl",
                                  "build_report.json"])
def test_build_matches_golden(seeds_build, name):
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    got = render(seeds_build)[name]
    assert got.splitlines() == expected.splitlines(), APPROVE
