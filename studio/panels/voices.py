"""The Voices tab: every voice of every engine, what each needs before it can speak, a preview
per row, and new voices made from the author's own recording.

The status column says ready, needs key, needs model or needs install, with the fix in its
tooltip and below the table for the selected row. "New voice from a sample…" opens the sample
dialog: choose a recording, keep the part to use, check it (the reason is shown when it is
refused), then make a local StyleTTS2 voice or an ElevenLabs instant clone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.voices import READY, VoiceRow, catalogue, clone_voice, make_reference_voice
from pipelines.audio.sample_check import LIMITS, SampleCheck, check_sample, load_sample
from pipelines.cast.voices import set_narrator
from pipelines.core.errors import StudioError
from pipelines.core.model import VoiceRef
from pipelines.engines.base import Voice
from pipelines.store import Project
from studio.context import StudioContext
from studio.preview import PreviewController
from studio.theme import FAIL, MUTED, PASS, set_role

COLUMNS = ["Voice", "Engine", "Language", "Gender", "Licence", "Status"]
SAMPLE_FILTER = "Recordings (*.wav *.flac *.ogg *.mp3 *.m4a *.aac);;All files (*)"


def status_colour(status: str) -> str:
    return PASS if status == READY else FAIL if status == "needs install" else MUTED


class VoicesPanel(QWidget):
    """The catalogue; `cast_changed` fires when a voice was made the narrator here."""

    cast_changed = Signal()

    def __init__(self, project: Project, ctx: StudioContext, preview: PreviewController) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.previewer = preview
        self.rows: list[VoiceRow] = []
        self.sample_dialog: SampleDialog | None = None

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter: a name, engine, language or status")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _i: self.preview_selected())

        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        set_role(self.detail, "muted")
        self.preview_button = QPushButton("Preview")
        self.preview_button.setToolTip("Speak a sample in the selected voice (or double-click)")
        self.preview_button.clicked.connect(self.preview_selected)
        self.narrator_button = QPushButton("Use as narrator")
        self.narrator_button.clicked.connect(self.use_as_narrator)
        self.new_button = QPushButton("New voice from a sample…")
        self.new_button.setProperty("primary", True)
        self.new_button.clicked.connect(self.new_voice)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("List the voices again (after a key or a model was added)")
        self.refresh_button.clicked.connect(lambda: self.ctx.tasks.spawn(self.reload()))
        previewer = preview
        previewer.playing.connect(self.detail.setText)

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.refresh_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.narrator_button)
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self._selected()

    async def reload(self) -> list[VoiceRow]:
        self.refresh_button.setEnabled(False)
        try:
            rows = await asyncio.to_thread(catalogue)
        finally:
            self.refresh_button.setEnabled(True)
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            v = row.voice
            licence = (v.license or "unknown").split(":")[0].strip() if v else ""
            values = (
                v.name if v else f"({row.engine}: no voices to list)",
                row.engine,
                v.language if v else "",
                (v.gender or "—") if v else "",
                licence,
                row.status,
            )
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                if c == 5:
                    item.setForeground(QColor(status_colour(row.status)))
                    item.setToolTip(row.fix or "Ready to speak")
                elif c == 0 and v is not None:
                    item.setToolTip(f"{v.engine}:{v.id}\n{v.attribution}")
                self.table.setItem(r, c, item)
        self._apply_filter(self.filter.text())
        self._selected()
        return rows

    def _apply_filter(self, text: str) -> None:
        words = text.casefold().split()
        for r in range(self.table.rowCount()):
            line = " ".join(
                (self.table.item(r, c).text() if self.table.item(r, c) else "")
                for c in range(len(COLUMNS))
            ).casefold()
            self.table.setRowHidden(r, not all(w in line for w in words))

    def selected_row(self) -> VoiceRow | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self.rows[min(rows)] if rows and min(rows) < len(self.rows) else None

    def select_voice(self, engine: str, voice_id: str) -> bool:
        for r, row in enumerate(self.rows):
            if row.voice is not None and (row.engine, row.voice.id) == (engine, voice_id):
                self.table.selectRow(r)
                return True
        return False

    def _selected(self) -> None:
        row = self.selected_row()
        speakable = row is not None and row.voice is not None and row.ready
        self.preview_button.setEnabled(speakable)
        self.narrator_button.setEnabled(speakable)
        if row is None:
            self.detail.setText("Pick a voice to hear it, or make a new one out of a recording.")
        elif row.ready and row.voice is not None:
            self.detail.setText(f"{row.voice.name} ({row.engine}:{row.voice.id}): ready.")
        else:
            self.detail.setText(f"{row.engine}: {row.status}. {row.fix}")

    def preview_selected(self) -> None:
        row = self.selected_row()
        if row is None or row.voice is None or not row.ready:
            return
        self.previewer.preview(VoiceRef(row.engine, row.voice.id), {})

    def use_as_narrator(self) -> None:
        row = self.selected_row()
        if row is None or row.voice is None or not row.ready:
            return
        ref = VoiceRef(row.engine, row.voice.id)
        try:
            set_narrator(self.project, ref)
        except StudioError as exc:
            self.ctx.reporter.error(exc.message)
            return
        self.ctx.reporter.status(f"Narrator: {row.voice.name} ({ref}).", 6000)
        self.cast_changed.emit()

    def new_voice(self) -> SampleDialog:
        dialog = SampleDialog(self, self.ctx, self._voice_made)
        dialog.finished.connect(dialog.deleteLater)
        self.sample_dialog = dialog
        dialog.open()
        return dialog

    def _voice_made(self, voice: Voice) -> None:
        async def after() -> None:
            await self.reload()
            self.select_voice(voice.engine, voice.id)

        self.ctx.tasks.spawn(after(), slot="voices-reload")


class SampleDialog(QDialog):
    """Choose a recording, keep part of it, check it, make the voice."""

    def __init__(
        self, parent: QWidget, ctx: StudioContext, on_made: Callable[[Voice], None]
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.on_made = on_made
        self.result_check: SampleCheck | None = None
        self.made: Voice | None = None
        self.duration = 0.0
        self.setWindowTitle("New voice from a sample")
        self.path = QLineEdit()
        self.path.setPlaceholderText("a recording of one speaker: WAV, FLAC, MP3…")
        self.path.editingFinished.connect(self._loaded)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        self.start = QDoubleSpinBox()
        self.end = QDoubleSpinBox()
        for box in (self.start, self.end):
            box.setDecimals(1)
            box.setSuffix(" s")
            box.setSingleStep(0.5)
            box.setRange(0.0, 0.0)
            box.valueChanged.connect(lambda _v: self._changed())
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. My Reading Voice")
        self.name.textChanged.connect(lambda _t: self._changed())
        self.gender = QComboBox()
        for label, value in (("Unknown", ""), ("Female", "female"), ("Male", "male")):
            self.gender.addItem(label, value)
        self.local = QRadioButton("StyleTTS2 reference voice, made here (5–30 s kept)")
        self.cloud = QRadioButton("ElevenLabs instant clone (at least 30 s; needs a key)")
        self.local.setChecked(True)
        target = QButtonGroup(self)
        target.addButton(self.local)
        target.addButton(self.cloud)
        self.local.toggled.connect(lambda _on: self._changed())
        self.consent = QCheckBox(
            "I am this speaker, or have their permission to make a voice from this recording"
        )
        self.consent.toggled.connect(lambda _on: self._changed())
        self.check_button = QPushButton("Check")
        self.check_button.clicked.connect(self.run_check)
        self.verdict = QLabel("Choose a recording, then check it.")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.make_button = self.buttons.addButton(
            "Make the voice", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.make)
        self.buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        keep = QHBoxLayout()
        keep.addWidget(QLabel("from"))
        keep.addWidget(self.start)
        keep.addWidget(QLabel("to"))
        keep.addWidget(self.end)
        keep.addStretch(1)
        form = QFormLayout()
        form.addRow("Recording", row)
        form.addRow("Keep", keep)
        form.addRow("Name", self.name)
        form.addRow("Gender", self.gender)
        form.addRow("Make", self.local)
        form.addRow("", self.cloud)
        form.addRow("", self.consent)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        check_row = QHBoxLayout()
        check_row.addWidget(self.check_button)
        check_row.addWidget(self.verdict, 1)
        lay.addLayout(check_row)
        lay.addWidget(self.buttons)
        self.resize(600, 380)
        self._changed()

    def target(self) -> str:
        return "styletts2" if self.local.isChecked() else "elevenlabs"

    def browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose a recording", "", SAMPLE_FILTER)
        if chosen:
            self.path.setText(chosen)
            self._loaded()

    def choose(self, path: Path) -> asyncio.Task[float]:
        """Take `path` as the recording (what Browse does); the task gives its length."""
        self.path.setText(str(path))
        return self._loaded()

    def _loaded(self) -> asyncio.Task[float]:
        return self.ctx.tasks.spawn(self._load(Path(self.path.text().strip())), slot="sample-load")

    async def _load(self, path: Path) -> float:
        try:
            samples, rate, _channels = await asyncio.to_thread(load_sample, path)
        except StudioError as exc:
            self._say(exc.message, refused=True)
            return 0.0
        self.duration = len(samples) / rate if rate else 0.0
        longest = LIMITS[self.target()][1]
        for box in (self.start, self.end):
            box.setRange(0.0, round(self.duration, 1))
        self.start.setValue(0.0)
        self.end.setValue(round(min(self.duration, longest), 1))
        if not self.name.text():
            self.name.setText(path.stem.replace("-", " ").replace("_", " ").title())
        self._say(f"{self.duration:.1f} s loaded. Check it before making the voice.")
        self.result_check = None
        self._changed()
        return self.duration

    def _say(self, text: str, refused: bool = False, good: bool = False) -> None:
        self.verdict.setText(text)
        colour = FAIL if refused else PASS if good else MUTED
        self.verdict.setStyleSheet(f"color: {colour};")

    def _changed(self) -> None:
        self.result_check = None  # what was checked is no longer what would be made
        self.consent.setVisible(self.cloud.isChecked())
        ready = bool(self.path.text().strip() and self.duration and self.name.text().strip())
        self.check_button.setEnabled(ready)
        self.make_button.setEnabled(ready and (self.local.isChecked() or self.consent.isChecked()))

    def run_check(self) -> asyncio.Task[SampleCheck | None]:
        return self.ctx.tasks.spawn(self._check(), slot="sample-check")

    async def _check(self) -> SampleCheck | None:
        path = Path(self.path.text().strip())
        try:
            check = await asyncio.to_thread(
                check_sample, path, self.target(), self.start.value(), self.end.value()
            )
        except StudioError as exc:
            self._say(exc.message, refused=True)
            return None
        if check.ok:
            warn = [p.line() for p in check.problems]
            self._say(
                check.summary() if not warn else "Usable, but: " + "; ".join(warn), good=not warn
            )
        else:
            refused = [p.line() for p in check.problems if p.severity == "refuse"]
            self._say("Refused: " + "; ".join(refused), refused=True)
        self.result_check = check
        return check

    def make(self) -> asyncio.Task[Voice | None]:
        return self.ctx.tasks.spawn(self._make(), slot="sample-make")

    async def _make(self) -> Voice | None:
        check = self.result_check or await self._check()
        if check is None or not check.ok:
            return None  # the verdict says why
        path, name = Path(self.path.text().strip()), self.name.text().strip()
        gender = str(self.gender.currentData() or "")
        try:
            if self.local.isChecked():
                voice = await asyncio.to_thread(
                    make_reference_voice,
                    path,
                    name,
                    self.start.value(),
                    self.end.value(),
                    gender=gender,
                )
            else:
                voice = await asyncio.to_thread(
                    clone_voice,
                    "elevenlabs",
                    path,
                    name,
                    self.start.value(),
                    self.end.value(),
                    consent=self.consent.isChecked(),
                )
        except StudioError as exc:
            self._say(exc.message, refused=True)
            return None
        self.made = voice
        self.ctx.reporter.status(f"New voice: {voice.name} ({voice.engine}:{voice.id}).", 8000)
        self.on_made(voice)
        self.accept()
        return voice
