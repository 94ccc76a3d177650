"""The Text tab's player: a click on a sentence plays from its start, the sentence being read is
lit as the playhead moves, and a computer without audio output is told so, with a WAV instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from studio.main_window import MainWindow
from studio.panels.player_bar import clock
from studio.panels.text import TextPanel
from studio.player import NO_OUTPUT_SENTENCE, RecordingPlayer
from tests.gui.conftest import finish, open_in
from tests.gui.test_paragraph_edit import small_project

pytestmark = pytest.mark.gui


def rendered(qtbot: Any, window: MainWindow, root: Path) -> TextPanel:
    cid = small_project(root)
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    panel = view.book.text
    panel.show_chapter(cid)
    qtbot.waitUntil(lambda: len(panel.text.block_ids) == 4, timeout=10_000)
    task = panel.regenerate()
    assert task is not None
    finish(qtbot, task)
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=60_000)
    panel.reload()
    qtbot.waitUntil(lambda: len(panel.sentence_ranges) >= 3, timeout=10_000)
    return panel


def test_click_a_sentence_seeks_and_highlight_follows(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    panel = rendered(qtbot, window, tmp_path / "harbour")
    player = panel.ctx.player
    assert isinstance(player, RecordingPlayer)
    bar = panel.player
    spans = bar.spans
    assert bar.duration > 0 and bar.play_button.isEnabled()

    # Click the third sentence in the spoken view: the chapter plays from its start.
    target = next(i for i, s in enumerate(spans) if "midnight" in s["text"])
    qtbot.mouseClick(
        panel.spoken.viewport(), Qt.MouseButton.LeftButton, pos=panel.sentence_rect(target)
    )
    assert player.current == bar.path
    assert abs(player.seeks[-1] - float(spans[target]["start"])) <= 0.05
    assert "midnight" in panel.reading_text()
    assert bar.play_button.text() == "Pause"

    # The playhead moves into another sentence: the highlight moves with it.
    first = next(i for i, s in enumerate(spans) if "lamps" in s["text"])
    player.advance_to(float(spans[first]["start"]) + 0.01)
    bar.tick()
    assert "lamps" in panel.reading_text()
    assert bar.position_label.text() == clock(player.position)

    # The slider and the waveform follow; stop goes back to the start.
    assert bar.slider.value() == round(player.position * 1000)
    bar.stop()
    assert player.current is None and bar.slider.value() == 0


def test_no_audio_output_says_so_and_offers_a_wav(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    panel = rendered(qtbot, window, tmp_path / "harbour")
    player = panel.ctx.player
    assert isinstance(player, RecordingPlayer)
    player._has_output = False
    target = next(i for i, s in enumerate(panel.player.spans) if "boats" in s["text"])
    panel.click_at(panel.sentence_rect(target))
    bar = panel.player
    assert player.played == []
    assert bar.message.text() == NO_OUTPUT_SENTENCE
    assert "Playing" not in bar.message.text()
    assert bar.export_button.isVisible()
    out = bar.export_sentence()
    assert out is not None and out.exists() and out.stat().st_size > 44
