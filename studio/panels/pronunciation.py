"""The pronunciation fix the Text tab opens on a selected word: how to say it, in one paragraph or
in the whole book, with the lines it will change listed before it is saved, and undo."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.pronunciation import (
    Occurrence,
    occurrences,
    remove_local_fix,
    set_local_fix,
)
from pipelines.cast.lexicon import local_fixes
from pipelines.core.errors import StudioError
from pipelines.store import Project
from studio.context import StudioContext
from studio.theme import set_role

LISTED = 200  # lines shown; the count says how many there are in all


@dataclass(frozen=True, slots=True)
class Fix:
    word: str
    spoken: str
    case_sensitive: bool
    block_id: int | None  # None: the whole book


class PronunciationCommand(QUndoCommand):
    """A saved fix on the book's undo stack: undo puts back what the word had before (another
    fix, or none)."""

    def __init__(
        self,
        project: Project,
        fix: Fix,
        before: Fix | None,
        on_change: Callable[[int], None],
        on_error: Callable[[str], None],
        chapter_id: int,
    ) -> None:
        where = "in one paragraph" if fix.block_id is not None else "in the book"
        super().__init__(f"Say “{fix.word}” as “{fix.spoken}” {where}")
        self._project = project
        self._fix = fix
        self._before = before
        self._on_change = on_change
        self._on_error = on_error
        self._chapter_id = chapter_id
        self._pushed = True

    def redo(self) -> None:
        if self._pushed:
            self._pushed = False  # already saved when the author pressed Save
            return
        self._run(lambda: apply_fix(self._project, self._fix))

    def undo(self) -> None:
        def back() -> None:
            drop_fix(self._project, self._fix)
            if self._before is not None:
                apply_fix(self._project, self._before)

        self._run(back)

    def _run(self, operation: Callable[[], None]) -> None:
        try:
            operation()
        except StudioError as exc:
            self._on_error(exc.message)
        self._on_change(self._chapter_id)


def apply_fix(project: Project, fix: Fix) -> None:
    if fix.block_id is None:
        project.set_lexicon_entry(fix.word, fix.spoken, fix.case_sensitive)
    else:
        set_local_fix(project, fix.block_id, fix.word, fix.spoken, fix.case_sensitive)


def drop_fix(project: Project, fix: Fix) -> None:
    if fix.block_id is None:
        project.remove_lexicon_entry(fix.word)
    else:
        remove_local_fix(project, fix.block_id, fix.word)


def existing_fix(project: Project, word: str, block_id: int | None) -> Fix | None:
    """What `word` is said as now, where a fix would go (the book's lexicon, or the paragraph's
    own fixes)."""
    folded = " ".join(word.split()).casefold()
    if block_id is None:
        entries = project.lexicon_entries()
    else:
        entries = local_fixes(project).get(block_id, [])
    for written, spoken, cs in entries:
        if written.casefold() == folded:
            return Fix(written, spoken, cs, block_id)
    return None


class PronunciationDialog(QDialog):
    """Word, how to say it, where; the lines it changes are listed as the word is typed."""

    saved = Signal()

    def __init__(
        self,
        parent: QWidget,
        project: Project,
        ctx: StudioContext,
        word: str,
        paragraph: int,
        block_id: int,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.ctx = ctx
        self.block_id = block_id
        self.fix: Fix | None = None
        self.before: Fix | None = None
        self.found: list[Occurrence] = []
        self.setWindowTitle("Pronunciation")
        self.word = QLineEdit(word)
        self.word.setPlaceholderText("the word or phrase as written")
        self.spoken = QLineEdit()
        self.spoken.setPlaceholderText("a spelling the voice says right, e.g. “Hermy-OH-nee”")
        self.case = QCheckBox("Only with this capitalisation")
        self.here = QRadioButton(f"Only here: paragraph {paragraph} of this chapter")
        self.everywhere = QRadioButton("Everywhere in the book")
        self.everywhere.setChecked(True)
        scope = QButtonGroup(self)
        scope.addButton(self.here)
        scope.addButton(self.everywhere)
        self.summary = QLabel("")
        set_role(self.summary, "muted")
        self.summary.setWordWrap(True)
        self.lines = QListWidget()
        self.lines.setMinimumHeight(140)
        self.lines.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Word", self.word)
        form.addRow("Say it as", self.spoken)
        form.addRow("", self.case)
        form.addRow("Where", self.everywhere)
        form.addRow("", self.here)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.summary)
        lay.addWidget(self.lines, 1)
        lay.addWidget(self.buttons)
        self.resize(560, 420)

        # Listing a novel's lines takes a moment: after a pause in the typing, off the GUI thread.
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._look_up)
        for signal in (self.word.textChanged, self.case.toggled):
            signal.connect(lambda *_: self._debounce.start())
        for signal in (self.spoken.textChanged, self.here.toggled):
            signal.connect(lambda *_: self._show())
        self._look_up()
        self.spoken.setFocus()

    def choice(self) -> Fix | None:
        word, spoken = " ".join(self.word.text().split()), " ".join(self.spoken.text().split())
        if not word or not spoken:
            return None
        block = self.block_id if self.here.isChecked() else None
        return Fix(word, spoken, self.case.isChecked(), block)

    def _look_up(self) -> None:
        word = self.word.text().strip()
        if not word:
            self.found = []
            self._show()
            return
        self.ctx.tasks.spawn(self._find(word, self.case.isChecked()), slot="pronunciation-lines")

    async def _find(self, word: str, case_sensitive: bool) -> list[Occurrence]:
        found = await asyncio.to_thread(occurrences, self.project, word, case_sensitive)
        if word == self.word.text().strip() and case_sensitive == self.case.isChecked():
            self.found = found
            self._show()
        return found

    def affected(self) -> list[Occurrence]:
        """The lines the fix as chosen now would change."""
        if self.here.isChecked():
            return [o for o in self.found if o.block_id == self.block_id]
        return self.found

    def _show(self) -> None:
        lines = self.affected()
        chapters = len({o.chapter for o in lines})
        word = self.word.text().strip()
        if not word:
            text = "Type the word as the book writes it."
        elif not lines:
            text = (
                f"“{word}” is not in this paragraph."
                if self.here.isChecked()
                else f"“{word}” does not appear in the book's included chapters."
            )
        else:
            more = f" (the first {LISTED} listed)" if len(lines) > LISTED else ""
            text = (
                f"Changes {len(lines)} line{'s' if len(lines) != 1 else ''} in {chapters}"
                f" chapter{'s' if chapters != 1 else ''}{more}:"
            )
        self.summary.setText(text)
        self.lines.clear()
        for o in lines[:LISTED]:
            self.lines.addItem(f"Chapter {o.chapter} · {o.chapter_title}: {o.snippet}")
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(self.choice() is not None and bool(lines))

    def save(self) -> None:
        fix = self.choice()
        if fix is None:
            return
        self.ctx.tasks.spawn(self._save(fix), slot="pronunciation-save")

    async def _save(self, fix: Fix) -> None:
        def run() -> Fix | None:
            before = existing_fix(self.project, fix.word, fix.block_id)
            apply_fix(self.project, fix)
            return before

        try:
            self.before = await asyncio.to_thread(run)
        except StudioError as exc:
            self.summary.setText(exc.message)  # said in the dialog, which stays open
            return
        self.fix = fix
        where = "in this paragraph" if fix.block_id is not None else "everywhere in the book"
        self.ctx.reporter.status(f"“{fix.word}” is now said as “{fix.spoken}” {where}.", 6000)
        self.saved.emit()
        self.accept()

    def command(
        self, on_change: Callable[[int], None], on_error: Callable[[str], None], chapter_id: int
    ) -> PronunciationCommand | None:
        """The saved fix as an undo step (None before a save)."""
        if self.fix is None:
            return None
        return PronunciationCommand(
            self.project, self.fix, self.before, on_change, on_error, chapter_id
        )
