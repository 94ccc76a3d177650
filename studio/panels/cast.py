"""The cast: every engine's voices, the narrator and dialogue voices, per-chapter voices, voice
settings, and a preview that speaks a sample in the chosen voice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pipelines.cast import voices as cast_settings
from pipelines.cast.casting import CastMode, book_mode, set_book_mode
from pipelines.cast.narrator import narrator_voice
from pipelines.core.errors import StudioError
from pipelines.core.model import ChapterKind, VoiceRef
from pipelines.engines.base import Voice
from pipelines.engines.registry import available_voices
from pipelines.store import Project
from studio.context import StudioContext
from studio.panels.characters import CharactersBox
from studio.panels.narrow import NarrowColumns
from studio.preview import SAMPLE_TEXT, PreviewController
from studio.tasks import describe_error
from studio.theme import set_role

log = logging.getLogger(__name__)


NARROW_CATALOGUE = 520  # px: below it the voice table shows only voice and engine


@dataclass(frozen=True, slots=True)
class EngineSetting:
    key: str
    label: str
    low: float
    high: float
    default: float
    step: float = 0.05


# Each engine's own knobs beyond speed, as the cast panel offers them.
ENGINE_SETTINGS: dict[str, tuple[EngineSetting, ...]] = {
    "piper": (
        EngineSetting("noise_scale", "Expressiveness", 0.0, 2.0, 0.667),
        EngineSetting("noise_w_scale", "Rhythm variation", 0.0, 2.0, 0.8),
    ),
    "silence": (EngineSetting("rtf", "Simulated slowness", 0.0, 2.0, 0.0),),
}


MODE_LABELS = {
    CastMode.SINGLE: "Single voice: the narrator reads everything",
    CastMode.DUAL: "Dual voice: a second voice reads the dialogue",
    CastMode.FULL: "Full cast: a voice per character",
}


class CastPanel(QWidget):
    cast_changed = Signal()

    def __init__(self, project: Project, ctx: StudioContext, preview: PreviewController) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.preview_controller = preview
        self.voices: list[Voice] = []
        self._loading = False
        # The engine settings boxes on screen, and the engine they were built for: `settings()`
        # reads them only while that engine is the narrator's.
        self._setting_boxes: dict[str, QDoubleSpinBox] = {}
        self._settings_engine = ""

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Voice", "Engine", "Language", "Gender", "Licence"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(4, 170)
        self.table.doubleClicked.connect(lambda: self.use_selected_as("narrator"))
        # Narrow: voice and engine first; language, gender and licence are in the row's tooltip.
        NarrowColumns(self.table, (2, 3, 4), NARROW_CATALOGUE)

        use_narrator = QPushButton("Use as narrator")
        use_narrator.clicked.connect(lambda: self.use_selected_as("narrator"))
        use_dialogue = QPushButton("Use for dialogue")
        use_dialogue.clicked.connect(lambda: self.use_selected_as("dialogue"))
        catalogue = QGroupBox("Voices on this computer")
        cat_lay = QVBoxLayout(catalogue)
        cat_lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(use_narrator)
        row.addWidget(use_dialogue)
        cat_lay.addLayout(row)

        self.mode = QComboBox()
        for mode, label in MODE_LABELS.items():
            self.mode.addItem(label, mode.value)
        self.mode.setToolTip(
            "Who reads the dialogue: the narrator, one second voice, or a voice per character"
        )
        self.mode.currentIndexChanged.connect(self._mode_edited)
        self.narrator = QComboBox()
        self.dialogue = QComboBox()
        self.narrator.currentIndexChanged.connect(self._cast_edited)
        self.dialogue.currentIndexChanged.connect(self._cast_edited)
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.5, 2.0)
        self.speed.setSingleStep(0.05)
        self.speed.setValue(1.0)
        self.speed.setSuffix(" ×")
        self.speed.valueChanged.connect(self._settings_edited)
        self.engine_form = QFormLayout()
        # Why the last choice was not saved, next to the choices; hidden while saves land.
        self.save_error = QLabel("")
        self.save_error.setWordWrap(True)
        set_role(self.save_error, "error")
        self.save_error.hide()
        cast_box = QGroupBox("Cast")
        form = QFormLayout(cast_box)
        form.addRow(self.save_error)
        form.addRow("Reading", self.mode)
        form.addRow("Narrator", self.narrator)
        form.addRow("Dialogue", self.dialogue)
        form.addRow("Speed", self.speed)
        form.addRow(self.engine_form)

        self.sample = QLineEdit(SAMPLE_TEXT)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setProperty("primary", True)
        self.preview_button.setShortcut("Ctrl+P")
        self.preview_button.setToolTip("Speak the sample in the narrator's voice (Ctrl+P)")
        self.preview_button.clicked.connect(self.preview)
        self.preview_state = QLabel("")
        set_role(self.preview_state, "muted")
        preview.started.connect(lambda v: self.preview_state.setText(f"Speaking as {v}…"))
        preview.playing.connect(self.preview_state.setText)
        preview_box = QGroupBox("Preview")
        pv = QVBoxLayout(preview_box)
        pv.addWidget(self.sample)
        prow = QHBoxLayout()
        prow.addWidget(self.preview_state, 1)
        prow.addWidget(self.preview_button)
        pv.addLayout(prow)

        self.overrides = QTableWidget(0, 2)
        self.overrides.setHorizontalHeaderLabels(["Chapter", "Voice"])
        self.overrides.verticalHeader().hide()
        self.overrides.setShowGrid(False)
        oh = self.overrides.horizontalHeader()
        oh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        oh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        override_box = QGroupBox("Voice per chapter")
        ov = QVBoxLayout(override_box)
        ov.addWidget(self.overrides)

        # The full cast's characters, on view while the book is read by a full cast.
        self.characters = CharactersBox(
            project,
            ctx,
            self._save,
            lambda combo, current, none: self._fill_combo(combo, current, none_label=none),
            self.preview_voice,
        )
        self.characters.setVisible(False)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(cast_box)
        rl.addWidget(preview_box)
        rl.addWidget(self.characters, 2)
        rl.addWidget(override_box, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(catalogue)
        splitter.addWidget(right)
        splitter.setSizes([620, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addWidget(splitter)

    # -- loading ---------------------------------------------------------------------------------

    async def reload(self) -> None:
        def read() -> tuple[
            list[Voice],
            VoiceRef,
            VoiceRef | None,
            dict[str, Any],
            Any,
            Any,
            CastMode,
            VoiceRef | None,
        ]:
            chapters = [
                c
                for c in self.project.chapters(with_blocks=False)
                if c.included and c.kind is not ChapterKind.FRONT
            ]
            return (
                available_voices(),
                narrator_voice(self.project),
                cast_settings.dialogue_voice(self.project),
                cast_settings.voice_settings(self.project),
                chapters,
                cast_settings.chapter_overrides(self.project),
                book_mode(self.project),
                cast_settings.default_dialogue_for_book(self.project),
            )

        (
            voices,
            narrator,
            dialogue,
            settings,
            chapters,
            overrides,
            mode,
            paired,
        ) = await asyncio.to_thread(read)
        self._loading = True
        try:
            self.voices = voices
            self.mode.setCurrentIndex(max(self.mode.findData(mode.value), 0))
            self._fill_table()
            self._fill_combo(self.narrator, narrator, none_label=None)
            # With no choice made, a Kokoro narrator's dialogue goes to a contrasting voice.
            same = f"Automatic: {paired.voice_id}" if paired else "Same as narrator"
            self._fill_combo(self.dialogue, dialogue, none_label=same)
            self.speed.setValue(float(settings.get("speed", 1.0)))
            self._build_engine_settings(narrator.engine, settings)
            self._fill_overrides(chapters, overrides)
        finally:
            self._loading = False
        self.characters.setVisible(mode is CastMode.FULL)
        if mode is CastMode.FULL:
            await self.characters.reload()

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.voices))
        for row, v in enumerate(self.voices):
            # Long licence texts show their first clause; the whole text is in the tooltip.
            licence = (v.license or "unknown").split(":")[0].strip()
            values = (v.name, v.engine, v.language, v.gender or "—", licence)
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col == 0:  # what the hidden columns say, on a narrow table
                    item.setToolTip(
                        f"{v.engine}:{v.id} · {v.language} · {v.gender or 'gender unknown'}"
                        f"\n{licence}\n{v.attribution}"
                    )
                elif col == 4:
                    item.setToolTip(v.license)
                self.table.setItem(row, col, item)

    def _fill_combo(
        self, combo: QComboBox, current: VoiceRef | None, none_label: str | None
    ) -> None:
        combo.clear()
        if none_label is not None:
            combo.addItem(none_label, "")
        for v in self.voices:
            combo.addItem(f"{v.name}  ({v.engine})", f"{v.engine}:{v.id}")
        index = combo.findData(str(current)) if current else 0
        if current and index < 0:
            # The project holds a voice this computer cannot list now (no key, no model): show
            # it, rather than another voice the project does not hold.
            combo.addItem(f"{current}  (not available here)", str(current))
            index = combo.count() - 1
        combo.setCurrentIndex(max(index, 0))

    def _fill_overrides(self, chapters: list[Any], overrides: dict[int, VoiceRef]) -> None:
        self.overrides.setRowCount(len(chapters))
        for row, chapter in enumerate(chapters):
            item = QTableWidgetItem(chapter.title)
            item.setData(Qt.ItemDataRole.UserRole, chapter.id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.overrides.setItem(row, 0, item)
            combo = QComboBox()
            self._fill_combo(combo, overrides.get(chapter.id), none_label="Narrator")
            combo.currentIndexChanged.connect(
                lambda _i, cid=chapter.id, c=combo: self._override_edited(cid, c)
            )
            self.overrides.setCellWidget(row, 1, combo)

    def _build_engine_settings(self, engine: str, settings: dict[str, Any]) -> None:
        while self.engine_form.rowCount():
            self.engine_form.removeRow(0)
        self._setting_boxes = {}
        self._settings_engine = engine
        for spec in ENGINE_SETTINGS.get(engine, ()):
            box = QDoubleSpinBox()
            box.setRange(spec.low, spec.high)
            box.setSingleStep(spec.step)
            box.setDecimals(3)
            box.setValue(float(settings.get(spec.key, spec.default)))
            box.valueChanged.connect(self._settings_edited)
            self._setting_boxes[spec.key] = box
            self.engine_form.addRow(spec.label, box)

    # -- the author's choices --------------------------------------------------------------------

    def narrator_ref(self) -> VoiceRef:
        return VoiceRef.parse(self.narrator.currentData())

    def dialogue_ref(self) -> VoiceRef | None:
        data = self.dialogue.currentData()
        return VoiceRef.parse(data) if data else None

    def settings(self) -> dict[str, Any]:
        """Speed, and the engine's own settings when the boxes on screen are the narrator
        engine's (between a switch and the rebuild they are the last engine's: not read)."""
        out: dict[str, Any] = {}
        if abs(self.speed.value() - 1.0) > 1e-9:
            out["speed"] = round(self.speed.value(), 3)
        narrator = self.narrator.currentData() or ""
        engine = narrator.partition(":")[0]
        if engine != self._settings_engine:
            return out
        for spec in ENGINE_SETTINGS.get(engine, ()):
            box = self._setting_boxes.get(spec.key)
            if box is None:
                continue
            value = box.value()
            if abs(value - spec.default) > 1e-9:
                out[spec.key] = round(value, 3)
        return out

    def choose_voice(self, role: str, spec: str) -> None:
        combo = self.narrator if role == "narrator" else self.dialogue
        index = combo.findData(spec)
        if index < 0:
            self.ctx.reporter.error(f"There is no voice {spec} on this computer.")
            return
        if combo.currentIndex() == index:
            self._cast_edited()  # the same choice, made explicitly, is still stored
        else:
            combo.setCurrentIndex(index)

    def use_selected_as(self, role: str) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.voices):
            v = self.voices[row]
            self.choose_voice(role, f"{v.engine}:{v.id}")

    def set_chapter_voice(self, chapter_id: int, spec: str | None) -> None:
        for row in range(self.overrides.rowCount()):
            item = self.overrides.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == chapter_id:
                combo = self.overrides.cellWidget(row, 1)
                assert isinstance(combo, QComboBox)
                combo.setCurrentIndex(max(combo.findData(spec or ""), 0))

    def _cast_edited(self) -> None:
        if self._loading or self.narrator.currentData() is None:
            return
        try:
            narrator, dialogue = self.narrator_ref(), self.dialogue_ref()
            if narrator.engine != self._settings_engine:
                # A new engine: its own boxes first (at their defaults, the speed kept), so
                # what is saved and previewed is only what this engine reads.
                self._loading = True
                try:
                    self._build_engine_settings(narrator.engine, self.settings())
                finally:
                    self._loading = False
            settings = self.settings()
        except Exception as exc:  # whatever it is, the author hears of it and sees the truth
            self._save_failed("The narrator was not saved", exc)
            return

        def save() -> None:
            cast_settings.set_narrator(self.project, narrator)
            cast_settings.set_dialogue_voice(self.project, dialogue)
            cast_settings.set_voice_settings(self.project, settings)

        self.ctx.tasks.spawn(
            self._save(save, f"Narrator: {narrator}", "The narrator was not saved"),
            slot="cast-save",
        )

    def _mode_edited(self) -> None:
        if self._loading:
            return
        mode = CastMode(self.mode.currentData())
        self.characters.setVisible(mode is CastMode.FULL)
        if mode is CastMode.FULL:
            self.ctx.tasks.spawn(self.characters.reload(), slot="characters")
        self.ctx.tasks.spawn(
            self._save(
                lambda: set_book_mode(self.project, mode),
                f"Reading: {MODE_LABELS[mode]}",
                "The reading mode was not saved",
            ),
            slot="mode-save",
        )

    def _settings_edited(self) -> None:
        if self._loading:
            return
        settings = self.settings()
        self.ctx.tasks.spawn(
            self._save(
                lambda: cast_settings.set_voice_settings(self.project, settings),
                "",
                "The voice settings were not saved",
            ),
            slot="settings-save",
        )

    def _override_edited(self, chapter_id: int, combo: QComboBox) -> None:
        if self._loading:
            return
        data = combo.currentData()
        voice = VoiceRef.parse(data) if data else None
        self.ctx.tasks.spawn(
            self._save(
                lambda: cast_settings.set_chapter_override(self.project, chapter_id, voice),
                "",
                "The chapter's voice was not saved",
            )
        )

    async def _save(self, work: Callable[[], object], message: str, failure: str) -> None:
        """Store one choice off the GUI thread. It lands (the error line clears), or the panel
        says why in plain words and goes back to what the project holds."""
        try:
            await asyncio.to_thread(work)
        except Exception as exc:
            self._save_failed(failure, exc)
            return
        self.save_error.hide()
        self.save_error.setText("")
        if message:
            self.ctx.reporter.status(message, 4000)
        self.cast_changed.emit()

    def _save_failed(self, what: str, exc: BaseException) -> None:
        if not isinstance(exc, StudioError):
            log.error("%s", what, exc_info=exc)
        text = f"{what}: {describe_error(exc)}"
        self.save_error.setText(f"{text}\nThe cast shows what the project holds.")
        self.save_error.show()
        # The line above the choices is the message (it clears when a save lands); the window's
        # banner would stay after a later save succeeds, so the status line repeats it instead.
        log.info("shown to the author: %s", text)
        self.ctx.reporter.status(text, 10000)
        self.ctx.tasks.spawn(self._show_held(), slot="cast-revert")

    async def _show_held(self) -> None:
        """Put back on screen what the project holds, after a save that did not land (part of
        it may have: a choice saves several settings)."""
        try:
            await self.reload()
        except Exception as exc:
            log.error("could not read the cast back", exc_info=exc)
            self.save_error.setText(
                f"{self.save_error.text()}\nThe cast could not be read back either: "
                f"{describe_error(exc)}. Reopen the project to see what it holds."
            )
        self.cast_changed.emit()

    def preview_voice(self, voice: VoiceRef) -> asyncio.Task[Any]:
        """Speak the sample in a character's voice (its own settings: none)."""
        return self.preview_controller.preview(voice, {}, self.sample.text().strip() or SAMPLE_TEXT)

    def preview(self) -> asyncio.Task[Any] | None:
        if self.narrator.currentData() is None:
            return None
        return self.preview_controller.preview(
            self.narrator_ref(), self.settings(), self.sample.text().strip() or SAMPLE_TEXT
        )
