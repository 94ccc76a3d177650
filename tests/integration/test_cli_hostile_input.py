"""Hostile manuscripts through the real command: a zip bomb is refused in one line (exit 2); a
manuscript with stray control characters is read, with one warning line on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.epub_factory import Doc, Toc, write_epub
from tests.unit.test_manuscript_hostile_input import forge_size

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args], capture_output=True, text=True, check=False
    )


def test_epub_bomb_is_refused_in_one_line(tmp_path: Path) -> None:
    path = write_epub(
        tmp_path / "bomb.epub",
        [Doc("text/c.xhtml", "<h1>One</h1><p>Text.</p>")],
        [Toc("One", "text/c.xhtml")],
        extra_files={"OEBPS/images/huge.png": b"x" * 1000},
    )
    forge_size(path, "OEBPS/images/huge.png", 1536 * 2**20)
    result = run("inspect", str(path), "--json")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"error: {path}: the archive expands to 1.5 GB")
    assert result.stdout == ""


def test_stray_nul_is_read_with_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "novel.txt"
    path.write_bytes(b"Chapter 1\n\nIt was a dark\x00 and stormy night.\n")
    result = run("inspect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [c["title"] for c in summary["chapters"]] == ["Chapter 1"]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"warning: {path}: removed 1 control character (NUL)")
