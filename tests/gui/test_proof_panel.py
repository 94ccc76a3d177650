"""The Proof tab with the real recogniser (Whisper base from its PyPI parts): a Piper chapter is
proof-listened by itself after it renders when the book asks for it; a silent chapter has every
sentence flagged, and each can be played, edited, accepted or (for a voice that varies) taken
again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipelines.cast.voices import set_narrator
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.proof import whisper_files
from pipelines.store import Project
from pipelines.store.settings import PROOF
from studio.main_window import MainWindow
from studio.player import RecordingPlayer
from tests.gui.conftest import finish, open_in
from tests.whisper_files import install_whisper_elsewhere

pytestmark = [pytest.mark.gui, pytest.mark.slow]

PROSE = [
    "The lamp hissed and threw a circle of yellow light across the wet street.",
    "Two cats came to sit in it, as they always did.",
]


@pytest.fixture(autouse=True)
def _whisper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(whisper_files.MODEL_DIR_ENV, str(install_whisper_elsewhere()))


def open_book(qtbot: Any, window: MainWindow, root: Path, voice: VoiceRef) -> Any:
    blocks = [Block(BlockKind.PARAGRAPH, p) for p in PROSE]
    with Project.open(root, create=True) as p:
        p.save_book(Book(title="Lamps", chapters=[Chapter("The Lamp", blocks)]))
        set_narrator(p, voice)
    open_in(qtbot, window, root)
    view = window.project_view
    assert view is not None
    book = view.book
    cid = book.chapters.model.rows[0].id
    book.chapters.select_numbers([1])
    qtbot.waitUntil(
        lambda: book.text.chapter_id == cid and bool(book.text.text.pairs), timeout=10_000
    )
    return view, cid


def test_a_rendered_chapter_is_proofed_by_itself(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    view, _cid = open_book(qtbot, window, tmp_path / "lamps", VoiceRef("piper", "joe-us"))
    proof = view.book.proof
    assert proof.summary.text().startswith("Not proof-listened")
    proof.auto.setChecked(True)
    with Project.open(tmp_path / "lamps") as p:
        assert p.get_setting(PROOF) is True
    finish(qtbot, view.book.text.regenerate())
    qtbot.waitUntil(lambda: proof.summary.text().startswith("Heard"), timeout=180_000)
    assert proof.proof is not None and proof.proof.heard_share >= 0.9, proof.summary.text()


def test_flagged_sentences_played_edited_accepted(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    view, _cid = open_book(qtbot, window, tmp_path / "quiet", VoiceRef("silence", "default"))
    book = view.book
    finish(qtbot, book.text.regenerate())
    qtbot.waitUntil(lambda: not view.render_control.running, timeout=60_000)
    qtbot.waitUntil(lambda: bool(book.text.player.spans), timeout=10_000)
    proof = book.proof
    book.tabs.setCurrentWidget(proof)
    proof.listen_button.click()
    task = window.tasks.current("proof-listen")
    assert task is not None and finish(qtbot, task, 120_000) is not None
    assert "Heard 0.0%" in proof.summary.text() and proof.table.rowCount() == 3  # title + two

    proof.table.selectRow(1)
    chosen = proof.selected()
    assert chosen is not None and chosen.text == PROSE[0]
    proof.play_button.click()  # the Text tab shows, playing from the sentence's start
    assert book.tabs.currentWidget() is book.text
    player = window.ctx.player
    assert isinstance(player, RecordingPlayer)
    assert abs(player.seeks[-1] - chosen.start_s) <= 0.05

    book.tabs.setCurrentWidget(proof)
    proof.table.selectRow(1)
    proof.take_button.click()
    qtbot.waitUntil(lambda: "same way every time" in (window.last_error or ""), timeout=10_000)

    proof.table.selectRow(1)
    proof.edit_button.click()
    dialog = book.text.dialog
    assert dialog is not None and dialog.text() == PROSE[0]
    dialog.reject()

    book.tabs.setCurrentWidget(proof)
    proof.table.selectRow(1)
    finish(qtbot, proof.accept_selected())
    assert proof.table.rowCount() == 2 and "2 of 3 sentences flagged" in proof.summary.text()
