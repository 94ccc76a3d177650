"""The Proof tab: what a speech recogniser heard in the chapter's audio, against what it should say.

"Listen" proofs the chapter's current render (a stored proof of the same audio is read back, not
heard again); with "Proof each chapter after it renders" on, the project view does it after
every render. The summary says the share heard; the table lists the flagged sentences (or all,
with the filter off) with what was heard. For the selected sentence: Play (from its start, in
the Text tab's player), New take (for voices whose takes differ), Edit text (the paragraph's
editor in the Text tab) and Accept (it sounds right: no longer flagged).
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.editing import new_take
from pipelines.app.proofing import accept_sentence, still_flagged
from pipelines.core.errors import StudioError
from pipelines.proof.asr import Recogniser
from pipelines.proof.proofer import chapter_proof, proof_chapter, recogniser
from pipelines.proof.results import ChapterProof, UtteranceProof
from pipelines.store import Project
from pipelines.store.settings import PROOF
from studio.context import StudioContext
from studio.theme import FAIL, MUTED, PASS, set_role

COLUMNS = ["Sentence", "Heard", "Score"]


class ProofPanel(QWidget):
    play_requested = Signal(int)  # span index in the chapter's render
    edit_requested = Signal(str)  # the sentence's text, for the Text tab to open its paragraph
    retake_requested = Signal(int)  # chapter id: a take was asked for, render it

    def __init__(self, project: Project, ctx: StudioContext) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.chapter_id = 0
        self.proof: ChapterProof | None = None
        self.rows: list[UtteranceProof] = []  # every sentence of the proof
        self.shown: list[UtteranceProof] = []  # the table's rows
        self.open_flags: set[int] = set()  # flagged and not accepted (span indexes)
        self._listener: Recogniser | None = None  # the model, loaded once per session

        self.summary = QLabel("")
        set_role(self.summary, "heading")
        self.summary.setWordWrap(True)
        self.listen_button = QPushButton("Listen")
        self.listen_button.setProperty("primary", True)
        self.listen_button.setToolTip(
            "Have the speech recogniser hear this chapter's audio and compare every word"
        )
        self.listen_button.clicked.connect(lambda: self.listen(self.chapter_id))
        self.auto = QCheckBox("Proof each chapter after it renders")
        self.auto.toggled.connect(self._auto_toggled)
        self.only_flagged = QCheckBox("Only flagged")
        self.only_flagged.setChecked(True)
        self.only_flagged.toggled.connect(lambda _on: self._fill())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.doubleClicked.connect(lambda _i: self.play_selected())
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Hear the sentence from its start (or double-click it)")
        self.play_button.clicked.connect(self.play_selected)
        self.take_button = QPushButton("New take")
        self.take_button.clicked.connect(self.retake_selected)
        self.edit_button = QPushButton("Edit text")
        self.edit_button.setToolTip("Open the sentence's paragraph in the Text tab's editor")
        self.edit_button.clicked.connect(self.edit_selected)
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("It sounds right: take it off the flagged list")
        self.accept_button.clicked.connect(self.accept_selected)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.listen_button)
        options = QHBoxLayout()
        options.addWidget(self.auto)
        options.addStretch(1)
        options.addWidget(self.only_flagged)
        buttons = QHBoxLayout()
        for b in (self.play_button, self.take_button, self.edit_button, self.accept_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addLayout(options)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._loading = True
        self.auto.setChecked(bool(project.get_setting(PROOF)))
        self._loading = False
        self._enable()

    # -- showing ---------------------------------------------------------------------------------

    def show_chapter(self, chapter_id: int) -> None:
        self.chapter_id = chapter_id
        self.ctx.tasks.spawn(self._show_stored(chapter_id), slot="proof-show")

    async def _show_stored(self, chapter_id: int) -> ChapterProof | None:
        proof = await asyncio.to_thread(chapter_proof, self.project, chapter_id)
        if chapter_id == self.chapter_id:
            await self._show(proof)
        return proof

    async def _show(self, proof: ChapterProof | None) -> None:
        self.proof = proof
        if proof is None:
            self.summary.setText("Not proof-listened yet: Listen to hear every word checked.")
            self.summary.setStyleSheet(f"color: {MUTED};")
            self.rows, self.open_flags = [], set()
            self._fill()
            return
        open_flags = await asyncio.to_thread(still_flagged, self.project, proof)
        self.open_flags = {u.index for u in open_flags}
        n = len(open_flags)
        stale = "" if proof.current else " (of an older render: Listen again)"
        self.summary.setText(
            f"Heard {proof.heard_share:.1%} · {n} of {len(proof.utterances)} sentences"
            f" flagged{stale}"
        )
        self.summary.setStyleSheet(f"color: {PASS if n == 0 and proof.current else FAIL};")
        self.rows = list(proof.utterances)
        self._fill()

    def _fill(self) -> None:
        wanted = self.open_flags
        shown = (
            [u for u in self.rows if u.index in wanted]
            if self.only_flagged.isChecked()
            else self.rows
        )
        self.shown = shown
        self.table.setRowCount(len(shown))
        for r, u in enumerate(shown):
            values = (u.text, u.heard or "(nothing heard)", f"{u.score:.0%}")
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c == 2:
                    item.setForeground(QColor(FAIL if u.index in wanted else PASS))
                if c == 1 and u.missing:
                    item.setToolTip("Not heard: " + " ".join(u.missing))
                self.table.setItem(r, c, item)
        self.table.resizeRowsToContents()
        self._enable()

    def selected(self) -> UtteranceProof | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self.shown[min(rows)] if rows and min(rows) < len(self.shown) else None

    def _enable(self) -> None:
        chosen = self.selected() is not None
        for b in (self.play_button, self.take_button, self.edit_button, self.accept_button):
            b.setEnabled(chosen)
        self.listen_button.setEnabled(bool(self.chapter_id))

    # -- listening -------------------------------------------------------------------------------

    def listen(self, chapter_id: int, *, quiet: bool = False) -> asyncio.Task[ChapterProof | None]:
        """Proof the chapter's current render (off the GUI thread); `quiet` (after a render)
        reports a missing model in the status bar rather than the banner."""
        return self.ctx.tasks.spawn(self._listen(chapter_id, quiet), slot="proof-listen")

    async def _listen(self, chapter_id: int, quiet: bool) -> ChapterProof | None:
        if not chapter_id:
            return None
        if chapter_id == self.chapter_id:
            self.summary.setText("Listening…")
            self.summary.setStyleSheet(f"color: {MUTED};")
        self.listen_button.setEnabled(False)

        def work() -> ChapterProof:
            if self._listener is None:
                self._listener = recogniser()
            return proof_chapter(self.project, chapter_id, self._listener)

        try:
            proof = await asyncio.to_thread(work)
        except StudioError as exc:
            text = f"Proof-listening: {exc.message}"
            if quiet:
                self.ctx.reporter.status(text, 10_000)
            else:
                self.ctx.reporter.error(text)
            if chapter_id == self.chapter_id:
                self.summary.setText(text)
            return None
        finally:
            self.listen_button.setEnabled(bool(self.chapter_id))
        if chapter_id == self.chapter_id:
            await self._show(proof)
        flagged = len(proof.flagged())
        self.ctx.reporter.status(
            f"Proof-listened: heard {proof.heard_share:.1%}, {flagged} sentence(s) flagged.", 8000
        )
        return proof

    def chapter_rendered(self, chapter_id: int) -> None:
        """After a render: proof it if the book asks for it, else show the proof as stale."""
        if self.auto.isChecked():
            self.listen(chapter_id, quiet=True)
        elif chapter_id == self.chapter_id:
            self.show_chapter(chapter_id)

    def _auto_toggled(self, on: bool) -> None:
        if not self._loading:
            self.project.set_setting(PROOF, on)

    # -- acting on a sentence ----------------------------------------------------------------------

    def play_selected(self) -> None:
        u = self.selected()
        if u is not None:
            self.play_requested.emit(u.index)

    def edit_selected(self) -> None:
        u = self.selected()
        if u is not None:
            self.edit_requested.emit(u.text)

    def accept_selected(self) -> asyncio.Task[None] | None:
        u = self.selected()
        if u is None or self.proof is None:
            return None
        return self.ctx.tasks.spawn(self._accept(u.text), slot="proof-accept")

    async def _accept(self, text: str) -> None:
        await asyncio.to_thread(accept_sentence, self.project, self.chapter_id, text)
        await self._show(self.proof)

    def retake_selected(self) -> asyncio.Task[None] | None:
        u = self.selected()
        if u is None:
            return None
        return self.ctx.tasks.spawn(self._retake(u.text), slot="proof-take")

    async def _retake(self, text: str) -> None:
        chapter_id = self.chapter_id
        try:
            _said, take = await asyncio.to_thread(new_take, self.project, chapter_id, text)
        except StudioError as exc:
            self.ctx.reporter.error(exc.message)
            return
        self.ctx.reporter.status(f"Take {take + 1} asked for: rendering the chapter.", 6000)
        self.retake_requested.emit(chapter_id)
