"""Help ▸ About: the version, the licence, each engine's voices with their licences, the texts."""

from __future__ import annotations

from typing import Any

from pipelines.app.notices import LICENSE, VoiceNotice
from studio.dialogs.about import AboutDialog, TextViewer
from studio.main_window import MainWindow


def _rows(dialog: AboutDialog) -> list[list[str]]:
    table = dialog.table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_about_lists_the_piper_voice_with_its_licence(qtbot: Any, qloop: Any) -> None:
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    rows = _rows(dialog)
    joe = [r for r in rows if r[0] == "piper" and "Joe" in r[1]]
    assert joe, rows
    assert joe[0][2] == "CC0-1.0" and "NabuCasa" in joe[0][3]
    assert "GNU GPL version 3 or later" in dialog.licence_label.text()
    assert dialog.version_label.text().startswith("Version ")
    # Cloud engines are listed by their terms, never by asking the provider.
    for row in rows:
        if row[0] in ("openai", "elevenlabs"):
            assert "Terms" in row[2]


def test_the_licence_texts_open(qtbot: Any, qloop: Any) -> None:
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    assert dialog.licence_button.isEnabled() and dialog.notices_button.isEnabled()
    dialog.licence_button.click()
    dialog.notices_button.click()
    viewers = [v for v in dialog.findChildren(TextViewer) if v.isVisible()]
    texts = {v.windowTitle(): v.text.toPlainText() for v in viewers}
    licence = next(t for title, t in texts.items() if "GPL" in title)
    assert "GNU GENERAL PUBLIC LICENSE" in licence and "Version 3, 29 June 2007" in licence
    notices = next(t for title, t in texts.items() if "Third-party" in title)
    assert "Distribution: piper-tts" in notices and 'Piper voice "joe"' in notices
    for viewer in viewers:
        viewer.close()


def test_missing_texts_do_not_break_it(qtbot: Any, qloop: Any) -> None:
    rows = [VoiceNotice("piper", "Joe", "CC0-1.0", "someone")]
    dialog = AboutDialog(notices=lambda: rows, find=lambda _name: None)
    qtbot.addWidget(dialog)
    assert _rows(dialog) == [["piper", "Joe", "CC0-1.0", "someone"]]
    assert not dialog.licence_button.isEnabled() and not dialog.notices_button.isEnabled()
    viewer = dialog.open_text(LICENSE)
    assert "not part of this installation" in viewer.text.toPlainText()
    viewer.close()


def test_help_menu_opens_about(window: MainWindow, qtbot: Any) -> None:
    help_menu = next(
        a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help"
    )
    titles = [a.text() for a in help_menu.actions()]  # type: ignore[union-attr]
    assert "About Audiobook Studio" in titles
    assert sum(a.text().replace("&", "") == "Help" for a in window.menuBar().actions()) == 1
    window.actions_by_name["about"].trigger()
    dialog = window.about_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "About Audiobook Studio"
    dialog.close()
