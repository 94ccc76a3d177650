"""Chapter detection for single-stream manuscripts (TXT, Markdown, DOCX, PDF)."""

from __future__ import annotations

from pathlib import Path

from pipelines.manuscript.base import FlatManuscript
from pipelines.model import Book


def build_book(flat: FlatManuscript, path: Path) -> Book:
    """Split the block stream into chapters; set front/back matter aside with a reason."""
    raise NotImplementedError
