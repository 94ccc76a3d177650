"""What an export will write, listed before it starts, and where it goes by default.

The names come from the exporter's own planner (`pipelines.audio.export.plan_files`), fed what
`export_project` will give the exporter: the included chapters, both credits, a sample and
captions, the project's delivery profile. Rendered chapters bring their lengths (which decide
any split into parts) and whether they have timings for captions.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.app.delivery import delivery_profile
from pipelines.audio.export import plan_files
from pipelines.audio.names import safe_filename
from pipelines.core import paths
from pipelines.store import Project
from pipelines.store.renders import all_renders


def planned_files(
    project: Project, *, m4b: bool, mp3: bool, only_rendered: bool = False
) -> list[str]:
    """The files an export will write; with `only_rendered` (a proof copy), only the chapters
    that have audio are counted."""
    book = project.load_book(with_blocks=False)
    rows = all_renders(project)
    body = book.body
    renders = [rows.get(c.id) if c.id is not None else None for c in body]
    if only_rendered:
        kept = [
            (c, r)
            for c, r in zip(body, renders, strict=True)
            if r and (project.root / r.wav).is_file()
        ]
        body, renders = [c for c, _ in kept], [r for _, r in kept]
    return plan_files(
        book.title,
        [c.title for c in body],
        chapter_seconds=[r.duration_s if r is not None else None for r in renders],
        chapter_captioned=[bool(r.spans) if r is not None else True for r in renders],
        m4b=m4b,
        mp3=mp3,
        profile=delivery_profile(project),
    )


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def default_output_dir(project: Project, title: str, manuscript_dir: Path | None = None) -> Path:
    """Where a book's export goes when the author has not chosen: `<folder> / <title> audiobook`
    beside the manuscript (or, since a project records only its copy of it, beside a project
    folder the author placed there), else `~/Audiobooks/<title>` when that folder is the
    studio's own data folder or cannot be written to."""
    name = safe_filename(title.strip() or "Untitled")
    beside = manuscript_dir
    if beside is None:
        parent = project.root.resolve().parent
        ours = paths.projects_dir().resolve()
        if parent != ours and ours not in parent.parents:
            beside = parent
    if beside is not None and _writable(beside):
        return beside / f"{name} audiobook"
    return Path.home() / "Audiobooks" / name
