"""Render the studio's SVG icon to the PNG sizes Linux desktops (and PyInstaller) use."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
SVG = HERE.parent / "studio" / "assets" / "icon.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512)


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication([])
    renderer = QSvgRenderer(str(SVG))
    out = HERE / "icons"
    out.mkdir(exist_ok=True)
    (out / "audiobook-studio.svg").write_bytes(SVG.read_bytes())
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(out / f"audiobook-studio-{size}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
