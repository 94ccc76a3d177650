"""Export a rendered project: credits, per-chapter MP3s, one M4B, captions and a retail sample."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipelines.app.delivery import delivery_profile
from pipelines.audio.assemble import Span
from pipelines.audio.export import BookExport, ChapterAudio, export_book
from pipelines.cast.narrator import narrator_voice
from pipelines.cast.voices import voice_settings
from pipelines.core.errors import StudioError
from pipelines.core.model import Book
from pipelines.engines.registry import resolve_voice
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.renders import all_renders


def credits_text(title: str, author: str, narrator: str) -> tuple[list[str], list[str]]:
    """What the opening and closing credits say (ACX asks for title, author and narrator)."""
    by = f"Written by {author}." if author else ""
    read = f"Narrated by {narrator}." if narrator else ""
    opening = [p for p in (f"{title}.", by, read) if p]
    closing = [p for p in ("The End.", f"You have been listening to {title}.", by, read) if p]
    return opening, closing


def _narrator(project: Project, book: Book, voice_spec: str | None) -> str:
    voice = narrator_voice(project, voice_spec)
    _, voice_info = resolve_voice(voice)
    return book.narrator or f"{voice_info.name} (synthetic voice)"


def render_credits(
    project: Project, renderer: RenderService, voice_spec: str | None = None
) -> tuple[Path, Path]:
    """The opening and closing credits, mastered, in the narrator's voice."""
    book = project.load_book(with_blocks=False)
    voice = narrator_voice(project, voice_spec)
    opening_text, closing_text = credits_text(
        book.title, book.author, _narrator(project, book, voice_spec)
    )
    settings = voice_settings(project)
    opening = renderer.render_clip("opening-credits", opening_text, voice, settings)
    closing = renderer.render_clip("closing-credits", closing_text, voice, settings)
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
    credits: tuple[Path, Path] | None = None,
) -> list[Path]:
    """Export the rendered book into `out_dir`. The credits are rendered with `service`'s
    synthesis workers when given (`make`), unless `credits` already holds them."""
    book = project.load_book(with_blocks=False)
    rows = all_renders(project)
    included = [c for c in book.chapters if c.included]
    if not included:
        raise StudioError(project.root, "every chapter is excluded", "Include at least one.")
    missing = [
        str(i)
        for i, c in enumerate(book.chapters, start=1)
        if c.included and (c.id not in rows or not (project.root / rows[c.id or 0].wav).is_file())
    ]
    if missing:
        raise StudioError(
            project.root,
            f"chapters {', '.join(missing)} are not rendered yet",
            f"Run: audiobook-studio render {project.root}",
        )
    if credits is None:
        if service is not None:
            credits = render_credits(project, service, voice_spec)
        else:
            with RenderService(project) as renderer:
                credits = render_credits(project, renderer, voice_spec)
    opening, closing = credits
    narrator = _narrator(project, book, voice_spec)
    chapters = [
        ChapterAudio(
            title=c.title,
            wav=project.root / rows[c.id or 0].wav,
            spans=[
                Span(s["start"], s["end"], s["text"], s.get("voice", ""))
                for s in rows[c.id or 0].spans
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
    profile = delivery_profile(project)
    result = export_book(export, out_dir, m4b=m4b, mp3=mp3, profile=profile, progress=progress)
    return list(result.files)
