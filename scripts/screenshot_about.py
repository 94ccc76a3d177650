"""A screenshot of Help ▸ About into docs/screenshots/about-<w>x<h>.png.

Separate from scripts/screenshots.py, which renders a book first; this one needs nothing but the
installed engines, and runs in a throwaway home so no voice the user added shows up.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_about.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
OUT = REPO / "docs" / "screenshots"


def main() -> int:
    os.environ["AUDIOBOOK_STUDIO_HOME"] = tempfile.mkdtemp(prefix="studio-about-")

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio import theme
    from studio.dialogs.about import AboutDialog

    app = QApplication([])
    theme.apply(app)
    dialog = AboutDialog()
    dialog.show()
    OUT.mkdir(parents=True, exist_ok=True)

    def grab() -> None:
        path = OUT / f"about-{dialog.width()}x{dialog.height()}.png"
        dialog.grab().save(str(path))
        print(path.relative_to(REPO))
        dialog.close()
        app.quit()

    # Half a second of the event loop first: layouts and wrapped row heights settle.
    QTimer.singleShot(500, grab)
    app.exec()
    # The dialog goes before the application does; the other way round crashes on the way out.
    dialog.deleteLater()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
