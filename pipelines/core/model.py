"""The book and everything derived from it, as plain dataclasses.

Importers produce a `Book`; the store persists it; the script builder turns its chapters into
`Utterance`s; engines and the render service work on those. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

# The corpus's word definition: runs of letters/digits, inner hyphens and apostrophes keep a word
# whole, dashes split. Used for every word count the studio reports.
WORD_RE = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def count_words(text: str) -> int:
    return sum(1 for _ in WORD_RE.finditer(text))


class BlockKind(StrEnum):
    HEADING = "heading"
    PARAGRAPH = "paragraph"
    VERSE = "verse"  # one line of a poem or song; read with a line pause, not a paragraph pause
    QUOTE = "quote"  # block quotation, letter, epigraph
    SCENE_BREAK = "scene_break"  # "* * *", <hr/>: a longer pause, nothing spoken


class ChapterKind(StrEnum):
    CHAPTER = "chapter"
    PART = "part"  # a part/book divider: its heading is read, its chapters follow it
    FRONT = "front"  # title page, copyright, contents, PG header ...
    BACK = "back"  # colophon, licence, endnotes, PG footer ...


@dataclass(frozen=True, slots=True)
class SourcePos:
    """Where a block came from, so the author can find it in the original.

    `ref` names the part of the source (an EPUB document href with optional #anchor, or "" for a
    single-stream file); `line` is 1-based in text formats, `page` is 1-based in PDFs, `index` is
    the paragraph index in DOCX or the element index in an EPUB document.
    """

    ref: str = ""
    line: int | None = None
    page: int | None = None
    index: int | None = None

    def describe(self) -> str:
        parts = [self.ref] if self.ref else []
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.index is not None:
            parts.append(f"#{self.index}")
        return ", ".join(parts) or "start"


@dataclass(slots=True)
class Block:
    kind: BlockKind
    text: str
    pos: SourcePos = field(default_factory=SourcePos)
    level: int = 0  # heading level 1-6 for headings, 0 otherwise


@dataclass(slots=True)
class Chapter:
    title: str
    blocks: list[Block] = field(default_factory=list)
    kind: ChapterKind = ChapterKind.CHAPTER
    part: str | None = None  # title of the part this chapter belongs to
    included: bool = True
    excluded_reason: str | None = None  # why it was set aside (front matter, licence ...)
    pos: SourcePos = field(default_factory=SourcePos)
    id: int | None = None  # database id once stored

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks if b.kind is not BlockKind.SCENE_BREAK)

    @property
    def words(self) -> int:
        """Words in the chapter's text, its heading included.

        The heading block normally carries the title; a chapter whose blocks hold no heading
        (an EPUB whose title lives only in the table of contents) counts its title instead.
        """
        n = count_words(self.text)
        if not any(b.kind is BlockKind.HEADING for b in self.blocks):
            n += count_words(self.title)
        return n

    @property
    def opening_headings(self) -> int:
        """How many heading blocks open the chapter: what is read as its spoken title."""
        n = 0
        while n < len(self.blocks) and self.blocks[n].kind is BlockKind.HEADING:
            n += 1
        return n


@dataclass(slots=True)
class Cover:
    data: bytes
    media_type: str  # image/jpeg or image/png

    @property
    def extension(self) -> str:
        return ".png" if self.media_type == "image/png" else ".jpg"


@dataclass(slots=True)
class Book:
    title: str
    author: str = ""
    language: str = "en"
    chapters: list[Chapter] = field(default_factory=list)  # all of them, in reading order
    cover: Cover | None = None
    narrator: str = ""
    year: str = ""
    genre: str = "Audiobook"
    description: str = ""
    source_format: str = ""  # epub, docx, pdf, txt, md

    @property
    def body(self) -> list[Chapter]:
        """The chapters that will be read, in order (parts included)."""
        return [c for c in self.chapters if c.included]

    @property
    def excluded(self) -> list[Chapter]:
        return [c for c in self.chapters if not c.included]

    def summary(self) -> dict[str, object]:
        """The shape `inspect --json` and `import` print."""
        return {
            "title": self.title,
            "author": self.author,
            "language": self.language,
            "chapters": [
                {"title": c.title, "words": c.words, "part": c.part}
                for c in self.body
                if c.kind is ChapterKind.CHAPTER
            ],
            "excluded": [
                {"title": c.title, "reason": c.excluded_reason or "excluded"} for c in self.excluded
            ],
        }


class Role(StrEnum):
    TITLE = "title"  # chapter or part heading
    NARRATION = "narration"
    DIALOGUE = "dialogue"


class PauseKind(StrEnum):
    """What follows an utterance; the pause model maps each to seconds."""

    NONE = "none"  # the next utterance continues the same sentence (a split long sentence)
    CLAUSE = "clause"
    SENTENCE = "sentence"
    LINE = "line"  # verse line
    TURN = "turn"  # dialogue turn change
    PARAGRAPH = "paragraph"
    HEADING = "heading"
    SCENE = "scene"
    CHAPTER = "chapter"


@dataclass(frozen=True, slots=True)
class VoiceRef:
    """A voice as the cast names it: `engine:voice_id`, e.g. `piper:joe-us`."""

    engine: str
    voice_id: str

    @classmethod
    def parse(cls, spec: str) -> VoiceRef:
        engine, sep, voice_id = spec.partition(":")
        if not sep or not engine or not voice_id:
            raise ValueError(
                f"voice must look like ENGINE:VOICE (for example piper:joe-us): {spec!r}"
            )
        return cls(engine.strip().lower(), voice_id.strip())

    def __str__(self) -> str:
        return f"{self.engine}:{self.voice_id}"


@dataclass(slots=True)
class Utterance:
    """One request's worth of text for one voice, with the pause that follows it."""

    text: str  # spoken form, after normalization and the lexicon
    role: Role = Role.NARRATION
    speaker: str | None = None
    voice: VoiceRef | None = None
    pause_after: PauseKind = PauseKind.SENTENCE
    block_index: int = 0  # index of the source block within its chapter
    confidence: float = 1.0  # speaker attribution confidence
