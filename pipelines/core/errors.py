"""Errors the user can act on: each names the file, what is wrong, and the fix."""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """A problem with the user's input or environment, reported in one line (exit status 2)."""

    exit_code = 2

    def __init__(self, path: str | Path | None, problem: str, fix: str = "") -> None:
        self.path = str(path) if path is not None else None
        self.problem = problem
        self.fix = fix
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type[StudioError], tuple[str | None, str, str]]:
        # Rebuilt with its three arguments when it crosses a process boundary.
        return (type(self), (self.path, self.problem, self.fix))

    @property
    def message(self) -> str:
        head = f"{self.path}: {self.problem}" if self.path else self.problem
        return f"{head}. {self.fix}" if self.fix else head


class ManuscriptError(StudioError):
    """The manuscript cannot be read: corrupt, protected, empty, unsupported, too large."""


class ProjectError(StudioError):
    """The project folder or database is missing, locked or from a newer version."""
