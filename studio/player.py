"""Audio playback behind a small interface, so tests (and machines without an audio device)
can see what would have been played, and every "Playing" in the studio can be honest."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QUrl

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QAudioDevice

log = logging.getLogger(__name__)

NO_OUTPUT = "No audio output device"


class AudioPlayer(Protocol):
    def play(self, path: Path) -> None: ...

    def stop(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def seek(self, seconds: float) -> None: ...

    @property
    def position(self) -> float:
        """Seconds into what is playing (or paused)."""
        ...

    @property
    def playing(self) -> bool: ...

    @property
    def current(self) -> Path | None: ...

    @property
    def has_output(self) -> bool:
        """False when nothing would be heard: no device, or playback could not load."""
        ...


def no_output_message(what: str) -> str:
    """What to say instead of "Playing …" when `what` cannot be heard on this machine."""
    return (
        f"{NO_OUTPUT}: cannot play {what} here. Connect or enable an audio output, "
        "or export the chapter and play it elsewhere."
    )


NO_OUTPUT_SENTENCE = "No audio output on this computer — export a WAV of this sentence instead"


def play_or_explain(player: AudioPlayer, path: Path, what: str) -> str:
    """Play `path` when there is a device to hear it on; the status line either way."""
    if not player.has_output:
        return no_output_message(what)
    player.play(path)
    return f"Playing {what}"


class RecordingPlayer:
    """Plays nothing; remembers what it was asked to play (tests, offscreen runs).

    `has_output=False` stands for a machine without an audio device (or without QtMultimedia):
    the studio then says it cannot play instead of claiming to.
    """

    def __init__(self, has_output: bool = True, reason: str = "") -> None:
        self.played: list[Path] = []
        self.stops = 0
        self.reason = reason  # why there is no output, for the log and the System check
        self._has_output = has_output
        self._current: Path | None = None
        self._position = 0.0
        self._playing = False
        self.seeks: list[float] = []

    def play(self, path: Path) -> None:
        self.played.append(path)
        self._current = path
        self._position = 0.0
        self._playing = True

    def stop(self) -> None:
        self.stops += 1
        self._current = None
        self._position = 0.0
        self._playing = False

    def pause(self) -> None:
        self._playing = False

    def resume(self) -> None:
        self._playing = self._current is not None

    def seek(self, seconds: float) -> None:
        self.seeks.append(seconds)
        self._position = max(0.0, seconds)

    def advance_to(self, seconds: float) -> None:
        """Tests: the playhead moved on (as real playback would)."""
        self._position = seconds

    @property
    def position(self) -> float:
        return self._position

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def current(self) -> Path | None:
        return self._current

    @property
    def has_output(self) -> bool:
        return self._has_output


class QtPlayer(QObject):
    """QtMultimedia playback (needs the PySide6 add-ons, libpulse and an audio output)."""

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
        # Follow the system default: an output plugged in since start is used.
        self._output.setDevice(_default_output())
        self._player.setSource(QUrl.fromLocalFile(str(path)))
        self._player.play()

    def stop(self) -> None:
        self._player.stop()
        self._current = None

    def pause(self) -> None:
        self._player.pause()

    def resume(self) -> None:
        if self._current is not None:
            self._player.play()

    def seek(self, seconds: float) -> None:
        self._player.setPosition(max(0, round(seconds * 1000)))

    @property
    def position(self) -> float:
        return self._player.position() / 1000

    @property
    def playing(self) -> bool:
        from PySide6.QtMultimedia import QMediaPlayer

        return self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    @property
    def current(self) -> Path | None:
        return self._current

    @property
    def has_output(self) -> bool:
        # Asked each time: devices come and go (headphones, HDMI, a Bluetooth speaker).
        return not _default_output().isNull()


def _default_output() -> QAudioDevice:
    from PySide6.QtMultimedia import QMediaDevices

    return QMediaDevices.defaultAudioOutput()


def default_player(parent: QObject | None = None) -> AudioPlayer:
    """The Qt player where QtMultimedia loads, else one that records and says it has no output."""
    try:
        return QtPlayer(parent)
    except ImportError as exc:  # PySide6-Essentials alone, or a missing libpulse.so.0
        log.warning("audio playback unavailable: %s", exc)
        return RecordingPlayer(has_output=False, reason=str(exc))
