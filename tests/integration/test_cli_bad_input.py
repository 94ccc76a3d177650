"""Bad manuscripts through the real command: one line naming the file, exit 2, nothing changed."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.manuscript import MAX_BYTES
from tests.pdf_factory import Picture, pdf_bytes

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args], capture_output=True, text=True, check=False
    )


def corrupt_epub(d: Path, corpus: Path) -> Path:
    p = d / "corrupt.epub"
    p.write_bytes(b"PK\x03\x04 this is not really a zip archive" * 50)
    return p


def truncated_epub(d: Path, corpus: Path) -> Path:
    data = (corpus / "doyle_the-adventures-of-sherlock-holmes.epub").read_bytes()
    p = d / "truncated.epub"
    p.write_bytes(data[: len(data) // 2])
    return p


def drm_epub(d: Path, corpus: Path) -> Path:
    p = d / "protected.epub"
    shutil.copy(corpus / "doyle_the-adventures-of-sherlock-holmes.epub", p)
    with zipfile.ZipFile(p, "a") as z:
        z.writestr("META-INF/rights.xml", "<rights xmlns='http://ns.adobe.com/adept'/>")
    return p


def truncated_docx(d: Path, corpus: Path) -> Path:
    data = (corpus / "thoreau_walden.docx").read_bytes()
    p = d / "truncated.docx"
    p.write_bytes(data[: len(data) // 3])
    return p


def image_only_pdf(d: Path, corpus: Path) -> Path:
    p = d / "scanned.pdf"
    p.write_bytes(pdf_bytes([[Picture()], [Picture()]]))
    return p


def empty_txt(d: Path, corpus: Path) -> Path:
    p = d / "empty.txt"
    p.write_bytes(b"")
    return p


def binary_txt(d: Path, corpus: Path) -> Path:
    p = d / "photo.txt"
    p.write_bytes(bytes(range(256)) * 64)
    return p


def huge_txt(d: Path, corpus: Path) -> Path:
    p = d / "huge.txt"
    with p.open("wb") as fh:  # sparse: the size check must refuse it before reading
        fh.truncate(MAX_BYTES + 1)
    return p


CASES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "corrupt epub": (corrupt_epub, "damaged|not a valid|corrupt"),
    "truncated epub": (truncated_epub, "damaged|truncated"),
    "drm epub": (drm_epub, "DRM"),
    "truncated docx": (truncated_docx, "damaged|truncated|corrupt"),
    "image-only pdf": (image_only_pdf, "OCR"),
    "empty file": (empty_txt, "empty"),
    "binary as txt": (binary_txt, "not a text file"),
    "over the size limit": (huge_txt, "limit"),
}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    assert run("import", str(SAMPLE), "--project", str(root)).returncode == 0
    return root


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_in_one_line_and_changes_nothing(
    case: str, tmp_path: Path, corpus_dir: Path, project: Path
) -> None:
    make, expected = CASES[case]
    bad = make(tmp_path, corpus_dir)
    chapters_before = run("chapters", str(project), "--json").stdout
    before = digest(project)

    for args in (["inspect", str(bad), "--json"], ["import", str(bad), "--project", str(project)]):
        result = run(*args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert str(bad) in lines[0]
        assert "Traceback" not in result.stderr
        assert re.search(expected, lines[0], re.IGNORECASE), lines[0]
        assert result.stdout == ""

    assert digest(project) == before
    assert run("chapters", str(project), "--json").stdout == chapters_before
    fresh = tmp_path / "fresh-project"
    assert run("import", str(bad), "--project", str(fresh)).returncode == 2
    assert not fresh.exists()
