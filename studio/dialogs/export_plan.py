"""What an export will write, listed before it starts.

The names come from the exporter's own planner (`pipelines.audio.export.plan_files`), fed what
`export_project` will give the exporter: the included chapters, both credits, a sample and
captions, the project's delivery profile. Rendered chapters bring their lengths (which decide
any split into parts) and whether they have timings for captions.
"""

from __future__ import annotations

from pipelines.app.delivery import delivery_profile
from pipelines.audio.export import plan_files
from pipelines.store import Project
from pipelines.store.renders import all_renders


def planned_files(project: Project, *, m4b: bool, mp3: bool) -> list[str]:
    book = project.load_book(with_blocks=False)
    rows = all_renders(project)
    renders = [rows.get(c.id) if c.id is not None else None for c in book.body]
    return plan_files(
        book.title,
        [c.title for c in book.body],
        chapter_seconds=[r.duration_s if r is not None else None for r in renders],
        chapter_captioned=[bool(r.spans) if r is not None else True for r in renders],
        m4b=m4b,
        mp3=mp3,
        profile=delivery_profile(project),
    )
