"""The core stays headless: nothing under pipelines/ may import Qt, qasync or the GUI package."""

from __future__ import annotations

import ast
import re
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


# SQL lives in pipelines/store/ only: string literals that read as SQL statements, anywhere else.
SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(TABLE|INDEX)|ALTER\s+TABLE|PRAGMA)\b",
    re.IGNORECASE | re.DOTALL,
)


def _sql_literals(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # an f-string: its fixed parts around "{...}"
            text = "x".join(v.value if isinstance(v, ast.Constant) else "" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if SQL.match(text):
            found.append(node.lineno)
    return sorted(set(found))


def test_no_sql_outside_the_store() -> None:
    code = [*ROOT.rglob("*.py"), *(ROOT.parent / "studio").rglob("*.py")]
    store = ROOT / "store"
    offenders = {
        str(p.relative_to(ROOT.parent)): lines
        for p in sorted(code)
        if store not in p.parents and (lines := _sql_literals(p))
    }
    assert offenders == {}


def test_the_sql_check_catches_a_query(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        'a = db.query("SELECT title FROM chapters WHERE id = ?")\nb = f"SELECT {c} FROM t"\n',
        encoding="utf-8",
    )
    assert _sql_literals(bad) == [1, 2]
    assert _sql_literals(ROOT / "store" / "renders.py")  # the store's own queries are found
