"""The core stays headless: nothing under pipelines/ may import Qt, qasync or the GUI package."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"PySide6", "qasync", "studio", "shiboken6"}
ROOT = Path(__file__).resolve().parents[2] / "pipelines"


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_pipelines_never_imports_gui_packages() -> None:
    files = sorted(ROOT.rglob("*.py"))
    assert files, "pipelines/ has no modules"
    offenders = {
        str(p.relative_to(ROOT.parent)): sorted(_imported_roots(p) & FORBIDDEN)
        for p in files
        if _imported_roots(p) & FORBIDDEN
    }
    assert offenders == {}


def test_the_check_catches_a_gui_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from PySide6.QtCore import QObject\n", encoding="utf-8")
    assert _imported_roots(bad) & FORBIDDEN == {"PySide6"}
