"""Settings: engines and their keys, output defaults, rendering concurrency, the sync account.

API keys go to the OS keyring through `pipelines.secrets`, never to the settings file; when the
machine has no secure keyring the page says so plainly and storing is refused.
"""

from __future__ import annotations

import asyncio
import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pipelines import secrets
from pipelines.audio.profiles import PROFILES
from pipelines.errors import StudioError
from studio import prefs
from studio.context import StudioContext
from studio.theme import set_role

PROVIDER_LABEL = {"openai": "OpenAI", "elevenlabs": "ElevenLabs"}


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(self, ctx: StudioContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        self.ctx = ctx
        p = ctx.prefs
        tabs = QTabWidget()
        tabs.addTab(self._engines_page(), "Engines")
        tabs.addTab(self._output_page(), "Output")
        tabs.addTab(self._account_page(), "Account")

        self.default_voice.setText(p.get(prefs.DEFAULT_VOICE))
        self.styletts2_dir.setText(p.get(prefs.STYLETTS2_DIR))
        self.output_dir.setText(p.get(prefs.OUTPUT_DIR))
        self.profile.setCurrentIndex(max(self.profile.findData(p.get(prefs.DELIVERY_PROFILE)), 0))
        self.workers.setValue(p.get(prefs.WORKERS))
        self.supabase_url.setText(p.get(prefs.SUPABASE_URL))
        self.supabase_email.setText(p.get(prefs.SUPABASE_EMAIL))

        save = QPushButton("Save")
        save.setProperty("primary", True)
        save.clicked.connect(self.save)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs, 1)
        layout.addLayout(buttons)
        self.refresh_keys()

    # -- pages -----------------------------------------------------------------------------------

    def _engines_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        local = QGroupBox("Voices on this computer")
        form = QFormLayout(local)
        self.default_voice = QLineEdit()
        self.default_voice.setPlaceholderText("piper:joe-us")
        form.addRow("Voice for new books", self.default_voice)
        embedded = QLabel("Embedded: Piper “joe-us” (offline, CC0), always available")
        set_role(embedded, "muted")
        form.addRow("", embedded)
        self.styletts2_dir = QLineEdit()
        self.styletts2_dir.setPlaceholderText("Folder holding the StyleTTS2 model files")
        pick = QPushButton("Choose…")
        pick.clicked.connect(self._choose_styletts2)
        row = QHBoxLayout()
        row.addWidget(self.styletts2_dir, 1)
        row.addWidget(pick)
        form.addRow("StyleTTS2 model", row)
        lay.addWidget(local)

        cloud = QGroupBox("Cloud voices")
        cform = QFormLayout(cloud)
        self.keyring_warning = QLabel("")
        self.keyring_warning.setWordWrap(True)
        set_role(self.keyring_warning, "warning")
        cform.addRow(self.keyring_warning)
        self.key_edits: dict[str, QLineEdit] = {}
        self.key_state: dict[str, QLabel] = {}
        for provider, label in PROVIDER_LABEL.items():
            edit = QLineEdit()
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText(f"Paste a new {label} API key")
            state = QLabel("")
            set_role(state, "muted")
            forget = QPushButton("Forget")
            forget.clicked.connect(lambda _c=False, pr=provider: self.forget_key(pr))
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(state)
            row.addWidget(forget)
            cform.addRow(f"{label} key", row)
            self.key_edits[provider] = edit
            self.key_state[provider] = state
        lay.addWidget(cloud)
        lay.addStretch(1)
        return page

    def _output_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        box = QGroupBox("Defaults for new exports")
        form = QFormLayout(box)
        self.output_dir = QLineEdit()
        self.output_dir.setPlaceholderText("Each project's own exports folder")
        form.addRow("Output folder", self.output_dir)
        self.profile = QComboBox()
        for name, profile in PROFILES.items():
            self.profile.addItem(profile.label, name)
        form.addRow("Delivery profile", self.profile)
        lay.addWidget(box)
        render = QGroupBox("Rendering")
        rform = QFormLayout(render)
        self.workers = QSpinBox()
        self.workers.setRange(0, max(1, os.cpu_count() or 1) * 2)
        self.workers.setSpecialValueText("As many as the engine allows")
        rform.addRow("Synthesis processes", self.workers)
        lay.addWidget(render)
        lay.addStretch(1)
        return page

    def _account_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        box = QGroupBox("Supabase account (render on a second machine)")
        form = QFormLayout(box)
        self.supabase_url = QLineEdit()
        self.supabase_url.setPlaceholderText("https://YOUR-PROJECT.supabase.co")
        self.supabase_email = QLineEdit()
        self.supabase_email.setPlaceholderText("you@example.com")
        form.addRow("Project URL", self.supabase_url)
        form.addRow("Email", self.supabase_email)
        note = QLabel(
            "Jobs sync with this account so another machine can render chapters of the same "
            "book. Sign-in happens when sync starts; no password is stored here."
        )
        note.setWordWrap(True)
        set_role(note, "muted")
        form.addRow(note)
        lay.addWidget(box)
        lay.addStretch(1)
        return page

    def _choose_styletts2(self) -> None:
        dialog = QFileDialog(self, "StyleTTS2 model folder", self.styletts2_dir.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.styletts2_dir.setText)
        dialog.open()

    # -- keys ------------------------------------------------------------------------------------

    def refresh_keys(self) -> None:
        status = secrets.keyring_status()
        self.keyring_warning.setVisible(not status.secure)
        self.keyring_warning.setText(f"⚠ {status.warning[:1].upper()}{status.warning[1:]}.")
        for provider, state in self.key_state.items():
            info = secrets.key_info(provider)
            where = {"environment": "from the environment", "keyring": "in the keyring"}
            state.setText(f"{info.masked} {where[info.source]}" if info.present else "not set")
            self.key_edits[provider].setEnabled(status.secure)

    def forget_key(self, provider: str) -> None:
        try:
            secrets.delete_key(provider)
        except StudioError as exc:
            self.ctx.reporter.error(exc.message)
        self.refresh_keys()

    # -- saving ----------------------------------------------------------------------------------

    def save(self) -> None:
        p = self.ctx.prefs
        p.set(prefs.DEFAULT_VOICE, self.default_voice.text().strip() or "piper:joe-us")
        p.set(prefs.STYLETTS2_DIR, self.styletts2_dir.text().strip())
        p.set(prefs.OUTPUT_DIR, self.output_dir.text().strip())
        p.set(prefs.DELIVERY_PROFILE, self.profile.currentData())
        p.set(prefs.WORKERS, self.workers.value())
        p.set(prefs.SUPABASE_URL, self.supabase_url.text().strip())
        p.set(prefs.SUPABASE_EMAIL, self.supabase_email.text().strip())
        p.sync()
        new_keys = {k: e.text().strip() for k, e in self.key_edits.items() if e.text().strip()}
        if new_keys:
            self.ctx.tasks.spawn(self._store_keys(new_keys))
        self.saved.emit()
        self.accept()

    async def _store_keys(self, keys: dict[str, str]) -> None:
        for provider, value in keys.items():
            await asyncio.to_thread(secrets.set_key, provider, value)
        self.ctx.reporter.status("Keys stored in the keyring", 4000)
