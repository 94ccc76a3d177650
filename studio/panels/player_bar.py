"""The chapter player: play/pause/stop, a seek slider, position and duration, a waveform.

It drives the studio's `AudioPlayer` (the Qt one, or the recording one in tests), polling its
position, so the text panel can light up the sentence being read. Where the computer has no audio
output it says so instead of "Playing", and offers the sentence as a WAV file instead.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from studio.context import StudioContext
from studio.player import NO_OUTPUT_SENTENCE
from studio.theme import set_role

TICK_MS = 100
PEAKS = 600


def clock(seconds: float) -> str:
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def compute_peaks(path: Path, n: int = PEAKS) -> list[float]:
    """`n` peak levels (0..1) across the file: what the waveform draws. Off the GUI thread."""
    import soundfile as sf

    x, _rate = sf.read(str(path), dtype="float32", always_2d=True)
    x = np.abs(x).max(axis=1)
    if not len(x):
        return []
    edges = np.linspace(0, len(x), n + 1, dtype=np.int64)
    return [float(x[a:b].max()) if b > a else 0.0 for a, b in itertools.pairwise(edges)]


def write_excerpt(path: Path, start_s: float, end_s: float, out: Path) -> Path:
    """Copy `start_s`..`end_s` of the audio at `path` into the WAV `out`."""
    import soundfile as sf

    info = sf.info(str(path))
    a = max(0, int(start_s * info.samplerate))
    b = min(info.frames, max(a, int(end_s * info.samplerate)))
    x, rate = sf.read(str(path), start=a, stop=b, dtype="float32", always_2d=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(out), x, rate, subtype="PCM_16")
    return out


class Waveform(QWidget):
    """Peaks of the chapter with the playhead; a click seeks."""

    clicked = Signal(float)  # 0..1 across the chapter

    def __init__(self) -> None:
        super().__init__()
        self.peaks: list[float] = []
        self.fraction = 0.0
        self._bars: tuple[tuple[int, int], list[QRectF]] | None = None
        self.setMinimumHeight(36)
        self.setMaximumHeight(48)

    def set_peaks(self, peaks: list[float]) -> None:
        self.peaks = peaks
        self._bars = None
        self.update()

    def set_fraction(self, f: float) -> None:
        self.fraction = min(1.0, max(0.0, f))
        self.update()

    def bars(self) -> list[QRectF]:
        """One bar per peak, for the widget's size now (kept until the size or peaks change)."""
        w, h = self.width(), self.height()
        if self._bars is not None and self._bars[0] == (w, h):
            return self._bars[1]
        bars: list[QRectF] = []
        if self.peaks:
            mid = h / 2
            top = max(self.peaks) or 1.0
            step = w / len(self.peaks)
            width = max(1.0, step - 0.5)
            for i, v in enumerate(self.peaks):
                hh = max(1.0, v / top * (mid - 2))
                bars.append(QRectF(i * step, mid - hh, width, 2 * hh))
        self._bars = ((w, h), bars)
        return bars

    def paintEvent(self, event: QPaintEvent) -> None:
        # A few calls per paint, not one per bar: the playhead repaints this ten times a second,
        # and every call from Python into Qt costs (PySide6 6.12.0 on Python 3.11 even drops a
        # reference to None on each one, which in the end aborts the interpreter).
        p = QPainter(self)
        w, h = self.width(), self.height()
        bars = self.bars()
        if bars:
            n = len(bars)
            played = min(n, max(0, math.ceil(self.fraction * n)))  # bars i with i/n < fraction
            p.setPen(Qt.PenStyle.NoPen)
            if played:
                p.setBrush(QColor("#4a7bd0"))
                p.drawRects(bars[:played])
            if played < n:
                p.setBrush(QColor("#9aa4b1"))
                p.drawRects(bars[played:])
        x = self.fraction * w
        p.fillRect(QRectF(x - 1, 0, 2, h), QColor("#d04a4a"))
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.width():
            self.clicked.emit(event.position().x() / self.width())


class PlayerBar(QWidget):
    position_changed = Signal(float)  # seconds into the chapter

    def __init__(self, ctx: StudioContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.path: Path | None = None
        self.duration = 0.0
        self.spans: list[dict[str, Any]] = []
        self.export_dir: Path | None = None
        self.sentence: int | None = None  # the span last asked for, for "Export WAV"
        self._dragging = False

        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play or pause the chapter")
        self.play_button.clicked.connect(self.toggle)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.sliderPressed.connect(self._press)
        self.slider.sliderReleased.connect(self._release)
        self.position_label = QLabel(clock(0))
        self.duration_label = QLabel(clock(0))
        set_role(self.duration_label, "muted")
        self.message = QLabel("")
        set_role(self.message, "muted")
        self.message.setWordWrap(True)
        self.export_button = QPushButton("Export WAV of this sentence")
        self.export_button.clicked.connect(self.export_sentence)
        self.export_button.hide()
        self.waveform = Waveform()
        self.waveform.clicked.connect(lambda f: self.seek_and_play(f * self.duration))

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.position_label)
        row.addWidget(self.slider, 1)
        row.addWidget(self.duration_label)
        note = QHBoxLayout()
        note.setContentsMargins(0, 0, 0, 0)
        note.addWidget(self.message, 1)
        note.addWidget(self.export_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.waveform)
        lay.addLayout(row)
        lay.addLayout(note)

        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self._enable(False)

    # -- what is loaded --------------------------------------------------------------------------

    def _enable(self, on: bool) -> None:
        for w in (self.play_button, self.stop_button, self.slider):
            w.setEnabled(on)

    def _ours(self) -> bool:
        return self.path is not None and self.ctx.player.current == self.path

    def load(
        self,
        path: Path | None,
        spans: list[dict[str, Any]],
        duration: float,
        export_dir: Path | None = None,
    ) -> None:
        """Show the chapter audio at `path` (None: the chapter has not been rendered)."""
        if self._ours() and path != self.path:
            self.ctx.player.stop()
        self.path, self.spans, self.duration = path, spans, duration
        self.export_dir = export_dir
        self.sentence = None
        self.export_button.hide()
        self.slider.setRange(0, round(duration * 1000))
        self.slider.setValue(0)
        self.position_label.setText(clock(0))
        self.duration_label.setText(clock(duration))
        self.waveform.set_peaks([])
        self.waveform.set_fraction(0)
        self.play_button.setText("Play")
        ok = path is not None and path.exists()
        self._enable(ok)
        self.message.setText("" if ok else "Not rendered yet: render the chapter to listen.")
        if ok and path is not None:
            self.ctx.tasks.spawn(self._peaks(path), slot="waveform")

    async def _peaks(self, path: Path) -> list[float]:
        try:
            peaks = await asyncio.to_thread(compute_peaks, path)
        except (OSError, RuntimeError, ValueError):  # soundfile's LibsndfileError
            return []  # unreadable here: no waveform, playback still works
        if path == self.path:
            self.waveform.set_peaks(peaks)
        return peaks

    # -- playing ---------------------------------------------------------------------------------

    def _no_output(self) -> bool:
        if self.ctx.player.has_output:
            return False
        self.message.setText(NO_OUTPUT_SENTENCE)
        self.export_button.setVisible(bool(self.spans))
        if self.sentence is None and self.spans:
            self.sentence = self.span_at(self.slider.value() / 1000)
        return True

    def seek_and_play(self, seconds: float) -> None:
        """Play the chapter from `seconds` (or explain why it cannot be heard)."""
        if self.path is None:
            return
        seconds = min(max(0.0, seconds), self.duration)
        self._show(seconds)
        self.position_changed.emit(seconds)
        if self._no_output():
            return
        player = self.ctx.player
        if not self._ours():
            player.play(self.path)
        player.seek(seconds)
        if not player.playing:
            player.resume()
        self.message.setText("")
        self.play_button.setText("Pause")
        self.timer.start()

    def play_sentence(self, index: int) -> None:
        if 0 <= index < len(self.spans):
            self.sentence = index
            self.seek_and_play(float(self.spans[index]["start"]))

    def toggle(self) -> None:
        player = self.ctx.player
        if self._ours() and player.playing:
            player.pause()
            self.play_button.setText("Play")
            self.timer.stop()
            self.tick()
        elif self._ours():
            if self._no_output():
                return
            player.resume()
            self.play_button.setText("Pause")
            self.timer.start()
        else:
            self.seek_and_play(self.slider.value() / 1000)

    def stop(self) -> None:
        if self._ours():
            self.ctx.player.stop()
        self.timer.stop()
        self.play_button.setText("Play")
        self._show(0)
        self.position_changed.emit(0.0)

    def _press(self) -> None:
        self._dragging = True

    def _release(self) -> None:
        self._dragging = False
        seconds = self.slider.value() / 1000
        if self._ours():
            self.ctx.player.seek(seconds)
            self._show(seconds)
            self.position_changed.emit(seconds)
        else:
            self.seek_and_play(seconds)

    def _show(self, seconds: float) -> None:
        if not self._dragging:
            self.slider.setValue(round(seconds * 1000))
        self.position_label.setText(clock(seconds))
        self.waveform.set_fraction(seconds / self.duration if self.duration else 0)

    def tick(self) -> None:
        """Follow the player's position (the timer calls this while playing)."""
        if not self._ours():
            if self.play_button.text() == "Pause":
                self.play_button.setText("Play")
                self.timer.stop()
            return
        seconds = self.ctx.player.position
        self._show(seconds)
        self.position_changed.emit(seconds)

    # -- spans -----------------------------------------------------------------------------------

    def span_at(self, seconds: float) -> int | None:
        """The index of the sentence being read at `seconds` (the last one begun)."""
        found = None
        for i, s in enumerate(self.spans):
            if float(s["start"]) <= seconds + 1e-6:
                found = i
            else:
                break
        return found

    def export_sentence(self) -> Path | None:
        """Write the sentence last asked for as its own WAV; its path."""
        i = self.sentence
        if self.path is None or i is None or not 0 <= i < len(self.spans):
            return None
        span = self.spans[i]
        out_dir = self.export_dir or self.path.parent
        out = out_dir / f"{self.path.stem}-sentence-{i + 1:03d}.wav"
        try:
            write_excerpt(self.path, float(span["start"]), float(span["end"]), out)
        except (OSError, RuntimeError) as exc:
            self.ctx.reporter.error(f"Could not export the sentence: {exc}")
            return None
        self.message.setText(f"Sentence {i + 1} saved as {out}")
        self.ctx.reporter.status(f"Sentence saved as {out}", 8000)
        return out
