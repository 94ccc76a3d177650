"""The full cast's characters: a voice for each (or suggested ones), the unknown speaker's voice,
and the author's fixes to the characters found (merge one into another, rename, delete a place or
a bogus name).

It lives in the Cast tab and saves through the cast panel's `save`, so a save that does not land
says why in the same place as the panel's other choices.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from pipelines.cast.casting import (
    CharacterRow,
    book_characters,
    character_table,
    character_voices,
    merge_character,
    set_character_voice,
    set_unknown_speaker_voice,
    suggest_voices,
    unknown_speaker_voice,
)
from pipelines.cast.narrator import narrator_voice
from pipelines.core.model import VoiceRef
from pipelines.engines.registry import available_voices
from pipelines.script.characters import CharacterList
from pipelines.store import Project
from studio.context import StudioContext

Save = Callable[[Callable[[], object], str, str], Coroutine[Any, Any, None]]
FillCombo = Callable[[QComboBox, VoiceRef | None, str | None], None]
COLUMNS = ["Character", "Aliases", "Gender", "Lines", "Voice", ""]
VOICE_COL, PREVIEW_COL = 4, 5
MERGE_LABEL = 28  # characters on the merge button at most
NAME_WIDTH = 120  # pixels the character column takes at most, unless the author widens it
MERGE_TIP = (
    "Merge the selected character into the one chosen here (one person from then on), "
    "or give it the new name typed here"
)


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
        # A few rows on view however tight the tab: the panel scrolls rather than the table
        # shrinking to one line.
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height()
            + 5 * self.table.verticalHeader().defaultSectionSize()
        )
        header = self.table.horizontalHeader()
        # The names sized to fit up to a cap (`reload`), the aliases taking what is left: the
        # voice and preview columns stay on view in a narrow panel.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        for col in (2, 3, VOICE_COL, PREVIEW_COL):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        self.unknown = QComboBox()
        self.unknown.setToolTip("Who speaks a quotation no character is found for")
        self.unknown.currentIndexChanged.connect(self._unknown_edited)

        # Editable: pick whom to merge into from the other characters, or type a new name.
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target.setMinimumContentsLength(10)
        self.target.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        hint = "Merge into a character, or type a new name"
        self.target.setToolTip(hint)
        self.target.setAccessibleName(hint)
        line = self.target.lineEdit()
        assert line is not None  # an editable combo box has one
        line.setPlaceholderText(hint + "…")
        line.returnPressed.connect(self._merge_clicked)
        completer = QCompleter(self.target.model(), self.target)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.target.setCompleter(completer)
        self.target.editTextChanged.connect(self._update_merge_button)
        self.merge_button = QPushButton("Merge / rename")
        self.merge_button.setToolTip(MERGE_TIP)
        self.merge_button.setEnabled(False)
        self.merge_button.clicked.connect(self._merge_clicked)
        self.delete_button = QPushButton("Not a character")
        self.delete_button.setToolTip("Delete the selected name (a place, a bogus name)")
        self.delete_button.clicked.connect(self._delete_clicked)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.suggest_button = QPushButton("Suggest voices")
        self.suggest_button.setToolTip(
            "Give the main characters who have no voice yet one each, matched by gender, "
            "the narrator's voice kept for the narrator"
        )
        self.suggest_button.clicked.connect(lambda: self.ctx.tasks.spawn(self.suggest()))
        # "Undo" beside "Suggest voices" says enough, and keeps the row narrow.
        self.undo_suggest_button = QPushButton("Undo")
        self.undo_suggest_button.setToolTip("Take back the voices the last suggestion gave")
        self.undo_suggest_button.setAccessibleName("Undo suggested voices")
        self.undo_suggest_button.setEnabled(False)
        self.undo_suggest_button.clicked.connect(
            lambda: self.ctx.tasks.spawn(self.undo_suggestions())
        )
        # What the last suggestion gave, so that undo takes back only those still held.
        self.suggested: dict[str, VoiceRef] = {}
        self.characters = CharacterList()

        form = QFormLayout()
        form.addRow("Unknown speakers", self.unknown)
        # Two short rows rather than one long one: the panel shares a narrow column with the
        # narrator's choices, and its widest row sets how narrow the window can go.
        edit = QHBoxLayout()
        edit.addWidget(self.target, 1)
        edit.addWidget(self.merge_button)
        more = QHBoxLayout()
        more.addWidget(self.delete_button)
        more.addStretch(1)
        more.addWidget(self.suggest_button)
        more.addWidget(self.undo_suggest_button)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addLayout(edit)
        lay.addLayout(more)

    # -- loading ---------------------------------------------------------------------------------

    async def reload(self) -> None:
        def read() -> tuple[list[CharacterRow], VoiceRef | None, CharacterList]:
            return (
                character_table(self.project),
                unknown_speaker_voice(self.project),
                book_characters(self.project),
            )

        selected = self.selected_name()
        rows, unknown, characters = await asyncio.to_thread(read)
        self._loading = True
        try:
            self.rows = rows
            self.characters = characters
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
                    item = QTableWidgetItem(text)
                    item.setToolTip(text)  # a long list of names is cut short in its cell
                    self.table.setItem(r, col, item)
                combo = QComboBox()
                # Narrow enough that the voice column stays on view beside long alias lists.
                combo.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                )
                combo.setMinimumContentsLength(10)
                self._fill_combo(combo, row.voice, "Unknown speakers' voice")
                combo.setToolTip(combo.currentText())
                combo.currentTextChanged.connect(combo.setToolTip)
                combo.currentIndexChanged.connect(
                    lambda _i, name=row.name, c=combo: self._voice_edited(name, c)
                )
                self.table.setCellWidget(r, VOICE_COL, combo)
                # A compact button: a full "Preview" pushes the column out of a narrow panel.
                button = QPushButton("▶")
                button.setToolTip(f"Preview {row.name}'s voice")
                button.setAccessibleName(f"Preview {row.name}'s voice")
                button.clicked.connect(lambda _c=False, c=combo: self._preview_clicked(c))
                self.table.setCellWidget(r, PREVIEW_COL, button)
        finally:
            self._loading = False
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), NAME_WIDTH))
        if selected is not None:
            self.select(selected)
        self._fill_targets()

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

    # -- merge and rename ------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        self._fill_targets()

    def _fill_targets(self) -> None:
        """The chooser lists everyone but the selected character; what was typed stays."""
        text, selected = self.target.currentText(), self.selected_name()
        self.target.blockSignals(True)
        try:
            self.target.clear()
            self.target.addItems(sorted(r.name for r in self.rows if r.name != selected))
            self.target.setEditText(text)
        finally:
            self.target.blockSignals(False)
        self._update_merge_button()

    def merge_target(self, name: str, target: str) -> str | None:
        """The existing character `target` names (by any of its names, in any case) other than
        `name` itself, as `merge_character` resolves it; None for a new name."""
        wanted = " ".join(target.split())
        if not wanted:
            return None
        exact = next((r.name for r in self.rows if r.name.casefold() == wanted.casefold()), None)
        found = self.characters.resolve(wanted)
        into = exact or (found.name if found is not None else None)
        return into if into is not None and into != name else None

    def _merge_action(self) -> tuple[str, str] | None:
        """("merge" or "rename", the name) for what the button would do now; None for nothing."""
        name, target = self.selected_name(), " ".join(self.target.currentText().split())
        if name is None or not target:
            return None
        into = self.merge_target(name, target)
        if into is not None:
            return "merge", into
        # Another of its own names, or its name in other letters, is a rename all the same.
        return None if target == name else ("rename", target)

    def _update_merge_button(self) -> None:
        action = self._merge_action()
        if action is None:
            self.merge_button.setText("Merge / rename")
            self.merge_button.setToolTip(MERGE_TIP)
            self.merge_button.setEnabled(False)
            return
        verb, target = action
        text = f"{'Merge into' if verb == 'merge' else 'Rename to'} {target}"
        # A long name is shortened on the button, so it cannot widen the panel; the tooltip
        # has it whole.
        short = text if len(text) <= MERGE_LABEL else text[: MERGE_LABEL - 1].rstrip() + "…"
        self.merge_button.setText(short)
        self.merge_button.setToolTip(text)
        self.merge_button.setEnabled(True)

    def _merge_clicked(self) -> None:
        name, target = self.selected_name(), " ".join(self.target.currentText().split())
        if name is None:
            self.ctx.reporter.status("Select a character first.", 4000)
            return
        if not target:
            self.ctx.reporter.status("Choose who to merge it into, or type its new name.", 4000)
            return
        if self._merge_action() is None:
            self.ctx.reporter.status(f"{name} is already called {target}.", 4000)
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
        into = self.merge_target(name, target)
        if not target:
            message = f"{name} is no longer a character"
        elif into is not None:
            message = f"{name} merged into {into}"
        else:
            message = f"{name} renamed to {' '.join(target.split())}"
        failure = f"{name} was not {'merged' if target else 'deleted'}"
        await self._save(lambda: merge_character(self.project, name, target), message, failure)
        self.target.setEditText("")
        await self.reload()

    # -- suggested voices ------------------------------------------------------------------------

    async def suggest(self) -> None:
        """Give the main characters without a voice one each (`suggest_voices`); the author's
        own choices stay, and count as taken so the suggestions differ from them."""

        def read() -> dict[str, VoiceRef]:
            # The main characters are those with the most lines in the table, which counts the
            # first-person narrator's too (never named in a speech tag).
            table = character_table(self.project)
            return suggest_voices(
                book_characters(self.project),
                available_voices(),
                narrator_voice(self.project),
                keep=character_voices(self.project),
                order=[r.name for r in table if r.lines] or [r.name for r in table],
            )

        self.suggest_button.setEnabled(False)
        try:
            suggestion = await asyncio.to_thread(read)
        except Exception as exc:  # a voice list that cannot be read: say so, change nothing
            self.ctx.reporter.status(f"No voices were suggested: {exc}", 10000)
            return
        finally:
            self.suggest_button.setEnabled(True)
        if not suggestion:
            self.ctx.reporter.status(
                "No voices to suggest: every main character has one, or no other voice is "
                "installed.",
                6000,
            )
            return
        applied: dict[str, VoiceRef] = {}

        def save() -> None:
            for character, voice in suggestion.items():
                set_character_voice(self.project, character, voice)
                applied[character] = voice

        await self._save(
            save,
            f"Suggested voices for {len(suggestion)} characters; “Undo” beside “Suggest voices” "
            "takes them back.",
            "The suggested voices were not saved",
        )
        await self.reload()
        self.suggested = applied
        self.undo_suggest_button.setEnabled(bool(applied))

    async def undo_suggestions(self) -> None:
        """Take back the last suggestion's voices, except those the author has changed since."""
        given, self.suggested = self.suggested, {}
        self.undo_suggest_button.setEnabled(False)

        def save() -> None:
            held = character_voices(self.project)
            for character, voice in given.items():
                if held.get(character) == voice:
                    set_character_voice(self.project, character, None)

        await self._save(
            save, "Suggested voices taken back", "The suggested voices were not taken back"
        )
        await self.reload()
