"""The full cast's character table in the Cast tab, and the Speakers tab keeping up."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from pipelines.cast.casting import CastMode, book_characters, character_voices, set_book_mode
from pipelines.cast.narrator import narrator_voice
from pipelines.engines.base import Voice
from studio.main_window import MainWindow
from studio.panels.cast import CastPanel
from tests.gui.conftest import finish, open_in

pytestmark = pytest.mark.gui

# A fixed voice list, so the suggestions do not depend on what this computer has installed.
VOICES = [
    Voice("silence", "man-1", "Man 1", gender="male"),
    Voice("silence", "woman-1", "Woman 1", gender="female"),
    Voice("silence", "someone", "Someone"),
    Voice("silence", "man-2", "Man 2", gender="male"),
    Voice("silence", "woman-2", "Woman 2", gender="female"),
]
GENDER = {f"{v.engine}:{v.id}": v.gender for v in VOICES}


def _full_cast(qtbot: Any, window: MainWindow, root: Path) -> CastPanel:
    open_in(qtbot, window, root)
    cast = window.project_view.cast  # type: ignore[union-attr]
    set_book_mode(cast.project, CastMode.FULL)
    finish(qtbot, window.tasks.spawn(cast.reload()), timeout=60_000)
    return cast


def test_character_table_voice_and_merge(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    cast = window.project_view.cast  # type: ignore[union-attr]
    set_book_mode(cast.project, CastMode.FULL)
    finish(qtbot, window.tasks.spawn(cast.reload()), timeout=60_000)
    box = cast.characters
    assert not box.isHidden()
    names = [r.name for r in box.rows]
    assert "Sherlock Holmes" in names
    holmes = box.rows[names.index("Sherlock Holmes")]
    assert holmes.lines > 0
    combo = box.voice_combo("Sherlock Holmes")
    assert combo is not None and combo.count() > 1
    combo.setCurrentIndex(1)
    qtbot.waitUntil(lambda: "Sherlock Holmes" in character_voices(cast.project), timeout=10_000)

    other = next(n for n in names if n != "Sherlock Holmes")
    finish(qtbot, window.tasks.spawn(box.merge(other, "")), timeout=60_000)
    assert other not in book_characters(cast.project).names()
    assert other not in [r.name for r in box.rows]


def test_merge_target_is_a_chooser_whose_button_says_what_it_will_do(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    box = _full_cast(qtbot, window, sherlock_project).characters
    chooser = box.target
    assert isinstance(chooser, QComboBox) and chooser.isEditable()
    assert chooser.accessibleName() == "Merge into a character, or type a new name"
    completer = chooser.completer()
    assert completer is not None
    assert completer.caseSensitivity() is Qt.CaseSensitivity.CaseInsensitive
    names = [r.name for r in box.rows]
    selected, other = names[1], names[0]
    box.select(selected)
    assert box.selected_name() == selected
    listed = [chooser.itemText(i) for i in range(chooser.count())]
    assert selected not in listed and other in listed and len(listed) == len(names) - 1

    assert not box.merge_button.isEnabled()  # nothing typed
    chooser.setEditText(other.lower())  # any case finds the character
    assert box.merge_button.isEnabled() and box.merge_button.text() == f"Merge into {other}"
    chooser.setEditText("Somebody Newname")
    assert box.merge_button.text() == "Rename to Somebody Newname"
    chooser.setEditText(selected)
    assert not box.merge_button.isEnabled()
    chooser.setEditText("")
    assert not box.merge_button.isEnabled()

    # Enter in the chooser renames: the project holds the new name, the table shows it
    line = chooser.lineEdit()
    assert line is not None
    line.setText("Somebody Newname")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Somebody Newname" in [r.name for r in box.rows], timeout=60_000)
    assert "Somebody Newname" in book_characters(box.project).names()
    assert selected not in book_characters(box.project).names()
    assert chooser.currentText() == ""


def test_suggest_voices_matches_gender_and_can_be_undone(
    qtbot: Any, window: MainWindow, sherlock_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("studio.panels.cast.available_voices", lambda: list(VOICES))
    monkeypatch.setattr("studio.panels.characters.available_voices", lambda: list(VOICES))
    cast = _full_cast(qtbot, window, sherlock_project)
    box = cast.characters
    assert not character_voices(cast.project)
    gender = {r.name: r.gender for r in box.rows}

    box.suggest_button.click()
    qtbot.waitUntil(lambda: box.undo_suggest_button.isEnabled(), timeout=60_000)
    held = character_voices(cast.project)
    narrator = book_characters(cast.project).narrator
    if narrator in held:  # a first-person narrator keeps the narrator's voice
        assert held.pop(narrator) == narrator_voice(cast.project)
    assert narrator_voice(cast.project) not in held.values()
    order = [r.name for r in box.rows]  # the most lines first
    women = sorted((n for n in held if gender[n] == "female"), key=order.index)
    men = sorted((n for n in held if gender[n] == "male"), key=order.index)
    assert women and men
    # the leading woman and man get voices of their own gender; with more men than male
    # voices the rest may share one or take a neutral one, but nobody the other gender's
    assert GENDER[str(held[women[0]])] == "female"
    assert GENDER[str(held[men[0]])] == "male"
    assert all(GENDER[str(held[n])] != "male" for n in women)
    assert all(GENDER[str(held[n])] != "female" for n in men)
    woman = women[0]
    combo = box.voice_combo(woman)
    assert combo is not None and combo.currentData() == str(held[woman])

    box.undo_suggest_button.click()
    qtbot.waitUntil(lambda: not character_voices(cast.project), timeout=60_000)
    assert not box.undo_suggest_button.isEnabled()


def test_speakers_follow_the_chapter_at_once(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    open_in(qtbot, window, sherlock_project)
    book = window.project_view.book  # type: ignore[union-attr]
    panel = book.speakers
    rows = book.chapters.model.rows
    with_dialogue = [n for n, r in enumerate(rows, start=1) if r.title != "Contents"]
    first, second = with_dialogue[1], with_dialogue[2]
    book.chapters.select_numbers([first])
    qtbot.waitUntil(lambda: panel.chapter_id == rows[first - 1].id, timeout=30_000)
    panel.low_only.setChecked(False)
    # warm: the book's characters are found once
    started = time.monotonic()
    book.chapters.select_numbers([second])
    qtbot.waitUntil(lambda: panel.chapter_id == rows[second - 1].id, timeout=2_000)
    assert time.monotonic() - started < 1.5
    assert panel.quotes and all(q.key for q in panel.quotes)
    if panel.table.rowCount():
        assert panel.table.columnCount() == 4
        cells = [panel.table.item(r, 3) for r in range(panel.table.rowCount())]
        assert any(c is not None and c.text() for c in cells)
