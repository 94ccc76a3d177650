"""The widget probe: with AUDIOBOOK_STUDIO_PROBE set, the studio writes what is on screen as JSON
(scripts/walkthrough.py finds where to click in it); without it, no probe runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from studio.main_window import MainWindow
from studio.probe import ENV, Probe, start_from_environment

pytestmark = pytest.mark.gui


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_probe_names_a_visible_button_with_its_rectangle(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "probe" / "widgets.json"
    monkeypatch.setenv(ENV, str(target))
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    probe = start_from_environment(app)
    assert isinstance(probe, Probe)
    try:
        qtbot.waitUntil(target.exists, timeout=5_000)
        snap = read(target)
    finally:
        probe.timer.stop()
        probe.deleteLater()

    titles = [w["title"] for w in snap["windows"]]
    assert "Audiobook Studio" in titles
    buttons = [
        w
        for w in snap["widgets"]
        if w.get("qt_class") == "QPushButton" and w["text"] == "Open manuscript…"
    ]
    assert len(buttons) == 1
    button = buttons[0]
    assert button["enabled"] is True
    assert button["window"] == "Audiobook Studio"
    # Its rectangle is where the button is on the screen: global, the size Qt laid it out at.
    start = window.start_page.open_button
    top_left = start.mapToGlobal(start.rect().topLeft())
    assert button["rect"] == [top_left.x(), top_left.y(), start.width(), start.height()]
    assert button["rect"][2] > 0 and button["rect"][3] > 0
    # The toolbar's actions and the recent list's head are there too, each with its own text.
    texts = {w["text"] for w in snap["widgets"]}
    assert {"Open manuscript", "Recent projects"} <= texts
    # Written atomically: no temporary file is left beside it.
    assert sorted(p.name for p in target.parent.iterdir()) == ["widgets.json"]


def test_no_probe_without_the_variable(qloop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert start_from_environment(app) is None
