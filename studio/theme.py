"""The studio's look: Fusion style, a calm light palette and one accent colour."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#2f6fdf"
PASS = "#1f8a4c"
FAIL = "#c0392b"
MUTED = "#6b7280"
TEXT = "#111827"
DISABLED_TEXT = "#9ca3af"

STYLE = f"""
QMainWindow, QDialog {{ background: #f6f7f9; }}
QToolBar {{ background: #ffffff; border: none; border-bottom: 1px solid #e3e6ea; spacing: 6px;
    padding: 4px 8px; }}
QToolBar QToolButton {{ padding: 5px 10px; border-radius: 6px; }}
QToolBar QToolButton:hover {{ background: #eef2fb; }}
QToolBar QToolButton:disabled {{ color: {DISABLED_TEXT}; }}
QToolBar QToolButton:disabled:hover {{ background: transparent; }}
QToolBar QToolButton#qt_toolbar_ext_button {{ padding: 0px; border: 1px solid #c9ced6;
    border-radius: 4px; background: #ffffff; }}
QTabWidget::pane {{ border: none; background: #f6f7f9; }}
QTabBar::tab {{ padding: 8px 18px; margin-right: 2px; border: none; color: #4b5563;
    background: transparent; font-weight: 600; }}
QTabBar::tab:selected {{ color: {ACCENT}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover {{ color: #111827; }}
QGroupBox {{ background: #ffffff; border: 1px solid #e3e6ea; border-radius: 8px;
    margin-top: 14px; padding: 12px 10px 10px 10px; font-weight: 600; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; color: #374151; }}
QTableView, QTreeView, QListView, QPlainTextEdit, QTextEdit {{ background: #ffffff;
    border: 1px solid #e3e6ea; border-radius: 6px; selection-background-color: #dbe6fb;
    selection-color: #111827; }}
QHeaderView::section {{ background: #f3f4f6; border: none; border-bottom: 1px solid #e3e6ea;
    padding: 5px 6px; font-weight: 600; color: #374151; }}
QLineEdit, QComboBox {{ background: #ffffff; border: 1px solid #d1d5db;
    border-radius: 5px; padding: 4px 6px; min-height: 20px; }}
QComboBox::drop-down {{ border: none; width: 22px; }}
QLineEdit:focus, QComboBox:focus {{ border: 1px solid {ACCENT}; }}
QSpinBox, QDoubleSpinBox {{ min-height: 24px; }}
QListWidget::item {{ padding: 8px 6px; border-bottom: 1px solid #f0f1f4; }}
QPushButton {{ background: #ffffff; border: 1px solid #d1d5db; border-radius: 6px;
    padding: 5px 12px; min-height: 20px; }}
QPushButton:hover {{ background: #f3f6fc; border-color: #b8c4dc; }}
QPushButton:disabled {{ color: #9ca3af; background: #f3f4f6; }}
QPushButton[primary="true"] {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT};
    font-weight: 600; }}
QPushButton[primary="true"]:hover {{ background: #285fc0; }}
QPushButton[primary="true"]:disabled {{ background: #9db8ea; border-color: #9db8ea; }}
QProgressBar {{ border: 1px solid #d1d5db; border-radius: 5px; background: #eef0f3;
    text-align: center; min-height: 16px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
QStatusBar {{ background: #ffffff; border-top: 1px solid #e3e6ea; color: #374151; }}
QLabel[role="title"] {{ font-size: 22pt; font-weight: 700; color: #111827; }}
QLabel[role="subtitle"] {{ font-size: 11pt; color: {MUTED}; }}
QLabel[role="heading"] {{ font-size: 12pt; font-weight: 700; color: #111827; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="warning"] {{ background: #fff7e6; border: 1px solid #f3c969; border-radius: 6px;
    padding: 6px 8px; color: #7a4b00; }}
QLabel[role="error"] {{ background: #fdecea; border: 1px solid #f5b7b1; border-radius: 6px;
    padding: 6px 8px; color: #8e1f14; }}
QFrame[role="card"] {{ background: #ffffff; border: 1px solid #e3e6ea; border-radius: 10px; }}
QFrame[role="dropzone"] {{ background: #ffffff; border: 2px dashed #b8c4dc; border-radius: 12px; }}
QFrame[role="dropzone"][active="true"] {{ border-color: {ACCENT}; background: #eef3fd; }}
QSplitter::handle {{ background: transparent; }}
QFrame[role="banner"] {{ background: #fdecea; border: 1px solid #f5b7b1; border-radius: 8px; }}
QFrame[role="banner"] QLabel {{ color: #8e1f14; background: transparent; border: none; }}
/* Tab moves on to the next control, as everywhere else; arrows move within a table. */
QAbstractItemView {{ qproperty-tabKeyNavigation: false; }}
"""


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#f6f7f9"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f8f9fb"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#dbe6fb"))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#111827"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#111827"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#111827"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#111827"))
    # setColor(role, …) sets every group, Disabled too: greyed actions must read as greyed.
    disabled = QPalette.ColorGroup.Disabled
    for role in (
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.HighlightedText,
    ):
        palette.setColor(disabled, role, QColor(DISABLED_TEXT))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    app.setFont(font)
    app.setStyleSheet(STYLE)


def set_role(widget: object, role: str) -> None:
    """Tag a widget for the style sheet (title, muted, warning, card ...)."""
    widget.setProperty("role", role)  # type: ignore[attr-defined]
