"""Undo and redo of chapter edits: each edit keeps the chapter structure before and after it.

The store's `snapshot_chapters` / `restore_chapters` do the work; an edit runs once, when the
author makes it (so a failing edit never reaches the stack), and undo/redo only restore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from pipelines.store import Project

Snapshot = dict[str, list[tuple[Any, ...]]]


class ChapterEdit(QUndoCommand):
    def __init__(
        self,
        project: Project,
        label: str,
        before: Snapshot,
        after: Snapshot,
        on_change: Callable[[], None],
    ) -> None:
        super().__init__(label)
        self._project = project
        self._before = before
        self._after = after
        self._on_change = on_change
        self._applied = True  # the edit already ran when the command was made

    def redo(self) -> None:
        if self._applied:
            self._applied = False  # the push itself; nothing to do
        else:
            self._project.restore_chapters(self._after)
        self._on_change()

    def undo(self) -> None:
        self._project.restore_chapters(self._before)
        self._on_change()


def apply_edit(
    stack: QUndoStack,
    project: Project,
    label: str,
    operation: Callable[[], None],
    on_change: Callable[[], None],
) -> None:
    """Run `operation` on the project and record it for undo. An error leaves the stack alone
    (the store's transaction has already left the project as it was)."""
    before = project.snapshot_chapters()
    operation()
    after = project.snapshot_chapters()
    stack.push(ChapterEdit(project, label, before, after, on_change))
