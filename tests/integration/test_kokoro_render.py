"""Kokoro end to end: `make BOOK --voice kokoro:af_heart` gives an M4B and ACX-ready MP3s, and a
dual-voice chapter speaks its dialogue in a second, contrasting Kokoro voice. Short texts: on
this CPU Kokoro runs at about 0.6 times real time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from mutagen.mp3 import MP3

from pipelines.app.imports import import_manuscript
from pipelines.audio import acx
from pipelines.cast.casting import CastMode, set_book_mode
from pipelines.cli.main import main as cli_main
from pipelines.core.model import Role, VoiceRef
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.settings import NARRATOR
from tests.integration.test_render_pipeline import astats, ffmpeg_info
from tests.kokoro_files import install_kokoro

HEART = VoiceRef("kokoro", "af_heart")
MICHAEL = VoiceRef("kokoro", "am_michael")

SHORT_BOOK = """# The Quay
by Ann Example

## Chapter 1. Fog

The ferry left the harbour an hour before dawn.

## Chapter 2. Noon

By noon the islands were plain against a hard blue sky.
"""

DIALOGUE = """# The Quay

## Chapter 1. Fog

The ferry was late again.

"Where is she?" asked Martha.

"Somewhere in that fog," said the harbour master.
"""


def test_make_with_a_kokoro_voice_writes_an_m4b_and_acx_mp3s(tmp_path: Path) -> None:
    install_kokoro()
    manuscript = tmp_path / "quay.md"
    manuscript.write_text(SHORT_BOOK, encoding="utf-8")
    out = tmp_path / "out"
    args = ["make", str(manuscript), "--out", str(out), "--project", str(tmp_path / "proj")]
    assert cli_main([*args, "--voice", "kokoro:af_heart"]) == 0

    m4b = next(out.glob("*.m4b"))
    titles = [
        line.split(":", 1)[1].strip() for line in ffmpeg_info(m4b).splitlines() if "title" in line
    ]
    assert "Chapter 1. Fog" in titles and "Chapter 2. Noon" in titles
    mp3s = sorted(out.glob("0[1-2] - *.mp3"))
    assert len(mp3s) == 2
    for path in mp3s:
        info = MP3(path).info  # a few seconds of MP3: mutagen's bitrate estimate is off by one
        assert abs(info.bitrate - 192_000) < 1000 and info.sample_rate == 44_100
        assert info.channels == 1
        report = acx.check(path)
        assert report.passed, report.problems
        stats = astats(path)  # and ffmpeg agrees
        assert -23.0 <= stats["rms"] <= -18.0, (path.name, stats)
        assert stats["peak"] <= -3.0, (path.name, stats)
        assert stats["noise"] <= -60.0, (path.name, stats)
    with Project.open(tmp_path / "proj") as project:
        assert project.get_setting(NARRATOR) == str(HEART)
        rows = project.query("SELECT spans, acx_passed FROM renders")
    assert rows and all(r["acx_passed"] == 1 for r in rows)
    spans = [s for r in rows for s in json.loads(r["spans"])]
    assert {s["voice"] for s in spans} == {str(HEART)}


def _pitch(x: np.ndarray, rate: int) -> float:
    """Median fundamental frequency of the voiced 40 ms frames (autocorrelation)."""
    frame, found = int(0.04 * rate), []
    lo, hi = int(rate / 400), int(rate / 70)
    for start in range(0, len(x) - frame, frame):
        f = x[start : start + frame] - np.mean(x[start : start + frame])
        if np.sqrt(np.mean(f**2)) < 0.02:
            continue
        ac = np.correlate(f, f, mode="full")[frame - 1 :]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            found.append(rate / lag)
    return float(np.median(found)) if found else 0.0


def test_dual_voice_reads_dialogue_in_a_contrasting_kokoro_voice(tmp_path: Path) -> None:
    install_kokoro()
    manuscript = tmp_path / "quay.md"
    manuscript.write_text(DIALOGUE, encoding="utf-8")
    with import_manuscript(manuscript, tmp_path / "project") as project:
        set_book_mode(project, CastMode.DUAL)  # no dialogue voice chosen: the default pairing
        chapter = next(c for c in project.chapters(with_blocks=False) if c.included)
        assert chapter.id is not None
        with RenderService(project) as service:
            number = 1 + [c.id for c in project.chapters(with_blocks=False)].index(chapter.id)
            plan = service.plan(project.chapter(number), HEART, {})
            service.enqueue([chapter.id], HEART, {})
            assert service.run() == 1
        row = project.query("SELECT wav, spans, acx_passed, acx FROM renders")[0]
        wav = Path(project.root) / row["wav"]

    dialogue = {p.utterance.text for p in plan if p.utterance.role is Role.DIALOGUE}
    assert len(dialogue) == 2
    assert all(p.voice == MICHAEL for p in plan if p.utterance.role is Role.DIALOGUE)
    assert all(p.voice == HEART for p in plan if p.utterance.role is not Role.DIALOGUE)
    spans = json.loads(row["spans"])
    assert [s["text"] for s in spans] == [p.utterance.text for p in plan]
    for span in spans:
        assert span["voice"] == str(MICHAEL if span["text"] in dialogue else HEART), span

    # Where the timing data says the voice changes, the pitch does too (a woman, then a man).
    audio, rate = sf.read(wav, dtype="float32")
    pitches: dict[str, list[float]] = {str(HEART): [], str(MICHAEL): []}
    for span in spans:
        a, b = int(span["start"] * rate), int(span["end"] * rate)
        if b - a > rate // 2:
            pitches[span["voice"]].append(_pitch(audio[a:b], rate))
    heart, michael = np.median(pitches[str(HEART)]), np.median(pitches[str(MICHAEL)])
    assert heart > 1.3 * michael, (heart, michael)
    assert row["acx_passed"] == 1, row["acx"]
