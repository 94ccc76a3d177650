"""Export a rendered project: credits, per-chapter MP3s, one M4B, captions, a retail sample and,
when asked, the read-along EPUB."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.app.currency import NOT_RENDERED, ChapterCurrency, book_currency, stale_summary
from pipelines.app.delivery import delivery_profile
from pipelines.audio.assemble import Span
from pipelines.audio.export import BookExport, ChapterAudio, export_book
from pipelines.audio.readalong import WordTiming
from pipelines.cast.narrator import narrator_voice
from pipelines.cast.voices import voice_settings
from pipelines.core.errors import StudioError
from pipelines.core.files import write_text_atomic
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.engines.registry import resolve_voice
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.renders import RenderRow, all_renders
from pipelines.store.settings import SPOKEN_TITLES

log = logging.getLogger(__name__)


# How the engines are named to listeners (the rest: their id, capitalised).
ENGINE_NAMES = {
    "piper": "Piper",
    "kokoro": "Kokoro",
    "styletts2": "StyleTTS 2",
    "openai": "OpenAI",
    "elevenlabs": "ElevenLabs",
}


def digital_voice(engine: str, voice: str) -> str:
    """The narration named as what it is: "a digital voice (Piper, Joe)"."""
    engine_name = ENGINE_NAMES.get(engine, engine.capitalize())
    return (
        f"a digital voice ({engine_name}, {voice})" if voice else f"a digital voice ({engine_name})"
    )


def disclosure(digital: str) -> str:
    """The tag and credits line that says the narration is synthetic."""
    return f"Narrated by {digital}"


# Retailers' rules on synthetic (text-to-speech) narration, as shown where a profile is chosen.
SYNTHETIC_POLICY = {
    "acx": (
        "ACX (Audible) does not accept synthetic (text-to-speech) narration for standard"
        " uploads. Spotify, Google Play and Kobo accept it with disclosure."
    ),
}
SYNTHETIC_ACCEPTED = (
    "This book is narrated by a digital voice: Spotify, Google Play and Kobo accept synthetic"
    " narration with disclosure (the tags and closing credits say so)."
)


def synthetic_policy(profile_name: str) -> str:
    """What the delivery profile's retailer says about a digital voice narrating."""
    return SYNTHETIC_POLICY.get(profile_name, SYNTHETIC_ACCEPTED)


def credits_text(
    title: str, author: str, narrator: str, digital: str = ""
) -> tuple[list[str], list[str]]:
    """What the opening and closing credits say (ACX asks for title, author and narrator).

    `digital` names the synthetic voice ("a digital voice (Piper, Joe)"); the closing credits
    always say so, and the opening ones too when no narrator of its own is credited."""
    by = f"Written by {author}." if author else ""
    if digital and narrator and narrator != digital:
        read = f"Narrated by {narrator}, {digital}."
    elif digital or narrator:
        read = f"Narrated by {digital or narrator}."
    else:
        read = ""
    opening = [p for p in (f"{title}.", by, read) if p]
    closing = [p for p in ("The End.", f"You have been listening to {title}.", by, read) if p]
    return opening, closing


def _digital(project: Project, voice_spec: str | None) -> str:
    voice = narrator_voice(project, voice_spec)
    engine, voice_info = resolve_voice(voice)
    return digital_voice(getattr(engine, "name", voice.engine) or voice.engine, voice_info.name)


def _narrator(project: Project, book: Book, voice_spec: str | None) -> str:
    return book.narrator or _digital(project, voice_spec)


def render_credits(
    project: Project, renderer: RenderService, voice_spec: str | None = None
) -> tuple[Path, Path]:
    """The opening and closing credits, mastered, in the narrator's voice."""
    book = project.load_book(with_blocks=False)
    voice = narrator_voice(project, voice_spec)
    opening_text, closing_text = credits_text(
        book.title, book.author, _narrator(project, book, voice_spec), _digital(project, voice_spec)
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
    allow_stale: bool = False,
    only_rendered: bool = False,
    readalong: bool = False,
    words: Mapping[int, Sequence[WordTiming]] | None = None,
) -> list[Path]:
    """Export the rendered book into `out_dir`. The credits are rendered with `service`'s
    synthesis workers when given (`make`), unless `credits` already holds them.

    Every included chapter must be rendered and current (`app.currency`, the rule `render`
    goes by): audio older than its chapter's text, title, voice or lexicon is refused, naming
    the chapters and why, unless `allow_stale`, which exports it and lists those chapters under
    "stale_chapters" in the manifest (export.json).

    `only_rendered` makes a partial (proof) copy: included chapters with no audio yet are left
    out instead of refused, and listed under "skipped_chapters" in the manifest.

    `readalong` also writes `<title>.readalong.epub`: the chapters' text with their audio,
    highlighted sentence by sentence, or word by word for the chapters `words` (word timings
    by chapter id) covers; by default, those whose current render was proof-listened.
    """
    book = project.load_book(with_blocks=False)
    rows = all_renders(project)
    included = [c for c in book.chapters if c.included]
    if not included:
        raise StudioError(project.root, "every chapter is excluded", "Include at least one.")
    numbers = {c.id or 0: i for i, c in enumerate(book.chapters, start=1)}
    unrendered = [c for c in included if not _has_audio(project, rows, c.id)]
    if unrendered and only_rendered:
        included = [c for c in included if c not in unrendered]
        if not included:
            raise StudioError(
                project.root, "no included chapter is rendered yet", "Render one first."
            )
    elif unrendered:
        raise StudioError(
            project.root,
            f"chapters {', '.join(str(numbers[c.id or 0]) for c in unrendered)} are not"
            " rendered yet",
            f"Run: audiobook-studio render {project.root}",
        )
    override = VoiceRef.parse(voice_spec) if voice_spec else None
    if override is not None:
        resolve_voice(override)  # a typo fails here, with the list of voices
    with nullcontext(service) if service is not None else RenderService(project) as renderer:
        checked = book_currency(project, renderer, included, narrator=override)
        stale = [s for s in checked if not s.current]
        if stale and not allow_stale:
            raise stale_error(project, stale, numbers, voice_spec)
        # Only the MP3s and the M4B carry the credits: a read-along alone needs none spoken.
        if credits is None and (m4b or mp3):
            credits = render_credits(project, renderer, voice_spec)
    opening, closing = credits if credits is not None else (None, None)
    narrator = _narrator(project, book, voice_spec)
    synthetic = disclosure(_digital(project, voice_spec))
    # The renders as checked (a render landing meanwhile is not exported unchecked).
    renders = [s.render or rows[s.chapter.id or 0] for s in checked]
    texts = _written(project, included) if readalong else {}
    chapters = [
        ChapterAudio(
            title=c.title,
            wav=project.root / r.wav,
            spans=[Span(s["start"], s["end"], s["text"], s.get("voice", "")) for s in r.spans],
            blocks=texts.get(c.id or 0, []),
            key=c.id,
        )
        for c, r in zip(included, renders, strict=True)
    ]
    export = BookExport(
        title=book.title,
        author=book.author,
        narrator=narrator,
        disclosure=synthetic,
        year=book.year,
        genre=book.genre,
        description=book.description,
        language=book.language,
        cover=project.cover_path,
        chapters=chapters,
        opening_credits=opening,
        closing_credits=closing,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = delivery_profile(project)
    if words is None:  # captions and the read-along are timed by them where a proof has them
        words = proofed_word_timings(project, [c.id for c in included if c.id is not None])
    result = export_book(
        export,
        out_dir,
        m4b=m4b,
        mp3=mp3,
        readalong=readalong,
        words=words,
        profile=profile,
        progress=progress,
    )
    if stale:
        log.warning("exported stale audio: %s", stale_summary(stale, numbers))
        _flag_stale(result.manifest, stale, numbers)
    if only_rendered and unrendered:
        log.warning("proof copy: left out %d unrendered chapters", len(unrendered))
        _note(
            result.manifest,
            "skipped_chapters",
            [
                {"chapter": numbers.get(c.id or 0), "title": c.title, "reason": NOT_RENDERED}
                for c in unrendered
            ],
        )
    return list(result.files)


def _written(project: Project, chapters: list[Chapter]) -> dict[int, list[Block]]:
    """Each chapter's blocks as the read-along shows them: as written, except that a renamed
    title read in place of the opening heading (`SPOKEN_TITLES`) is shown there too."""
    wanted = {c.id for c in chapters}
    renamed: list[int] = project.get_setting(SPOKEN_TITLES)
    out: dict[int, list[Block]] = {}
    for chapter in project.chapters(with_blocks=True):
        if chapter.id is None or chapter.id not in wanted:
            continue
        blocks = list(chapter.blocks)
        if chapter.id in renamed:
            start = 0
            while start < len(blocks) and blocks[start].kind is BlockKind.HEADING:
                start += 1
            level = blocks[0].level if start else 1
            blocks = [Block(BlockKind.HEADING, chapter.title, level=level or 1), *blocks[start:]]
        out[chapter.id] = blocks
    return out


def _has_audio(project: Project, rows: dict[int, RenderRow], chapter_id: int | None) -> bool:
    row = rows.get(chapter_id or 0)
    return row is not None and (project.root / row.wav).is_file()


@dataclass(slots=True)
class ExportReadiness:
    """What stands between the book and a full export: each included chapter with no audio
    yet, and each whose audio is stale (with why), as `export_project` would judge them."""

    numbers: dict[int, int]  # chapter id -> its 1-based number in the book
    missing: list[Chapter] = field(default_factory=list)
    stale: list[ChapterCurrency] = field(default_factory=list)
    included: int = 0

    @property
    def ready(self) -> bool:
        return self.included > 0 and not self.missing and not self.stale

    @property
    def to_render(self) -> list[int]:
        """The chapter ids a render has to do before a full export, in reading order."""
        ids = {c.id for c in self.missing} | {s.chapter.id for s in self.stale}
        return sorted((i for i in ids if i is not None), key=lambda i: self.numbers.get(i, 0))


def export_readiness(project: Project, service: RenderService | None = None) -> ExportReadiness:
    """Whether `export_project` would export the whole book now, and if not, which chapters
    hold it up. Planned on a render service of its own unless given one (no workers start)."""
    book = project.load_book(with_blocks=False)
    rows = all_renders(project)
    included = [c for c in book.chapters if c.included]
    out = ExportReadiness({c.id or 0: i for i, c in enumerate(book.chapters, start=1)})
    out.included = len(included)
    out.missing = [c for c in included if not _has_audio(project, rows, c.id)]
    rendered = [c for c in included if c not in out.missing]
    if rendered:
        with nullcontext(service) if service is not None else RenderService(project) as renderer:
            out.stale = [s for s in book_currency(project, renderer, rendered) if not s.current]
    return out


def stale_error(
    project: Project,
    stale: list[ChapterCurrency],
    numbers: dict[int, int],
    voice_spec: str | None = None,
) -> StudioError:
    """The refusal to export stale audio: which chapters, why each, and the one fix."""
    one = len(stale) == 1
    voice = f" --voice {voice_spec}" if voice_spec else ""
    return StudioError(
        project.root,
        f"{'1 chapter has' if one else f'{len(stale)} chapters have'} stale audio (rendered"
        f" before a change): {stale_summary(stale, numbers)}",
        f"Run: audiobook-studio render {project.root}{voice} (it renders only"
        f" {'that chapter' if one else 'those chapters'} again)",
    )


def _flag_stale(manifest: Path, stale: list[ChapterCurrency], numbers: dict[int, int]) -> None:
    """List the stale chapters in the export's manifest, for whoever ships it."""
    _note(
        manifest,
        "stale_chapters",
        [
            {
                "chapter": numbers.get(s.chapter.id or 0),
                "title": s.chapter.title,
                "reason": s.reason,
            }
            for s in stale
        ],
    )


def _note(manifest: Path, key: str, rows: list[dict[str, object]]) -> None:
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data[key] = rows
    write_text_atomic(manifest, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def proofed_word_timings(
    project: Project, chapter_ids: Sequence[int]
) -> dict[int, list[WordTiming]]:
    """Word timings heard by proof-listening, for the chapters whose current render has them."""
    from pipelines.proof.timings import get_word_timings

    found = {cid: get_word_timings(project, cid) for cid in chapter_ids}
    return {cid: list(t) for cid, t in found.items() if t}
