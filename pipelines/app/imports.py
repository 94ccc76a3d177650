"""Import a manuscript into a project folder: parse fully first, then write, so a bad file
changes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.core import paths
from pipelines.core.checksums import file_sha256
from pipelines.core.model import Book
from pipelines.manuscript import load_book
from pipelines.store import Project, settings, slugify


def default_project_dir(book: Book, source: Path) -> Path:
    return paths.projects_dir() / slugify(book.title or source.stem)


def import_manuscript(source: str | Path, project_dir: str | Path | None = None) -> Project:
    """Create a project from `source`, or update the one at `project_dir` with a new import."""
    source = Path(source)
    book = load_book(source)  # raises ManuscriptError before anything is written
    root = Path(project_dir) if project_dir else default_project_dir(book, source)
    created = not Project.is_project(root)
    root_existed = root.exists()
    try:
        project = Project.open(root, create=True)
        project.save_book(book, source=source, source_sha256=file_sha256(source))
        if created:
            _choose_narrator(project)
    except BaseException:
        if created and not root_existed:
            shutil.rmtree(root, ignore_errors=True)
        raise
    from pipelines.core import recent

    recent.remember(root)
    return project


def _choose_narrator(project: Project) -> None:
    """A new book is narrated by Kokoro when its model is installed. The choice is stored, so
    installing a voice later never changes the voice of a book half rendered; Piper, the
    fallback, needs nothing stored."""
    from pipelines.engines.defaults import default_narrator
    from pipelines.engines.registry import DEFAULT_VOICE

    narrator = default_narrator()
    if narrator != DEFAULT_VOICE and not project.get_setting(settings.NARRATOR):
        project.set_setting(settings.NARRATOR, str(narrator))
