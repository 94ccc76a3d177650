"""The sync state in the status bar: offline, up to date, rows waiting, chapters rendering remotely.

The counts come from the project database (`pipelines.sync.passes.status`), so the label is right
without a network round trip; it is refreshed when a project opens and after renders. Someone
who never signed in (no session stored, the project never synced, nothing sent to workers) sees
no counter at all: "offline · 40 waiting" would only worry an author who does not use sync.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QLabel, QWidget

from pipelines.store import Project
from pipelines.sync.client import KeyringSessionStore, SessionStore
from pipelines.sync.passes import SyncStatus, status
from studio.theme import set_role


def describe(state: SyncStatus) -> str:
    """One short line, e.g. "Sync: offline · 12 waiting" or "Sync: up to date"."""
    parts = []
    # a project never synced, or a pass that could not reach the server, counts as offline
    if not state.online and (state.message or state.last_synced is None):
        parts.append("offline")
    if state.pending:
        parts.append(f"{state.pending} waiting")
    if state.remote_running:
        parts.append(f"{state.remote_running} rendering remotely")
    if not parts:
        parts.append("up to date")
    return "Sync: " + " · ".join(parts)


def uses_sync(state: SyncStatus) -> bool:
    """Whether this project has ever had anything to do with sync."""
    return bool(state.online or state.last_synced or state.remote_running or state.remote_done)


def details(state: SyncStatus) -> str:
    lines = [f"Last synced: {state.last_synced or 'never'}"]
    if state.remote_done:
        lines.append(f"{state.remote_done} chapter(s) rendered remotely")
    if state.message:
        lines.append(state.message)
    return "\n".join(lines)


class SyncStatusLabel(QLabel):
    def __init__(
        self, parent: QWidget | None = None, session_store: SessionStore | None = None
    ) -> None:
        super().__init__("", parent)
        set_role(self, "muted")
        self.setVisible(False)
        # Where a sign-in is kept; asked on each refresh (tests swap it).
        self.session_store: SessionStore = session_store or KeyringSessionStore()
        self.signed_in = False

    def show_status(self, state: SyncStatus, signed_in: bool | None = None) -> None:
        if signed_in is not None:
            self.signed_in = signed_in
        self.setText(describe(state))
        self.setToolTip(details(state))
        self.setVisible(self.signed_in or uses_sync(state))

    def clear_status(self) -> None:
        self.setText("")
        self.setToolTip("")
        self.setVisible(False)

    async def refresh(self, project: Project) -> str:
        """Read the state off the GUI thread (counting pending rows hashes every chapter)."""
        state, signed_in = await asyncio.to_thread(self._read, project)
        self.show_status(state, signed_in)
        return self.text()

    def _read(self, project: Project) -> tuple[SyncStatus, bool]:
        try:
            signed_in = self.session_store.load() is not None
        except Exception:  # a keyring that cannot be read: nobody is signed in here
            signed_in = False
        return status(project), signed_in
