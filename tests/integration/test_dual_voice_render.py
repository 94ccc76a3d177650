"""A dual-voice chapter: narration on the embedded Piper voice, dialogue on a second voice on
another engine (OpenAI's SDK over HTTP to the local stand-in server, whose voice is a synthetic
buzz nothing like Piper's), checked span by span in the timing data and by the ACX check."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from pipelines.app.imports import import_manuscript
from pipelines.cast.casting import CastMode, set_book_mode
from pipelines.cast.voices import set_dialogue_voice
from pipelines.core.model import Role, VoiceRef
from pipelines.render.service import RenderService
from pipelines.store import Project
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

PIPER = VoiceRef("piper", "joe-us")
ALLOY = VoiceRef("openai", "alloy")
STORY = """# The Quay

## Chapter 1. Fog

The ferry was late again, and the harbour master had run out of patience.

"Where is she?" asked Martha, pulling her coat tight against the wind.

"Somewhere in that fog," said the harbour master. "She will come when she comes."

Martha looked out over the grey water for a long time before she answered him.

"Then I shall wait," she said, "for as long as it takes."
"""


@pytest.fixture
def openai_standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    server = OpenAIStandIn(lifetime_s=300)
    announce_openai(monkeypatch, server)
    with server:
        yield server


def spectral_centroid(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return float((spectrum * freqs).sum() / max(spectrum.sum(), 1e-12))


def test_every_dialogue_span_is_in_the_second_voice(
    openai_standin: OpenAIStandIn, tmp_path: Path
) -> None:
    manuscript = tmp_path / "quay.md"
    manuscript.write_text(STORY, encoding="utf-8")
    project = import_manuscript(manuscript, tmp_path / "project")
    with project:
        set_book_mode(project, CastMode.DUAL)
        set_dialogue_voice(project, ALLOY)
        chapter = next(c for c in project.chapters(with_blocks=False) if c.included)
        assert chapter.id is not None
        with RenderService(project) as service:
            plan = service.plan(
                project.chapter(
                    1 + [c.id for c in project.chapters(with_blocks=False)].index(chapter.id)
                ),
                PIPER,
                {},
            )
            service.enqueue([chapter.id], PIPER, {})
            assert service.run() == 1
        row = project.query("SELECT wav, spans, acx_passed, acx FROM renders")[0]
        wav = Path(project.root) / row["wav"]

    dialogue = [p.utterance.text for p in plan if p.utterance.role is Role.DIALOGUE]
    narration = [p.utterance.text for p in plan if p.utterance.role is not Role.DIALOGUE]
    assert len(dialogue) == 5 and not any("said" in d or "asked" in d for d in dialogue)
    assert all(p.voice == ALLOY for p in plan if p.utterance.role is Role.DIALOGUE)
    assert all(p.voice == PIPER for p in plan if p.utterance.role is not Role.DIALOGUE)

    spans = json.loads(row["spans"])
    assert [s["text"] for s in spans] == [p.utterance.text for p in plan]
    for span in spans:
        expected = ALLOY if span["text"] in dialogue else PIPER
        assert span["voice"] == str(expected), span
    assert any(s["voice"] == str(PIPER) for s in spans if s["text"] in narration)

    # The two voices really sound different where the timing data says they change.
    audio, rate = sf.read(wav, dtype="float32")
    centroids: dict[str, list[float]] = {str(PIPER): [], str(ALLOY): []}
    for span in spans:
        a, b = int(span["start"] * rate), int(span["end"] * rate)
        if b - a > rate // 4:
            centroids[span["voice"]].append(spectral_centroid(audio[a:b], rate))
    piper_c, alloy_c = np.median(centroids[str(PIPER)]), np.median(centroids[str(ALLOY)])
    assert abs(piper_c - alloy_c) > 0.15 * min(piper_c, alloy_c), (piper_c, alloy_c)

    assert row["acx_passed"] == 1, row["acx"]
    assert openai_standin.requests, "the dialogue voice was never asked to speak"
    with Project.open(tmp_path / "project") as reopened:
        jobs = reopened.query("SELECT chars_billed FROM jobs")
    assert jobs[0]["chars_billed"] == sum(len(d) for d in dialogue)
