"""`inspect --json` on every corpus manuscript agrees with the hand-checked ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.cli.main import main as cli_main

FILES = [
    "doyle_the-adventures-of-sherlock-holmes.epub",
    "melville_moby-dick.epub",
    "wells_the-time-machine.txt",
    "dickens_a-christmas-carol.md",
    "carroll_alices-adventures-in-wonderland.pdf",
    "thoreau_walden.docx",
]


@pytest.mark.parametrize("name", FILES)
def test_inspect_matches_ground_truth(
    name: str,
    corpus_dir: Path,
    ground_truth: dict[str, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli_main(["inspect", str(corpus_dir / name), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    truth = ground_truth[name]
    assert set(got) == {"title", "author", "language", "chapters", "excluded"}
    assert [c["title"] for c in got["chapters"]] == [c["title"] for c in truth["chapters"]]
    for mine, theirs in zip(got["chapters"], truth["chapters"], strict=True):
        assert mine["words"] == pytest.approx(theirs["words"], rel=0.01), mine["title"]
    body = sum(c["words"] for c in got["chapters"])
    assert body == pytest.approx(truth["body_words"], rel=0.01)
    assert all(e["reason"] for e in got["excluded"])
