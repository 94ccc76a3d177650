"""A short two-speaker story and an OpenAI stand-in, shared by the model-pass tests of the CLI
and of the Speakers tab."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.app.imports import import_manuscript
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

STORY = """# The Quay

## Chapter 1. Fog

“Is anybody there?”

The ferry was late again, and the harbour master had run out of patience with it.

“Where is she?” asked Martha, pulling her coat tight against the wind.

“Somewhere in that fog,” said Tom. “She will come when she comes.”

Martha looked out over the grey water for a long time, and Tom watched the lamps.

“Then I shall wait.”

“You will wait a long while.”

“I have waited longer than you know,” said Martha.

“Then we wait together,” said Tom.
"""


def serving_openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    """A running stand-in the OpenAI SDK is pointed at (a fixture's body: `yield from`)."""
    standin = OpenAIStandIn(lifetime_s=300)
    announce_openai(monkeypatch, standin)
    with standin:
        yield standin


def quay_project(root: Path) -> Path:
    """The story imported into `root/project`."""
    manuscript = root / "quay.md"
    manuscript.write_text(STORY, encoding="utf-8")
    with import_manuscript(manuscript, root / "project"):
        pass
    return root / "project"
