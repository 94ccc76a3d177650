"""A widget probe for driving the studio from outside, the way UI-automation tools do.

With `AUDIOBOOK_STUDIO_PROBE=<path.json>` set, the studio writes a snapshot of what is on screen to
that file every few hundred milliseconds: each visible widget that has a name, an accessible name
or a text (buttons, tabs, labels, fields, the visible rows of tables and lists, the paragraphs of
text views), with its class, enabled state and global screen rectangle, and the titles of the
windows and dialogs that are open. A script (scripts/walkthrough.py) reads it to find where to
click with real X input events; nothing in the snapshot is read back into the studio.

Without the variable nothing here is imported or run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRect, QTimer
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

log = logging.getLogger(__name__)

ENV = "AUDIOBOOK_STUDIO_PROBE"
INTERVAL_MS = 300
MAX_ROWS = 200  # rows of one table or list: enough for what fits on a screen
MAX_TEXT = 400  # characters of one text, so a whole chapter is not copied 3 times a second


def _qt_class(widget: QWidget) -> str:
    """The Qt class a widget is built on (QLabel for the studio's own label kinds), so a script
    finds it by what it is, whatever subclass draws it."""
    meta = widget.metaObject()
    while meta is not None and not meta.className().startswith("Q"):
        meta = meta.superClass()
    return meta.className() if meta is not None else type(widget).__name__


def _rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def _global(widget: QWidget, local: QRect) -> QRect:
    return QRect(widget.mapToGlobal(local.topLeft()), local.size())


def _visible_rect(widget: QWidget) -> QRect:
    """The part of `widget` its ancestors do not clip (a scroll area, a splitter), global."""
    shown = _global(widget, widget.rect())
    parent = widget.parentWidget()
    while parent is not None:
        shown = shown.intersected(_global(parent, parent.rect()))
        if parent.isWindow():
            break
        parent = parent.parentWidget()
    screen = widget.screen()
    # A window larger than the screen (no window manager to clamp it) has parts nobody sees.
    return shown.intersected(screen.geometry()) if screen is not None else shown


def _ancestors(widget: QWidget, depth: int = 4) -> list[str]:
    """The classes of the nearest ancestors: tells a page's own scroll bars from a text view's."""
    out: list[str] = []
    parent = widget.parentWidget()
    while parent is not None and len(out) < depth:
        out.append(type(parent).__name__)
        parent = parent.parentWidget()
    return out


def _text_of(widget: QWidget) -> str:
    if isinstance(widget, QAbstractButton):
        return widget.text()
    if isinstance(widget, QLabel):
        return widget.text()
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QGroupBox):
        return widget.title()
    if isinstance(widget, QAbstractSpinBox):
        return widget.text()
    if isinstance(widget, QProgressBar):
        return widget.text()
    return ""


def _entry(widget: QWidget, window: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "class": type(widget).__name__,
        "qt_class": _qt_class(widget),
        "name": widget.objectName(),
        "accessible": widget.accessibleName(),
        "text": _text_of(widget)[:MAX_TEXT],
        "enabled": widget.isEnabled(),
        "focus": widget.hasFocus(),
        "window": window,
        "rect": _rect(_global(widget, widget.rect())),
        "visible": _rect(_visible_rect(widget)),
        "path": _ancestors(widget),
    }
    tip = widget.toolTip()
    if tip:
        entry["tooltip"] = tip[:MAX_TEXT]
    if isinstance(widget, QAbstractButton) and widget.isCheckable():
        entry["checked"] = widget.isChecked()
    if isinstance(widget, (QProgressBar, QAbstractSlider)):
        entry["value"] = [widget.value(), widget.minimum(), widget.maximum()]
    if isinstance(widget, QComboBox):
        entry["items"] = [widget.itemText(i) for i in range(min(widget.count(), MAX_ROWS))]
    return entry


def _tabs(bar: QTabBar, window: str) -> list[dict[str, Any]]:
    return [
        {
            "class": "tab",
            "text": bar.tabText(i).replace("&&", "&"),
            "enabled": bar.isTabEnabled(i),
            "current": bar.currentIndex() == i,
            "window": window,
            "rect": _rect(_global(bar, bar.tabRect(i))),
            "visible": _rect(_global(bar, bar.tabRect(i)).intersected(_visible_rect(bar))),
        }
        for i in range(bar.count())
    ]


def _rows(view: QAbstractItemView, window: str, owner: int) -> list[dict[str, Any]]:
    """The first rows of a table or list: each row's cell texts, rectangle and visible part."""
    model = view.model()
    if model is None:
        return []
    port = view.viewport()
    shown = _visible_rect(port)
    root = view.rootIndex()  # a file dialog shows one folder, not the model's top
    try:
        columns = model.columnCount(root)
    except TypeError:  # a list model's columnCount is private in PySide: one column
        columns = 1
    selection = view.selectionModel()
    out: list[dict[str, Any]] = []
    for row in range(model.rowCount(root)):
        box = view.visualRect(model.index(row, 0, root))
        for col in range(1, columns):
            box = box.united(view.visualRect(model.index(row, col, root)))
        # Rows scrolled out of sight are listed too (with an empty "visible"): a script can tell
        # a row that exists from one that is on screen.
        cells = [str(model.index(row, c, root).data() or "") for c in range(columns)]
        out.append(
            {
                "class": "row",
                "view": owner,
                "row": row,
                "cells": [c[:MAX_TEXT] for c in cells],
                "text": " | ".join(c for c in cells if c)[:MAX_TEXT],
                "selected": bool(selection and selection.isRowSelected(row, root)),
                "window": window,
                "rect": _rect(_global(port, box)),
                "visible": _rect(_global(port, box).intersected(shown)),
            }
        )
        if len(out) >= MAX_ROWS:
            break
    return out


def _paragraphs(view: QTextEdit | QPlainTextEdit, window: str, owner: int) -> list[dict[str, Any]]:
    """The blocks (paragraphs) of a text view that are on screen, with their rectangles."""
    doc: QTextDocument = view.document()
    port = view.viewport()
    area = port.rect()
    shown = _visible_rect(port)
    layout = doc.documentLayout()
    dx = view.horizontalScrollBar().value()
    dy = view.verticalScrollBar().value()
    out: list[dict[str, Any]] = []
    block = doc.begin()
    number = 0
    while block.isValid():
        number += 1
        box = layout.blockBoundingRect(block).toRect().translated(-dx, -dy)
        if isinstance(view, QPlainTextEdit):
            box = view.blockBoundingGeometry(block).translated(view.contentOffset()).toRect()
        if box.top() > area.bottom():
            break
        if box.intersects(area) and block.text().strip():
            out.append(
                {
                    "class": "paragraph",
                    "view": owner,
                    "block": number,
                    "text": block.text()[:MAX_TEXT],
                    "window": window,
                    "rect": _rect(_global(port, box)),
                    "visible": _rect(_global(port, box).intersected(shown)),
                }
            )
        block = block.next()
    return out


def snapshot(app: QApplication) -> dict[str, Any]:
    """What is on screen now, as plain data."""
    windows: list[dict[str, Any]] = []
    widgets: list[dict[str, Any]] = []
    for top in app.topLevelWidgets():
        if not top.isVisible():
            continue
        title = top.windowTitle()
        windows.append(
            {
                "title": title,
                "class": type(top).__name__,
                "qt_class": _qt_class(top),
                "modal": top.isModal(),
                "active": top.isActiveWindow(),
                "rect": _rect(top.frameGeometry()),
            }
        )
        if isinstance(top, QMainWindow):
            widgets.append(
                {
                    "class": "statusbar",
                    "text": top.statusBar().currentMessage()[:MAX_TEXT],
                    "enabled": True,
                    "window": title,
                    "rect": _rect(_global(top.statusBar(), top.statusBar().rect())),
                }
            )
        for widget in [top, *top.findChildren(QWidget)]:
            if not widget.isVisible():
                continue
            ident = id(widget)
            if isinstance(widget, QTabBar):
                widgets += _tabs(widget, title)
                continue
            entry = _entry(widget, title)
            named = entry["name"] or entry["accessible"] or entry["text"]
            if isinstance(widget, QAbstractItemView):
                entry["id"] = ident
                widgets.append(entry)
                widgets += _rows(widget, title, ident)
            elif isinstance(widget, (QTextEdit, QPlainTextEdit)):
                entry["id"] = ident
                entry["text"] = widget.toPlainText()[:MAX_TEXT]
                widgets.append(entry)
                widgets += _paragraphs(widget, title, ident)
            elif named or isinstance(
                widget,
                (QAbstractButton, QComboBox, QLineEdit, QAbstractSlider, QAbstractScrollArea),
            ):
                widgets.append(entry)
    active = app.activeWindow()
    modal = app.activeModalWidget()
    popup = app.activePopupWidget()
    focus = app.focusWidget()
    return {
        "time": time.time(),
        "pid": os.getpid(),
        "active_window": active.windowTitle() if active is not None else None,
        "modal": modal.windowTitle() if modal is not None else None,
        "popup": type(popup).__name__ if popup is not None else None,
        "focus": (
            {"class": type(focus).__name__, "text": _text_of(focus)[:MAX_TEXT]}
            if focus is not None
            else None
        ),
        "windows": windows,
        "widgets": widgets,
    }


def write_snapshot(app: QApplication, path: Path) -> None:
    """Write the snapshot to `path` atomically: a reader never sees half a file."""
    data = json.dumps(snapshot(app), ensure_ascii=False)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, path)


class Probe(QObject):
    """Writes the snapshot every `interval_ms` while the application runs."""

    def __init__(self, app: QApplication, path: Path, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(app)
        self.app = app
        self.path = path
        self.failed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.write)
        self.timer.start()

    def write(self) -> None:
        try:
            write_snapshot(self.app, self.path)
        except Exception as exc:  # a widget deleted mid-walk: the next tick catches up
            if not self.failed:  # said once, so a lasting fault does not flood the log
                log.warning("probe snapshot failed: %s", exc, exc_info=exc)
            self.failed = True


def start_from_environment(app: QApplication) -> Probe | None:
    """The probe, when `AUDIOBOOK_STUDIO_PROBE` names a file; otherwise None."""
    target = os.environ.get(ENV, "").strip()
    if not target:
        return None
    return Probe(app, Path(target))
