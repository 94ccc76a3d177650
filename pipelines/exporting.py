"""Export a rendered project: credits, per-chapter MP3s, one M4B, captions and a retail sample."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from pipelines.audio.assemble import Span
from pipelines.audio.export import BookExport, ChapterAudio, export_book
from pipelines.audio.profiles import get_profile
from pipelines.cast import narrator_voice
from pipelines.engines.registry import resolve_voice
from pipelines.errors import StudioError
from pipelines.render.service import RenderService
from pipelines.store import Project


def credits_text(title: str, author: str, narrator: str) -> tuple[list[str], list[str]]:
    """What the opening and closing credits say (ACX asks for title, author and narrator)."""
    by = f"Written by {author}." if author else ""
    read = f"Narrated by {narrator}." if narrator else ""
    opening = [p for p in (f"{title}.", by, read) if p]
    closing = [p for p in ("The End.", f"You have been listening to {title}.", by, read) if p]
    return opening, closing


def export_project(
    project: Project,
    out_dir: Path,
    *,
    m4b: bool = True,
    mp3: bool = True,
    voice_spec: str | None = None,
    progress: Callable[[float], None] | None = None,
    service: RenderService | None = None,
) -> list[Path]:
    book = project.load_book(with_blocks=False)
    rows = {
        r["chapter_id"]: r
        for r in project.query("SELECT chapter_id, wav, spans, duration_s FROM renders")
    }
    included = [c for c in book.chapters if c.included]
    if not included:
        raise StudioError(project.root, "every chapter is excluded", "Include at least one.")
    missing = [
        str(i)
        for i, c in enumerate(book.chapters, start=1)
        if c.included and (c.id not in rows or not (project.root / rows[c.id]["wav"]).is_file())
    ]
    if missing:
        raise StudioError(
            project.root,
            f"chapters {', '.join(missing)} are not rendered yet",
            f"Run: audiobook-studio render {project.root}",
        )
    voice = narrator_voice(project, voice_spec)
    _, voice_info = resolve_voice(voice)
    narrator = book.narrator or f"{voice_info.name} (synthetic voice)"
    opening_text, closing_text = credits_text(book.title, book.author, narrator)
    settings = project.get_setting("narrator_settings", {}) or {}
    # The credits reuse the caller's synthesis workers when it has some (`make`).
    with nullcontext(service) if service else RenderService(project) as renderer:
        opening = renderer.render_clip("opening-credits", opening_text, voice, settings)
        closing = renderer.render_clip("closing-credits", closing_text, voice, settings)
    chapters = [
        ChapterAudio(
            title=c.title,
            wav=project.root / rows[c.id]["wav"],
            spans=[
                Span(s["start"], s["end"], s["text"], s.get("voice", ""))
                for s in json.loads(rows[c.id]["spans"])
            ],
        )
        for c in included
    ]
    export = BookExport(
        title=book.title,
        author=book.author,
        narrator=narrator,
        year=book.year,
        genre=book.genre,
        description=book.description,
        cover=project.cover_path,
        chapters=chapters,
        opening_credits=opening,
        closing_credits=closing,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = get_profile(project.get_setting("delivery_profile"))
    result = export_book(export, out_dir, m4b=m4b, mp3=mp3, profile=profile, progress=progress)
    return list(result.files)
