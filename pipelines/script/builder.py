"""Chapters -> utterances: what each engine request will say, and the pause after it."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.manuscript.lexicon import Lexicon
from pipelines.manuscript.normalize import normalize, prepare_chapter
from pipelines.model import BlockKind, Chapter, PauseKind, Role, Utterance
from pipelines.script.pauses import PauseModel
from pipelines.script.sentences import fit_to_limit, split_sentences


@dataclass(frozen=True, slots=True)
class ScriptOptions:
    max_chars: int = 400  # the engine's request limit (or a smaller preferred size)
    lang: str = "en"
    lexicon: Lexicon | None = None
    pauses: PauseModel = field(default_factory=PauseModel)
    read_title: bool = True  # False for credits and other clips without a heading


def build_script(chapter: Chapter, options: ScriptOptions) -> list[Utterance]:
    """The chapter as a list of utterances, heading first, every word of its text included."""
    prepared = prepare_chapter(chapter, options.lang, options.lexicon)
    out: list[Utterance] = []

    # The heading blocks that open the chapter are its spoken title; a chapter without one
    # (an EPUB whose title lives only in the table of contents) reads its title instead.
    start = 0
    while start < len(prepared) and prepared[start][0].kind is BlockKind.HEADING:
        start += 1
    if start == 0 and options.read_title:
        title = normalize(chapter.title, lang=options.lang, lexicon=options.lexicon, is_title=True)
        _add(out, title, Role.TITLE, 0, PauseKind.HEADING, options.max_chars)
    else:
        for index in range(start):
            _add(out, prepared[index][1], Role.TITLE, index, PauseKind.LINE, options.max_chars)
        _set_last_pause(out, PauseKind.HEADING)

    for index in range(start, len(prepared)):
        block, spoken = prepared[index]
        if block.kind is BlockKind.SCENE_BREAK:
            _set_last_pause(out, PauseKind.SCENE)
            continue
        if block.kind is BlockKind.HEADING:
            _add(out, spoken, Role.TITLE, index, PauseKind.HEADING, options.max_chars)
            continue
        if block.kind is BlockKind.VERSE:
            _add(out, spoken, Role.NARRATION, index, PauseKind.LINE, options.max_chars)
            continue
        sentences = split_sentences(spoken, options.lang)
        for sentence in sentences:
            _add(out, sentence, Role.NARRATION, index, PauseKind.SENTENCE, options.max_chars)
        if sentences:
            _set_last_pause(out, PauseKind.PARAGRAPH)
    # A verse stanza ends like a paragraph.
    for i, utt in enumerate(out[:-1]):
        next_block = prepared[out[i + 1].block_index][0] if prepared else None
        if (
            utt.pause_after is PauseKind.LINE
            and utt.role is not Role.TITLE
            and next_block is not None
            and next_block.kind is not BlockKind.VERSE
        ):
            utt.pause_after = PauseKind.PARAGRAPH
    _set_last_pause(out, PauseKind.CHAPTER)
    return out


def _add(
    out: list[Utterance],
    text: str,
    role: Role,
    block_index: int,
    pause: PauseKind,
    max_chars: int,
) -> None:
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        return  # punctuation alone ("* * *", a lone dash) has nothing to say
    pieces = fit_to_limit(text, max_chars)
    for i, piece in enumerate(pieces):
        last = i == len(pieces) - 1
        out.append(
            Utterance(
                text=piece,
                role=role,
                pause_after=pause if last else PauseKind.CLAUSE,
                block_index=block_index,
            )
        )


def _set_last_pause(out: list[Utterance], pause: PauseKind) -> None:
    if out:
        out[-1].pause_after = pause
