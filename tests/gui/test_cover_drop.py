"""Covers in other formats are converted; refused ones are explained."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from pipelines.core.errors import StudioError
from studio.panels.metadata import prepare_cover


def test_svg_is_rasterized_to_a_square_png(qtbot: object, tmp_path: Path) -> None:
    svg = tmp_path / "c.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">'
        '<rect width="100" height="50" fill="red"/></svg>'
    )
    out = prepare_cover(svg, tmp_path)
    image = QImage(str(out))
    assert out.suffix == ".png" and image.width() == image.height() == 3000


def test_unknown_file_is_refused_with_reason(qtbot: object, tmp_path: Path) -> None:
    with pytest.raises(StudioError) as info:
        prepare_cover(tmp_path / "notes.txt", tmp_path)
    assert "notes.txt" in info.value.problem and "SVG" in info.value.fix
