"""Settings: engines and their keys, output defaults, rendering concurrency, the sync account.

API keys go to the OS keyring through `pipelines.core.secrets`, never to the settings file; when the
machine has no secure keyring the page says so plainly and storing is refused. The Supabase
session likewise goes to the keyring through `pipelines.sync.client`; the password is only held
for the sign-in call and never shown, logged or saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

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

from pipelines.app.export import SYNTHETIC_POLICY, synthetic_policy
from pipelines.audio.profiles import PROFILES
from pipelines.core import secrets
from pipelines.core.errors import StudioError
from pipelines.engines.base import Voice
from pipelines.engines.registry import available_voices
from pipelines.sync.client import KeyringSessionStore, Remote, SessionStore, SyncConfig
from studio import prefs
from studio.context import StudioContext
from studio.tasks import describe_error
from studio.theme import set_role

PROVIDER_LABEL = {"openai": "OpenAI", "elevenlabs": "ElevenLabs", "inworld": "Inworld"}
FALLBACK_VOICE = "piper:joe-us"


class SettingsDialog(QDialog):
    saved = Signal()

    def __init__(
        self,
        ctx: StudioContext,
        parent: QWidget | None = None,
        session_store: SessionStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        self.ctx = ctx
        self.session_store: SessionStore = session_store or KeyringSessionStore()
        p = ctx.prefs
        tabs = QTabWidget()
        tabs.addTab(self._engines_page(), "Engines")
        tabs.addTab(self._output_page(), "Output")
        tabs.addTab(self._account_page(), "Account")

        self.fill_voices([], p.get(prefs.DEFAULT_VOICE) or FALLBACK_VOICE)
        self.styletts2_dir.setText(p.get(prefs.STYLETTS2_DIR))
        self.output_dir.setText(p.get(prefs.OUTPUT_DIR))
        self.profile.setCurrentIndex(max(self.profile.findData(p.get(prefs.DELIVERY_PROFILE)), 0))
        self._show_profile_note()
        self.workers.setValue(p.get(prefs.WORKERS))
        self.supabase_url.setText(p.get(prefs.SUPABASE_URL))
        self.supabase_email.setText(p.get(prefs.SUPABASE_EMAIL))
        self.supabase_key.setText(p.get(prefs.SUPABASE_ANON_KEY))

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
        self.voices_task = self.ctx.tasks.spawn(self.load_voices(), slot="settings-voices")
        self.ctx.tasks.spawn(self._show_stored_session(), slot="account")

    # -- pages -----------------------------------------------------------------------------------

    def _show_profile_note(self) -> None:
        """ACX refuses synthetic narration for standard uploads: say so plainly when chosen."""
        name = str(self.profile.currentData() or "")
        self.profile_note.setText(synthetic_policy(name))
        set_role(self.profile_note, "warning" if name in SYNTHETIC_POLICY else "muted")
        self.profile_note.style().unpolish(self.profile_note)
        self.profile_note.style().polish(self.profile_note)

    def _engines_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        local = QGroupBox("Voices on this computer")
        form = QFormLayout(local)
        self.default_voice = QComboBox()
        self.default_voice.setToolTip("The narrator of books imported from now on")
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
        self.output_browse = QPushButton("Browse…")
        self.output_browse.clicked.connect(self.choose_output_dir)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output_dir, 1)
        out_row.addWidget(self.output_browse)
        form.addRow("Output folder", out_row)
        self.profile = QComboBox()
        for name, profile in PROFILES.items():
            self.profile.addItem(profile.label, name)
        form.addRow("Delivery profile", self.profile)
        self.profile_note = QLabel("")
        self.profile_note.setWordWrap(True)
        form.addRow("", self.profile_note)
        self.profile.currentIndexChanged.connect(self._show_profile_note)
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
        self.supabase_key = QLineEdit()
        self.supabase_key.setPlaceholderText("The project's anon (public) key")
        self.supabase_email = QLineEdit()
        self.supabase_email.setPlaceholderText("you@example.com")
        self.supabase_password = QLineEdit()
        self.supabase_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.supabase_password.setPlaceholderText("Used to sign in, never stored")
        form.addRow("Project URL", self.supabase_url)
        form.addRow("Anon key", self.supabase_key)
        form.addRow("Email", self.supabase_email)
        form.addRow("Password", self.supabase_password)

        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setProperty("primary", True)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.send_link_button = QPushButton("Email me a sign-in link")
        self.send_link_button.clicked.connect(self.send_link)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.clicked.connect(self.sign_out)
        row = QHBoxLayout()
        row.addWidget(self.sign_in_button)
        row.addWidget(self.send_link_button)
        row.addStretch(1)
        row.addWidget(self.sign_out_button)
        form.addRow("", row)
        self.supabase_code = QLineEdit()
        self.supabase_code.setPlaceholderText("Code from the email")
        self.verify_button = QPushButton("Verify")
        self.verify_button.clicked.connect(self.verify_code)
        code_row = QHBoxLayout()
        code_row.addWidget(self.supabase_code, 1)
        code_row.addWidget(self.verify_button)
        form.addRow("Sign-in code", code_row)
        self.account_status = QLabel("Not signed in")
        self.account_status.setWordWrap(True)
        set_role(self.account_status, "muted")
        form.addRow(self.account_status)

        note = QLabel(
            "Jobs sync with this account so another machine can render chapters of the same "
            "book. The session is kept in the system keyring; the password is never stored."
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

    def choose_output_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Output folder", self.output_dir.text().strip()
        )
        if folder:
            self.output_dir.setText(folder)

    # -- voices ----------------------------------------------------------------------------------

    def fill_voices(self, voices: list[Voice], current: str) -> None:
        combo = self.default_voice
        combo.clear()
        for v in voices:
            combo.addItem(f"{v.name}  ({v.engine})", f"{v.engine}:{v.id}")
        index = combo.findData(current)
        if index < 0:
            # a voice this computer cannot list now (no key, no model) stays chosen, marked
            combo.addItem(f"{current}  (not available here)" if voices else current, current)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    async def load_voices(self) -> list[Voice]:
        voices = await asyncio.to_thread(available_voices)
        # the dialog may have been closed (and deleted) while the engines listed their voices
        with contextlib.suppress(RuntimeError):
            self.fill_voices(voices, self.chosen_voice())
        return voices

    def chosen_voice(self) -> str:
        return str(self.default_voice.currentData() or FALLBACK_VOICE)

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
        p.set(prefs.DEFAULT_VOICE, self.chosen_voice())
        p.set(prefs.STYLETTS2_DIR, self.styletts2_dir.text().strip())
        p.set(prefs.OUTPUT_DIR, self.output_dir.text().strip())
        p.set(prefs.DELIVERY_PROFILE, self.profile.currentData())
        p.set(prefs.WORKERS, self.workers.value())
        self._remember_account()
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

    # -- account ---------------------------------------------------------------------------------

    def _remember_account(self) -> None:
        p = self.ctx.prefs
        p.set(prefs.SUPABASE_URL, self.supabase_url.text().strip())
        p.set(prefs.SUPABASE_ANON_KEY, self.supabase_key.text().strip())
        p.set(prefs.SUPABASE_EMAIL, self.supabase_email.text().strip())

    def _remote_factory(self) -> Callable[[], Remote]:
        """Read the fields here, on the GUI thread; connect later, on a worker thread."""
        url = self.supabase_url.text().strip().rstrip("/")
        key = self.supabase_key.text().strip()
        store = self.session_store

        def make() -> Remote:
            if not url or not key:
                raise StudioError(
                    None, "no Supabase project is set", "fill in the Project URL and the anon key"
                )
            return Remote(SyncConfig(url, key), store)

        return make

    def _set_account_status(self, text: str, error: bool = False) -> None:
        self.account_status.setText(text)
        set_role(self.account_status, "error" if error else "muted")
        # a changed dynamic property only restyles after a re-polish
        self.account_status.style().unpolish(self.account_status)
        self.account_status.style().polish(self.account_status)

    def _run_account(self, busy: str, work: Callable[[], str]) -> asyncio.Task[str]:
        """Run `work` off the GUI thread; its result or its error lands in the status line."""
        # read the password now, on the GUI thread, so it can be kept out of any message
        secret = self.supabase_password.text()
        buttons = (self.sign_in_button, self.send_link_button, self.verify_button)

        async def run() -> str:
            for b in buttons:
                b.setEnabled(False)
            self._set_account_status(busy)
            try:
                text = await asyncio.to_thread(work)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # shown as one line, never a traceback
                lines = describe_error(exc).splitlines() or [type(exc).__name__]
                text = lines[0].replace(secret, "•••") if secret else lines[0]
                self._set_account_status(text, error=True)
                return text
            finally:
                for b in buttons:
                    b.setEnabled(True)
            self._set_account_status(text)
            return text

        return self.ctx.tasks.spawn(run(), slot="account")

    def sign_in(self) -> asyncio.Task[str]:
        password = self.supabase_password.text()
        email, remote = self.supabase_email.text().strip(), self._remote_factory()

        def work() -> str:
            if not email:
                raise StudioError(None, "no email is given", "type the account's email")
            if not password:
                raise StudioError(None, "no password is given", "type it, or ask for a link")
            remote().sign_in_password(email, password)
            return f"Signed in as {email}"

        task = self._run_account("Signing in…", work)
        self.supabase_password.clear()
        self._remember_account()
        return task

    def send_link(self) -> asyncio.Task[str]:
        self._remember_account()
        email, make = self.supabase_email.text().strip(), self._remote_factory()

        def work() -> str:
            if not email:
                raise StudioError(None, "no email is given", "type the account's email")
            remote = make()
            try:
                remote.send_magic_link(email)
            except Exception as exc:
                raise StudioError(
                    None, f"the sign-in link could not be sent: {exc}", "check the email"
                ) from None
            return f"A sign-in code was sent to {email}; type it below and press Verify"

        return self._run_account("Sending the link…", work)

    def verify_code(self) -> asyncio.Task[str]:
        code = self.supabase_code.text().strip()
        email, remote = self.supabase_email.text().strip(), self._remote_factory()

        def work() -> str:
            if not email:
                raise StudioError(None, "no email is given", "type the account's email")
            if not code:
                raise StudioError(None, "no code is given", "type the code from the email")
            remote().verify_magic_link(email, code)
            return f"Signed in as {email}"

        return self._run_account("Checking the code…", work)

    def sign_out(self) -> asyncio.Task[str]:
        make = self._remote_factory()

        def work() -> str:
            try:
                remote = make()
            except StudioError:
                # no project configured: forgetting the stored session is all there is to do
                self.session_store.clear()
            else:
                remote.sign_out()
            return "Signed out"

        return self._run_account("Signing out…", work)

    async def _show_stored_session(self) -> None:
        saved = await asyncio.to_thread(self.session_store.load)
        if saved and saved.get("email"):
            self._set_account_status(f"Signed in as {saved['email']}")
