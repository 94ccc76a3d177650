"""Audio playback behind a small interface, so tests (and machines without an audio device)
can see what would have been played."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QUrl

log = logging.getLogger(__name__)


class AudioPlayer(Protocol):
    def play(self, path: Path) -> None: ...

    def stop(self) -> None: ...

    @property
    def current(self) -> Path | None: ...


class RecordingPlayer:
    """Plays nothing; remembers what it was asked to play (tests, offscreen runs)."""

    def __init__(self) -> None:
        self.played: list[Path] = []
        self.stops = 0
        self._current: Path | None = None

    def play(self, path: Path) -> None:
        self.played.append(path)
        self._current = path

    def stop(self) -> None:
        self.stops += 1
        self._current = None

    @property
    def current(self) -> Path | None:
        return self._current


class QtPlayer(QObject):
    """QtMultimedia playback (needs the PySide6 add-ons and an audio output)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

        self._output = QAudioOutput(self)
        self._player = QMediaPlayer(self)
        self._player.setAudioOutput(self._output)
        self._current: Path | None = None

    def play(self, path: Path) -> None:
        self._player.stop()
        self._current = path
        self._player.setSource(QUrl.fromLocalFile(str(path)))
        self._player.play()

    def stop(self) -> None:
        self._player.stop()
        self._current = None

    @property
    def current(self) -> Path | None:
        return self._current


def default_player(parent: QObject | None = None) -> AudioPlayer:
    """The Qt player where QtMultimedia loads, else one that only records."""
    try:
        return QtPlayer(parent)
    except ImportError as exc:  # PySide6-Essentials alone, or a missing system audio library
        log.warning("audio playback unavailable: %s", exc)
        return RecordingPlayer()
