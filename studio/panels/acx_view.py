"""One chapter's ACX check: a clear pass or fail, and each number beside the limit it meets."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout

from pipelines.audio.profiles import DeliveryProfile
from studio.theme import FAIL, MUTED, PASS, set_role


def checks(report: dict[str, Any], p: DeliveryProfile) -> list[tuple[str, str, str, bool]]:
    """(measure, value, limit, ok) for each number of the report."""
    rms = float(report.get("rms_db", 0.0))
    peak = float(report.get("peak_db", 0.0))
    noise = float(report.get("noise_floor_db", 0.0))
    head = float(report.get("head_s", 0.0))
    tail = float(report.get("tail_s", 0.0))
    rate = int(report.get("sample_rate", 0))
    channels = int(report.get("channels", 0))
    return [
        (
            "RMS",
            f"{rms:.1f} dB",
            f"{p.rms_min_db:g} to {p.rms_max_db:g} dB",
            p.rms_min_db <= rms <= p.rms_max_db,
        ),
        ("Peak", f"{peak:.1f} dB", f"≤ {p.peak_max_db:g} dB", peak <= p.peak_max_db),
        (
            "Noise floor",
            f"{noise:.1f} dB",
            f"≤ {p.noise_floor_max_db:g} dB",
            noise <= p.noise_floor_max_db,
        ),
        (
            "Room tone, head",
            f"{head:.2f} s",
            f"{p.head_min_s:g}–{p.head_max_s:g} s",
            p.head_min_s - 0.02 <= head <= p.head_max_s + 0.02,
        ),
        (
            "Room tone, tail",
            f"{tail:.2f} s",
            f"{p.tail_min_s:g}–{p.tail_max_s:g} s",
            p.tail_min_s - 0.02 <= tail <= p.tail_max_s + 0.02,
        ),
        (
            "Format",
            f"{rate} Hz, {'mono' if channels == 1 else f'{channels} ch'}",
            f"{p.sample_rate} Hz, {'mono' if p.channels == 1 else 'stereo'}",
            rate == p.sample_rate and channels == p.channels,
        ),
    ]


class AcxView(QGroupBox):
    def __init__(self) -> None:
        super().__init__("ACX check")
        self.verdict = QLabel("Select a finished chapter to see its check.")
        self.verdict.setWordWrap(True)  # long titles wrap instead of widening the panel
        set_role(self.verdict, "muted")
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(18)
        self.problems = QLabel("")
        self.problems.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict)
        layout.addLayout(self.grid)
        layout.addWidget(self.problems)
        layout.addStretch(1)
        self.rows: list[tuple[str, str, str, bool]] = []

    def _clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()

    def show_report(
        self, title: str, report: dict[str, Any] | None, passed: bool | None, p: DeliveryProfile
    ) -> None:
        self._clear()
        self.problems.setText("")
        if not report or passed is None:
            self.rows = []
            self.verdict.setStyleSheet(f"color: {MUTED};")
            self.verdict.setText(f"{title}: not rendered yet." if title else "No chapter selected.")
            return
        self.rows = checks(report, p)
        colour = PASS if passed else FAIL
        minutes = float(report.get("duration_s", 0.0)) / 60
        self.verdict.setText(
            f"{title} — {'PASS' if passed else 'FAIL'} ({p.label}, {minutes:.1f} min)"
        )
        self.verdict.setStyleSheet(f"color: {colour}; font-weight: 700; font-size: 12pt;")
        for col, head in enumerate(("Measure", "Value", "Limit", "")):
            label = QLabel(head)
            label.setStyleSheet(f"color: {MUTED}; font-weight: 600;")
            self.grid.addWidget(label, 0, col)
        for i, (name, value, limit, ok) in enumerate(self.rows, start=1):
            self.grid.addWidget(QLabel(name), i, 0)
            self.grid.addWidget(QLabel(value), i, 1)
            self.grid.addWidget(QLabel(limit), i, 2)
            mark = QLabel("✓" if ok else "✗")
            mark.setStyleSheet(f"color: {PASS if ok else FAIL}; font-weight: 700;")
            self.grid.addWidget(mark, i, 3)
        problems = report.get("problems") or []
        if problems:
            self.problems.setText("Problems: " + "; ".join(str(x) for x in problems))
            self.problems.setStyleSheet(f"color: {FAIL};")
