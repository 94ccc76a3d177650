"""The full cast's characters: a voice for each, the unknown speaker's voice, and the author's
fixes to the characters found (merge one into another, rename, delete a place or a bogus name).

It lives in the Cast tab and saves through the cast panel's `save`, so a save that does not land
says why in the same place as the panel's other choices.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from pipelines.cast.casting import (
    CharacterRow,
    character_table,
    merge_character,
    set_character_voice,
    set_unknown_speaker_voice,
    unknown_speaker_voice,
)
from pipelines.core.model import VoiceRef
from pipelines.store import Project
from studio.context import StudioContext

Save = Callable[[Callable[[], object], str, str], Awaitable[None]]
FillCombo = Callable[[QComboBox, VoiceRef | None, str | None], None]
COLUMNS = ["Character", "Also called", "Gender", "Lines", "Voice", ""]
VOICE_COL, PREVIEW_COL = 4, 5


class CharactersBox(QGroupBox):
    def __init__(
        self,
        project: Project,
        ctx: StudioContext,
        save: Save,
        fill_combo: FillCombo,
        preview: Callable[[VoiceRef], object],
    ) -> None:
        super().__init__("Characters")
        self.project = project
        self.ctx = ctx
        self._save = save
        self._fill_combo = fill_combo
        self._preview = preview
        self.rows: list[CharacterRow] = []
        self._loading = False

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for col in (2, 3, VOICE_COL, PREVIEW_COL):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        self.unknown = QComboBox()
        self.unknown.setToolTip("Who speaks a quotation no character is found for")
        self.unknown.currentIndexChanged.connect(self._unknown_edited)

        self.target = QLineEdit()
        self.target.setPlaceholderText("Merge into, or rename to…")
        self.merge_button = QPushButton("Merge / rename")
        self.merge_button.setToolTip(
            "Merge the selected character into the one named here (one person from then on), "
            "or give it this new name"
        )
        self.merge_button.clicked.connect(self._merge_clicked)
        self.delete_button = QPushButton("Not a character")
        self.delete_button.setToolTip("Delete the selected name (a place, a bogus name)")
        self.delete_button.clicked.connect(self._delete_clicked)

        form = QFormLayout()
        form.addRow("Unknown speakers", self.unknown)
        edit = QHBoxLayout()
        edit.addWidget(self.target, 1)
        edit.addWidget(self.merge_button)
        edit.addWidget(self.delete_button)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addLayout(edit)

    # -- loading ---------------------------------------------------------------------------------

    async def reload(self) -> None:
        def read() -> tuple[list[CharacterRow], VoiceRef | None]:
            return character_table(self.project), unknown_speaker_voice(self.project)

        rows, unknown = await asyncio.to_thread(read)
        self._loading = True
        try:
            self.rows = rows
            self._fill_combo(self.unknown, unknown, "Dialogue voice")
            self.table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                cells = (
                    row.name,
                    ", ".join(row.aliases),
                    row.gender or "—",
                    str(row.lines),
                )
                for col, text in enumerate(cells):
                    self.table.setItem(r, col, QTableWidgetItem(text))
                combo = QComboBox()
                self._fill_combo(combo, row.voice, "Unknown speakers' voice")
                combo.currentIndexChanged.connect(
                    lambda _i, name=row.name, c=combo: self._voice_edited(name, c)
                )
                self.table.setCellWidget(r, VOICE_COL, combo)
                button = QPushButton("Preview")
                button.clicked.connect(lambda _c=False, c=combo: self._preview_clicked(c))
                self.table.setCellWidget(r, PREVIEW_COL, button)
        finally:
            self._loading = False

    def voice_combo(self, name: str) -> QComboBox | None:
        for r, row in enumerate(self.rows):
            if row.name == name:
                combo = self.table.cellWidget(r, VOICE_COL)
                return combo if isinstance(combo, QComboBox) else None
        return None

    def selected_name(self) -> str | None:
        r = self.table.currentRow()
        return self.rows[r].name if 0 <= r < len(self.rows) else None

    def select(self, name: str) -> None:
        for r, row in enumerate(self.rows):
            if row.name == name:
                self.table.selectRow(r)

    # -- the author's choices --------------------------------------------------------------------

    def _voice_edited(self, name: str, combo: QComboBox) -> None:
        if self._loading:
            return
        data = combo.currentData()
        voice = VoiceRef.parse(data) if data else None
        self.ctx.tasks.spawn(
            self._save(
                lambda: set_character_voice(self.project, name, voice),
                f"{name}: {voice or 'the unknown speakers’ voice'}",
                f"{name}'s voice was not saved",
            )
        )

    def _unknown_edited(self) -> None:
        if self._loading:
            return
        data = self.unknown.currentData()
        voice = VoiceRef.parse(data) if data else None
        self.ctx.tasks.spawn(
            self._save(
                lambda: set_unknown_speaker_voice(self.project, voice),
                f"Unknown speakers: {voice or 'the dialogue voice'}",
                "The unknown speakers' voice was not saved",
            ),
            slot="unknown-save",
        )

    def _preview_clicked(self, combo: QComboBox) -> None:
        data = combo.currentData() or self.unknown.currentData()
        if data:
            self._preview(VoiceRef.parse(data))
        else:
            self.ctx.reporter.status("Choose a voice to preview first.", 4000)

    def _merge_clicked(self) -> None:
        name, target = self.selected_name(), " ".join(self.target.text().split())
        if name is None:
            self.ctx.reporter.status("Select a character first.", 4000)
            return
        if not target:
            self.ctx.reporter.status("Type who to merge it into, or its new name.", 4000)
            return
        self.ctx.tasks.spawn(self.merge(name, target))

    def _delete_clicked(self) -> None:
        name = self.selected_name()
        if name is None:
            self.ctx.reporter.status("Select a character first.", 4000)
            return
        self.ctx.tasks.spawn(self.merge(name, ""))

    async def merge(self, name: str, target: str) -> None:
        """Merge, rename (a new name) or delete (no name) a character, then show the result."""
        message = f"{name} merged into {target}" if target else f"{name} is no longer a character"
        failure = f"{name} was not {'merged' if target else 'deleted'}"
        await self._save(lambda: merge_character(self.project, name, target), message, failure)
        self.target.clear()
        await self.reload()
