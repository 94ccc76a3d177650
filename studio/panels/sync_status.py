"""The sync state in the status bar: offline, up to date, rows waiting, chapters rendering remotely.

The counts come from the project database (`pipelines.sync.passes.status`), so the label is right
without a network round trip; it is refreshed when a project opens and after renders.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QLabel, QWidget

from pipelines.store import Project
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


def details(state: SyncStatus) -> str:
    lines = [f"Last synced: {state.last_synced or 'never'}"]
    if state.remote_done:
        lines.append(f"{state.remote_done} chapter(s) rendered remotely")
    if state.message:
        lines.append(state.message)
    return "\n".join(lines)


class SyncStatusLabel(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        set_role(self, "muted")
        self.setVisible(False)

    def show_status(self, state: SyncStatus) -> None:
        self.setText(describe(state))
        self.setToolTip(details(state))
        self.setVisible(True)

    def clear_status(self) -> None:
        self.setText("")
        self.setToolTip("")
        self.setVisible(False)

    async def refresh(self, project: Project) -> str:
        """Read the state off the GUI thread (counting pending rows hashes every chapter)."""
        state = await asyncio.to_thread(status, project)
        self.show_status(state)
        return self.text()
