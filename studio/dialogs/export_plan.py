"""What an export will write, listed before it starts (names follow the exporter's rules)."""

from __future__ import annotations

from pipelines.audio.export import safe_filename
from pipelines.store import Project


def planned_files(project: Project, *, m4b: bool, mp3: bool) -> list[str]:
    book = project.load_book(with_blocks=False)
    titles = [c.title.strip() or f"Chapter {i}" for i, c in enumerate(book.body, start=1)]
    items = ["Opening Credits", *titles, "Closing Credits"]
    width = max(2, len(str(len(items))))
    names: list[str] = []
    if mp3:
        names += [f"{n:0{width}d} - {safe_filename(t)}.mp3" for n, t in enumerate(items)]
    if m4b:
        names.append(f"{safe_filename(book.title)}.m4b")
    names += ["sample.mp3", "captions (.srt and .vtt) for each chapter", "export.json"]
    return names
