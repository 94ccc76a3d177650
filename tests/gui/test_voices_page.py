"""The Voices tab: every engine's voices with what each needs, a preview and "use as narrator" per
row, and a new StyleTTS2 voice from a recording, refused for the right reason when the
recording is clipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from pipelines.cast.voices import narrator_voice
from pipelines.core.model import Block, BlockKind, Book, Chapter, Role, Utterance, VoiceRef
from pipelines.engines.registry import get_engine
from pipelines.store import Project
from studio.main_window import MainWindow
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui

TEXT = (
    "The lamplighter climbed the iron ladder at a quarter past six. "
    "He lit the last gas lamp in the city, and the street below turned gold. "
    "Nobody thanked him, and he did not expect it."
)


def recording(path: Path, gain: float) -> Path:
    """Real speech (the Piper voice) at a chosen level; gain well above 1 clips it."""
    utt = Utterance(text=TEXT, role=Role.NARRATION, voice=VoiceRef("piper", "joe-us"))
    chunks = list(get_engine("piper").synthesize(utt, "joe-us", {}))
    samples = np.concatenate([c.samples for c in chunks])
    samples = samples / np.max(np.abs(samples)) * 0.5 * gain
    sf.write(str(path), np.clip(samples, -1, 1), chunks[0].sample_rate)
    return path


def project(root: Path) -> Path:
    blocks = [Block(BlockKind.PARAGRAPH, "A short book.")]
    with Project.open(root, create=True) as p:
        p.save_book(Book(title="Short", chapters=[Chapter("One", blocks)]))
    return root


def test_voices_listed_with_status_preview_and_cast(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipelines.app.voices.get_key", lambda provider: None)
    open_in(qtbot, window, project(tmp_path / "short"))
    view = window.project_view
    assert view is not None
    window.actions_by_name["voices"].trigger()
    assert view.tabs.currentWidget() is view.voices
    page = view.voices
    rows = finish(qtbot, window.tasks.spawn(page.reload()))
    statuses = {(r.engine, r.status) for r in rows}
    assert ("piper", "ready") in statuses and ("openai", "needs key") in statuses

    # A cloud voice without a key can be neither heard nor cast; the fix is named.
    assert page.select_voice("openai", "alloy")
    assert not page.preview_button.isEnabled()
    assert "OPENAI_API_KEY" in page.detail.text()

    assert page.select_voice("silence", "default")
    page.preview_button.click()
    task = window.tasks.current("preview")
    assert task is not None and finish(qtbot, task) is not None
    page.narrator_button.click()
    with Project.open(tmp_path / "short") as p:
        assert narrator_voice(p) == VoiceRef("silence", "default")

    page.filter.setText("piper ready")
    shown = [r for r in range(page.table.rowCount()) if not page.table.isRowHidden(r)]
    assert shown and all(page.table.item(r, 1).text() == "piper" for r in shown)


def test_a_voice_from_a_sample(qtbot: Any, window: MainWindow, tmp_path: Path) -> None:
    open_in(qtbot, window, project(tmp_path / "short"))
    view = window.project_view
    assert view is not None
    page = view.voices
    finish(qtbot, window.tasks.spawn(page.reload()))
    dialog = page.new_voice()

    # A clipped recording is refused, and says why.
    assert finish(qtbot, dialog.choose(recording(tmp_path / "hot.wav", gain=6.0))) > 5
    check = finish(qtbot, dialog.run_check())
    assert check is not None and not check.ok
    assert dialog.verdict.text().startswith("Refused: clipped")
    assert finish(qtbot, dialog.make()) is None and dialog.made is None

    # A clean one, trimmed a little, becomes a StyleTTS2 voice, listed and selected.
    finish(qtbot, dialog.choose(recording(tmp_path / "clean.wav", gain=1.0)))
    dialog.start.setValue(0.3)
    dialog.name.setText("My Reading Voice")
    voice = finish(qtbot, dialog.make())
    assert voice is not None and (voice.engine, voice.id) == ("styletts2", "my-reading-voice")
    qtbot.waitUntil(
        lambda: (
            (row := page.selected_row()) is not None
            and row.voice is not None
            and row.voice.id == "my-reading-voice"
        ),
        timeout=20_000,
    )


def test_an_elevenlabs_clone_needs_consent_and_half_a_minute(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.standins.elevenlabs_server import ElevenLabsStandIn
    from tests.standins.fixtures import announce_elevenlabs

    clean = recording(tmp_path / "one.wav", gain=1.0)
    samples, rate = sf.read(str(clean))
    gap = np.zeros(rate // 2)
    long = np.concatenate([np.concatenate([samples, gap])] * 6)  # about 40 s of the speaker
    sf.write(str(tmp_path / "long.wav"), long, rate)
    with ElevenLabsStandIn(tier="creator", lifetime_s=300) as server:
        announce_elevenlabs(monkeypatch, server)
        open_in(qtbot, window, project(tmp_path / "short"))
        view = window.project_view
        assert view is not None
        page = view.voices
        finish(qtbot, window.tasks.spawn(page.reload()))
        dialog = page.new_voice()
        dialog.cloud.setChecked(True)
        finish(qtbot, dialog.choose(clean))
        assert not dialog.make_button.isEnabled()  # no consent given yet
        dialog.consent.setChecked(True)
        assert dialog.make_button.isEnabled()
        assert finish(qtbot, dialog.make()) is None
        assert dialog.verdict.text().startswith("Refused: too short")

        finish(qtbot, dialog.choose(tmp_path / "long.wav"))
        dialog.name.setText("Martha")
        voice = finish(qtbot, dialog.make(), 60_000)
        assert voice is not None and voice.engine == "elevenlabs" and voice.name == "Martha"
        assert voice.id in server.cloned
        qtbot.waitUntil(
            lambda: (
                (row := page.selected_row()) is not None
                and row.voice is not None
                and row.voice.id == voice.id
            ),
            timeout=20_000,
        )


def test_a_render_plan_notice_is_shown_once_in_a_box(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    open_in(qtbot, window, project(tmp_path / "short"))
    view = window.project_view
    assert view is not None
    view.render_control.notice.emit("OpenAI voices now use gpt-realtime-2.1-mini ($25 a million).")
    box = view.last_notice
    assert box is not None and box.isVisible() and "gpt-realtime-2.1-mini" in box.text()
    assert "gpt-realtime-2.1-mini" in window.statusBar().currentMessage()
