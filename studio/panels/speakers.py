"""Who speaks each quotation of the chapter, and the author's corrections of it.

The guesses come from the core's attribution; a correction is saved per quotation (one or many
rows at once) and wins over any guess from then on. The last corrections can be taken back.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pipelines.cast.casting import (
    book_characters,
    chapter_quotes,
    correct_speakers,
    corrections,
    forget_corrections,
)
from pipelines.script.attribution import LOW_CONFIDENCE, Quotation
from pipelines.store import Project
from studio.context import StudioContext

if TYPE_CHECKING:
    from studio.panels.model_pass import ModelPassDialog
from studio.theme import set_role

UNKNOWN = "Unknown"
NARRATOR = "Narrator"


@dataclass(slots=True)
class Correction:
    """One bulk correction as it was made: the keys it touched and what each held before
    (None where there was no correction), so that undo restores exactly that."""

    previous: dict[str, str | None]


def load_quotes(project: Project, chapter_id: int) -> tuple[list[Quotation], list[str], str | None]:
    """The chapter's quotations, the book's character names and its first-person narrator."""
    numbers = {c.id: n for n, c in enumerate(project.chapters(with_blocks=False), start=1)}
    if chapter_id not in numbers:
        return [], [], None
    chapter = project.chapter(numbers[chapter_id])
    characters = book_characters(project)
    return chapter_quotes(project, chapter), characters.names(), characters.narrator


def restore(project: Project, previous: dict[str, str | None], quotes: list[Quotation]) -> None:
    """Put the corrections of these keys back as they were."""
    forget_corrections(project, [k for k, v in previous.items() if v is None])
    by_key = {q.key: q for q in quotes}
    speakers: dict[str, list[Quotation]] = {}
    for key, speaker in previous.items():
        if speaker is not None and key in by_key:
            speakers.setdefault(speaker, []).append(by_key[key])
    for speaker, group in speakers.items():
        correct_speakers(project, group, speaker)


_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])\s+")


def around(q: Quotation) -> tuple[str, str]:
    """The sentence of narration just before the quotation and the one just after it."""
    before = [p for p in _SENTENCE_END.split(" ".join(q.before.split())) if p]
    after = [p for p in _SENTENCE_END.split(" ".join(q.after.split())) if p]
    return (before[-1] if before else ""), (after[0] if after else "")


def in_context(q: Quotation) -> str:
    """The quotation with the narration around it, as one line: before · “…” · after."""
    before, after = around(q)
    return " ".join(p for p in (before, "[…]", after) if p) if (before or after) else ""


class SpeakersPanel(QWidget):
    def __init__(self, project: Project, ctx: StudioContext) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.chapter_id = 0
        self.wanted = 0  # the chapter last asked for: only its quotations are shown
        self.quotes: list[Quotation] = []
        self.shown: list[Quotation] = []  # the table's rows, in order
        self.narrator: str | None = None
        self.undo_stack: list[Correction] = []
        # Rows corrected while this chapter is on view stay in the filtered list, so a fix does
        # not make its row vanish under the author's cursor.
        self._touched: set[str] = set()
        self.model_dialog: ModelPassDialog | None = None

        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(
            ["Quotation", "Speaker", "Confidence", "Narration around it"]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._fill_from_selection)

        self.summary = QLabel("")
        set_role(self.summary, "muted")
        self.low_only = QCheckBox("Only low confidence")
        self.low_only.toggled.connect(self._fill)
        self.ask_button = QPushButton("Ask a model…")
        self.ask_button.setToolTip(
            "Optional: ask an OpenAI chat model about the unsettled quotations (you see what "
            "would be sent and its cost first)"
        )
        self.ask_button.clicked.connect(self.ask_model)

        self.speaker = QComboBox()
        self.speaker.setEditable(True)
        self.speaker.setMinimumContentsLength(12)
        self.speaker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        entry = QLineEdit()
        entry.setPlaceholderText("Who says it")
        self.speaker.setLineEdit(entry)
        self.apply_button = QPushButton("Set speaker")
        self.apply_button.setProperty("primary", True)
        self.apply_button.setToolTip("Give the selected quotations this speaker")
        self.apply_button.clicked.connect(
            lambda: self.ctx.tasks.spawn(self.correct_selected(self.speaker.currentText()))
        )
        entry.returnPressed.connect(self.apply_button.click)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last speaker correction")
        self.undo_button.setEnabled(False)
        self.undo_button.clicked.connect(lambda: self.ctx.tasks.spawn(self.undo()))

        intro = QLabel(
            "Who speaks each quotation, as guessed from the text. Select one or several rows, "
            "choose the speaker and set it; corrections are kept with the project."
        )
        intro.setWordWrap(True)
        set_role(intro, "muted")
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(self.low_only)
        head.addWidget(self.ask_button)
        edit = QHBoxLayout()
        edit.addWidget(QLabel("Speaker"))
        edit.addWidget(self.speaker, 1)
        edit.addWidget(self.apply_button)
        edit.addWidget(self.undo_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        layout.addLayout(head)
        layout.addWidget(self.table, 1)
        layout.addLayout(edit)

    # -- loading ----------------------------------------------------------------------------------

    def show_chapter(self, chapter_id: int) -> None:
        """Show a chapter's quotations; the last chapter asked for wins at once: a load still
        running for another is cancelled and its result, if it comes, is not shown."""
        if chapter_id != self.chapter_id:
            self.quotes, self.shown = [], []
            self.table.setRowCount(0)
            self.summary.setText("Reading the chapter's dialogue…")
        self.ctx.tasks.spawn(self.load(chapter_id), slot="speakers")

    async def load(self, chapter_id: int) -> None:
        self.wanted = chapter_id
        fresh = chapter_id != self.chapter_id
        quotes, names, narrator = await asyncio.to_thread(load_quotes, self.project, chapter_id)
        if chapter_id != self.wanted:
            return  # another chapter was asked for meanwhile
        self.chapter_id = chapter_id
        self.quotes, self.narrator = quotes, narrator
        if fresh:
            self._touched.clear()
            self.undo_stack.clear()
            self.undo_button.setEnabled(False)
            self._fill_names(names)
            low = sum(1 for q in quotes if q.confidence < LOW_CONFIDENCE)
            self.low_only.blockSignals(True)
            self.low_only.setChecked(low > 0)
            self.low_only.blockSignals(False)
        self._fill()

    async def reload(self) -> None:
        await self.load(self.wanted or self.chapter_id)

    def _fill_names(self, names: list[str]) -> None:
        text = self.speaker.currentText()
        self.speaker.clear()
        self.speaker.addItems([UNKNOWN, NARRATOR, *sorted(set(names))])
        self.speaker.setEditText(text)

    def _fill(self) -> None:
        keep = {q.key for q in self.selected()}
        if self.low_only.isChecked():
            self.shown = [
                q for q in self.quotes if q.confidence < LOW_CONFIDENCE or q.key in self._touched
            ]
        else:
            self.shown = list(self.quotes)
        self.table.setRowCount(len(self.shown))
        for row, q in enumerate(self.shown):
            text = QTableWidgetItem(" ".join(q.text.split()))
            around = f"…{q.before[-80:]} {q.text} {q.after[:80]}…"
            if q.nested:  # reported speech: set apart, as it reads inside its quotation
                font = text.font()
                font.setItalic(True)
                text.setFont(font)
                around = f"Quoted inside another quotation: its speaker reports it.\n{around}"
            text.setToolTip(around)
            who = QTableWidgetItem(q.speaker or UNKNOWN)
            who.setToolTip(f"Found by: {q.method}")
            # The model pass's answers have no measured accuracy: no percentage for them.
            sure = (
                q.method if q.method in ("corrected", "model") else f"{round(q.confidence * 100)}%"
            )
            conf = QTableWidgetItem(sure)
            conf.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            context = QTableWidgetItem(in_context(q))
            context.setToolTip(f"{q.before} {q.text} {q.after}".strip())
            for col, item in enumerate((text, who, conf, context)):
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        self.table.clearSelection()
        for row, q in enumerate(self.shown):
            if q.key in keep:
                self._add_row(row)
        low = sum(1 for q in self.quotes if q.confidence < LOW_CONFIDENCE)
        fixed = sum(1 for q in self.quotes if q.method == "corrected")
        asked = sum(1 for q in self.quotes if q.method == "model")
        model = f" ({asked} from the model)" if asked else ""
        self.summary.setText(
            f"{len(self.quotes)} quotations, {low} low confidence{model}, {fixed} corrected"
            if self.quotes
            else "No dialogue in this chapter."
        )

    def _add_row(self, row: int) -> None:
        model = self.table.selectionModel()
        index = self.table.model().index(row, 0)
        model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)

    # -- the model pass ----------------------------------------------------------------------------

    def chapter_number(self) -> int | None:
        ids = [c.id for c in self.project.chapters(with_blocks=False)]
        return ids.index(self.chapter_id) + 1 if self.chapter_id in ids else None

    def ask_model(self) -> ModelPassDialog:
        from studio.panels.model_pass import ModelPassDialog

        dialog = ModelPassDialog(self, self.project, self.ctx, self.chapter_number())
        dialog.finished_pass.connect(self._model_answered)
        dialog.setModal(True)
        dialog.show()
        self.model_dialog = dialog
        return dialog

    def _model_answered(self, text: str) -> None:
        self.ctx.reporter.status(text, 8000)
        self.ctx.tasks.spawn(self.reload())

    # -- selection and corrections ---------------------------------------------------------------

    def select_rows(self, rows: list[int]) -> None:
        self.table.clearSelection()
        for row in rows:
            self._add_row(row)

    def selected(self) -> list[Quotation]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.shown[r] for r in rows if r < len(self.shown)]

    def _fill_from_selection(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1 and chosen[0].speaker:
            self.speaker.setEditText(chosen[0].speaker)

    def _speaker_name(self, text: str) -> str:
        name = " ".join(text.split())
        # A first-person narrator is a character by name; "Narrator" means that one.
        if name.lower() == NARRATOR.lower() and self.narrator:
            return self.narrator
        return name

    async def correct_selected(self, speaker: str) -> int:
        chosen = self.selected()
        name = self._speaker_name(speaker)
        if not chosen:
            self.ctx.reporter.status("Select the quotations to correct first.", 4000)
            return 0
        if not name:
            self.ctx.reporter.status("Choose or type who says them.", 4000)
            return 0
        keys = [q.key for q in chosen]
        before = await asyncio.to_thread(corrections, self.project)
        count = await asyncio.to_thread(correct_speakers, self.project, chosen, name)
        self.undo_stack.append(Correction({k: before.get(k) for k in keys}))
        self.undo_button.setEnabled(True)
        self._touched.update(keys)
        await self.reload()
        # The cast's own name for whom was typed ("Ann" is Ann Grey): say the one now shown.
        now = next((q.speaker for q in self.quotes if q.key in keys and q.speaker), name)
        self.ctx.reporter.status(f"{count} quotation{'s' * (count != 1)} now spoken by {now}.")
        return count

    async def undo(self) -> None:
        if not self.undo_stack:
            return
        last = self.undo_stack.pop()
        self.undo_button.setEnabled(bool(self.undo_stack))
        await asyncio.to_thread(restore, self.project, last.previous, self.quotes)
        await self.reload()
        self.ctx.reporter.status("Correction undone.", 4000)
