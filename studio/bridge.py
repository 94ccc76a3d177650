"""The render service's plain events, turned into Qt signals on the GUI thread.

The service calls the bridge from its worker thread. The bridge hands each event to the GUI
thread through a queued connection and only there emits the typed signals, so every slot that
listens runs on the GUI thread and may touch widgets.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot

from pipelines.render.events import (
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobQueued,
    JobStarted,
    JobStateChanged,
)


class RenderBridge(QObject):
    queued = Signal(object)  # JobQueued
    started = Signal(object)  # JobStarted
    progress = Signal(object)  # JobProgress
    state_changed = Signal(object)  # JobStateChanged
    finished = Signal(object)  # JobFinished
    failed = Signal(object)  # JobFailed
    any_event = Signal(object)  # every event, after the typed one

    _incoming = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._incoming.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    def __call__(self, event: JobEvent) -> None:
        """The listener the render service calls, from any thread."""
        self._incoming.emit(event)

    @Slot(object)
    def _dispatch(self, event: JobEvent) -> None:
        signal = {
            JobQueued: self.queued,
            JobStarted: self.started,
            JobProgress: self.progress,
            JobStateChanged: self.state_changed,
            JobFinished: self.finished,
            JobFailed: self.failed,
        }.get(type(event))
        if signal is not None:
            signal.emit(event)
        self.any_event.emit(event)
