"""Help ▸ System check…: what `audiobook-studio doctor` reports, plus whether Qt sees an audio
output, each check with what to do about it. Opened by itself on the first start when something
the studio needs is missing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from pipelines.app.doctor import AUDIO_LIBRARY, Check, install_fix, needs_attention, run_checks
from studio.tasks import TaskKeeper
from studio.theme import set_role

ChecksSource = Callable[[], Awaitable[list[Check]]]
AudioProbe = Callable[[], list[str]]  # output names, default first; ImportError: no QtMultimedia
GROUP_TITLES = {"system": "This computer", "voices": "Voices"}


def qt_audio_outputs() -> list[str]:
    """The audio outputs Qt can play on, the default first; empty when there is none."""
    from PySide6.QtMultimedia import QMediaDevices

    default = QMediaDevices.defaultAudioOutput()
    if default.isNull():
        return []
    others = [d.description() for d in QMediaDevices.audioOutputs() if d.id() != default.id()]
    return [default.description(), *others]


def audio_output_check(probe: AudioProbe = qt_audio_outputs) -> Check:
    """Whether previews and Listen can be heard: the device itself, as QtMultimedia sees it."""
    elsewhere = "or export the chapter and play it elsewhere"
    try:
        outputs = probe()
    except ImportError as exc:  # libpulse.so.0 missing, or PySide6 without its add-ons
        _, deb, fed = AUDIO_LIBRARY
        return Check(
            "audio output",
            False,
            f"audio playback cannot load ({exc}): previews and Listen cannot play",
            install_fix([deb], [fed]) + f"; {elsewhere}",
            "optional",
        )
    if not outputs:
        return Check(
            "audio output",
            False,
            "no audio output device: previews and Listen cannot play",
            f"connect or enable an output (speakers, headphones), {elsewhere}",
            "optional",
        )
    more = f" ({len(outputs) - 1} more available)" if len(outputs) > 1 else ""
    return Check("audio output", True, f"plays on {outputs[0]}{more}", None, "optional")


def with_audio_output(checks: list[Check], audio: Check) -> list[Check]:
    """`audio` placed right after the headless audio checks (or after the machine's checks)."""
    names = [c.name for c in checks]
    after = [i for i, n in enumerate(names) if n in ("audio library", "sound server")]
    if after:
        at = after[-1] + 1
    else:
        at = next((i for i, c in enumerate(checks) if c.group != "system"), len(checks))
    return [*checks[:at], audio, *checks[at:]]


async def gather_checks(
    headless: Callable[[], list[Check]] = run_checks, audio: AudioProbe = qt_audio_outputs
) -> list[Check]:
    """Every check: the headless ones off the GUI thread, the Qt audio one on it."""
    checks = await asyncio.to_thread(headless)
    return with_audio_output(checks, audio_output_check(audio))


class DoctorDialog(QDialog):
    def __init__(
        self,
        tasks: TaskKeeper,
        source: ChecksSource = gather_checks,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("System check")
        self.setMinimumSize(640, 480)
        self.tasks = tasks
        self.source = source
        self.checks: list[Check] = []
        self.rows: list[tuple[Check, QLabel]] = []

        self.summary = QLabel("Checking this computer…")
        self.summary.setWordWrap(True)
        set_role(self.summary, "heading")
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)

        self.again = QPushButton("Check again")
        self.again.clicked.connect(self.refresh)
        self.copy = QPushButton("Copy report")
        self.copy.setToolTip("Copy every check as text, e.g. to paste into a support request")
        self.copy.clicked.connect(self.copy_report)
        close = QPushButton("Close")
        close.setProperty("primary", True)
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.again)
        buttons.addWidget(self.copy)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)

    def refresh(self) -> asyncio.Task[list[Check]]:
        return self.tasks.spawn(self._refresh(), slot="system-check")

    async def _refresh(self) -> list[Check]:
        self.again.setEnabled(False)
        self.summary.setText("Checking this computer…")
        try:
            checks = await self.source()
        finally:
            self.again.setEnabled(True)
        self.show_checks(checks)
        return checks

    def show_checks(self, checks: list[Check]) -> None:
        self.checks = list(checks)
        while (item := self.body_layout.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.rows = []
        for group, title in GROUP_TITLES.items():
            members = [c for c in checks if c.group == group]
            if not members:
                continue
            heading = QLabel(title)
            set_role(heading, "heading")
            self.body_layout.addWidget(heading)
            for check in members:
                label = QLabel(row_text(check))
                label.setWordWrap(True)
                label.setTextFormat(Qt.TextFormat.PlainText)
                # The fix is often a command to paste into a terminal.
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                if not check.ok:
                    set_role(label, "warning" if check.severity == "optional" else "error")
                self.body_layout.addWidget(label)
                self.rows.append((check, label))
        self.summary.setText(summary_text(checks))

    def copy_report(self) -> str:
        text = "\n".join(c.line() for c in self.checks)
        QGuiApplication.clipboard().setText(text)
        return text


def row_text(check: Check) -> str:
    if check.ok:
        return f"✓ {check.name}: {check.detail}"
    text = f"✗ {check.name}: {check.detail}"
    return f"{text}\nFix: {check.fix}" if check.fix else text


def summary_text(checks: list[Check]) -> str:
    required = [c for c in checks if not c.ok and c.severity == "required"]
    other = [c for c in needs_attention(checks) if c.severity != "required"]
    if required:
        return (
            f"{len(required)} thing{'s' * (len(required) > 1)} the studio needs "
            f"{'are' if len(required) > 1 else 'is'} missing. Each says how to fix it below."
        )
    if other:
        return "The studio can run; some features will not work until the items below are fixed."
    return "Everything the studio needs is in place."
