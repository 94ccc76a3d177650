"""Chapters -> utterances: what each engine request will say, and the pause after it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipelines.core.model import Block, BlockKind, Chapter, PauseKind, Role, Utterance
from pipelines.script.attribution import Quotation, attribute
from pipelines.script.characters import CharacterList
from pipelines.script.dialogue import QuoteStyle, Segment, detect_style, is_cited, split_quotes
from pipelines.script.pauses import PauseModel
from pipelines.script.sentences import fit_to_limit, split_sentences
from pipelines.speech.lexicon import Lexicon
from pipelines.speech.normalize import normalize, prepare_chapter


@dataclass(frozen=True, slots=True)
class ScriptOptions:
    max_chars: int = 400  # the engine's request limit (or a smaller preferred size)
    lang: str = "en"
    lexicon: Lexicon | None = None
    local_lexicons: Mapping[int, Lexicon] | None = None  # block index → its own fixes on top
    pauses: PauseModel = field(default_factory=PauseModel)
    read_title: bool = True  # False for credits and other clips without a heading
    # The author renamed the chapter and asked for the new title to be read in place of the
    # heading blocks that open it (`settings.SPOKEN_TITLES`).
    speak_title: bool = False
    # Quotations become utterances of their own (role dialogue, with a speaker); off, a
    # paragraph is read in sentences as one voice would read it.
    dialogue: bool = True
    characters: CharacterList | None = None  # the book's, for names and genders across chapters
    corrections: Mapping[str, str] | None = None  # quotation key -> speaker, from the author


def build_script(chapter: Chapter, options: ScriptOptions) -> list[Utterance]:
    """The chapter as a list of utterances, heading first, every word of its text included."""
    prepared = prepare_chapter(chapter, options.lang, options.lexicon, options.local_lexicons)
    out: list[Utterance] = []

    # The heading blocks that open the chapter are its spoken title; a chapter without one
    # (an EPUB whose title lives only in the table of contents) reads its title instead.
    start = chapter.opening_headings
    if options.read_title and (start == 0 or options.speak_title):
        title = normalize(chapter.title, lang=options.lang, lexicon=options.lexicon, is_title=True)
        _add(out, title, Role.TITLE, 0, PauseKind.HEADING, options.max_chars)
    else:
        for index in range(start):
            _add(out, prepared[index][1], Role.TITLE, index, PauseKind.LINE, options.max_chars)
        _set_last_pause(out, PauseKind.HEADING)

    style = detect_style(b.text for b in chapter.blocks)
    quotes: dict[int, dict[int, Quotation]] | None = None
    if options.dialogue:
        quotes = {}
        for q in attribute(chapter, options.characters, options.corrections, style):
            quotes.setdefault(q.block_index, {})[q.segment_index] = q

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
        quoted = quotes.get(index) if quotes is not None else None
        if quoted:
            _add_with_dialogue(out, block, index, quoted, style, options)
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
    mark_turns(out)
    _set_last_pause(out, PauseKind.CHAPTER)
    return out


_ENDS_SENTENCE = re.compile(r"[.!?]['\")\]]*$")


def _add_with_dialogue(
    out: list[Utterance],
    block: Block,
    index: int,
    quoted: dict[int, Quotation],
    style: QuoteStyle,
    options: ScriptOptions,
) -> None:
    """A paragraph with speech in it: narration and quotations as utterances of their own, so
    that the tag ("said Holmes") stays with the narrator."""
    text = block.text
    added = len(out)
    parts: list[tuple[str, Quotation | None, bool]] = []  # written text, its quotation, said
    for si, segment in enumerate(split_quotes(text, style)):
        q = quoted.get(si)
        # A paragraph that carries on a speech past a verse it recites has no marks of its own:
        # the quotation found for it says that it is speech.
        said = segment.dialogue or (q is not None and q.text == segment.text)
        if said and _cited_in_narration(text, segment, q):
            said = False
        if parts and not said and not parts[-1][2]:
            parts[-1] = (parts[-1][0] + segment.text, None, False)  # one narration sentence
        else:
            parts.append((segment.text, q if said else None, said))
    for written, q, said in parts:
        spoken = normalize(written, lang=options.lang, lexicon=options.lexicon)
        if not spoken:
            continue
        role = Role.DIALOGUE if said else Role.NARRATION
        before = len(out)
        for sentence in split_sentences(spoken, options.lang):
            _add(out, sentence, role, index, PauseKind.SENTENCE, options.max_chars)
        for utt in out[before:]:
            if q is not None:
                utt.speaker, utt.confidence = q.speaker, q.confidence
            elif role is Role.DIALOGUE:
                utt.confidence = 0.0
        if len(out) > before and not _ENDS_SENTENCE.search(spoken):
            # "“Try the settee,” said Holmes": the sentence goes on in the next voice.
            out[-1].pause_after = PauseKind.CLAUSE
    if len(out) > added:
        _set_last_pause(out, PauseKind.PARAGRAPH)


def _cited_in_narration(text: str, segment: Segment, q: Quotation | None) -> bool:
    """Is the quotation a word or two the narration sets in marks mid-sentence ('permitted the
    "chatter" until', 'they would "do" till they had gone')? The narrator reads those: a voice that
    changes for one word inside a sentence sounds like a fault. The author's choice of a
    speaker for it still stands."""
    if segment.nested or not segment.closed or (q is not None and q.method == "corrected"):
        return False
    return is_cited(text, segment.start, segment.end)


def mark_turns(out: list[Utterance]) -> None:
    """A paragraph break where one speaker hands over to another is a turn (and no other is)."""
    for utt in out:
        if utt.pause_after is PauseKind.TURN:
            utt.pause_after = PauseKind.PARAGRAPH
    last_speaker: str | None = None  # the latest speaker of the current paragraph
    for i, utt in enumerate(out):
        if i and out[i - 1].block_index != utt.block_index:
            last_speaker = None
        if utt.role is Role.DIALOGUE:
            last_speaker = utt.speaker or ""
        nxt = out[i + 1] if i + 1 < len(out) else None
        if (
            utt.pause_after is PauseKind.PARAGRAPH
            and nxt is not None
            and nxt.role is Role.DIALOGUE
            and last_speaker is not None
            and last_speaker != (nxt.speaker or "")
        ):
            utt.pause_after = PauseKind.TURN


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
