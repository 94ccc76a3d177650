"""What every panel shares: background tasks, preferences, playback and the status line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from studio.player import AudioPlayer
from studio.prefs import Prefs
from studio.tasks import TaskKeeper


class Reporter(Protocol):
    def status(self, text: str, timeout_ms: int = 0) -> None: ...

    def error(self, text: str) -> None: ...


@dataclass(slots=True)
class StudioContext:
    tasks: TaskKeeper
    prefs: Prefs
    player: AudioPlayer
    reporter: Reporter
