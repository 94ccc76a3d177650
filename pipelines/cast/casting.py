"""Who reads what: the casting mode, the characters' voices, and the author's speaker corrections.

Modes: single (the narrator reads everything), dual (the narrator, plus one voice for all
dialogue) and full cast (each character a voice, a default for speakers nobody cast). The mode is
a book setting that a chapter may override. Everything lives in the project: settings under fixed
keys, corrections in their own table keyed by quotation, so a re-import of the same text keeps
them. The narrator and the dialogue voice are `pipelines.cast.voices`' (shared with the cast
panel); this module adds what full cast needs.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pipelines.cast.voices import (
    default_dialogue_for_book,
    dialogue_voice,
    effective_dialogue_voice,
    voice_for_chapter,
)
from pipelines.core.errors import ProjectError
from pipelines.core.model import Chapter, Role, Utterance, VoiceRef
from pipelines.script.attribution import LOW_CONFIDENCE, Quotation, attribute, learn_idiolects
from pipelines.script.builder import mark_turns
from pipelines.script.characters import Character, CharacterList, find_characters
from pipelines.script.idiolect import Idiolects
from pipelines.script.model_pass import apply_answers
from pipelines.store import Project, settings
from pipelines.store.corrections import (
    forget_speaker_corrections,
    import_stamp,
    save_speaker_corrections,
    speaker_corrections,
)

if TYPE_CHECKING:
    from pipelines.engines.base import Voice


class CastMode(StrEnum):
    SINGLE = "single"
    DUAL = "dual"
    FULL = "full"

    @classmethod
    def parse(cls, value: str) -> CastMode:
        try:
            return cls(value.strip().lower().replace("-", "_").replace("full_cast", "full"))
        except ValueError:
            raise ProjectError(
                None, f"unknown casting mode '{value}'", "Use single, dual or full."
            ) from None


# -- modes ----------------------------------------------------------------------------------------


def book_mode(project: Project) -> CastMode:
    return CastMode(project.get_setting(settings.CAST_MODE))


def set_book_mode(project: Project, mode: CastMode) -> None:
    project.set_setting(settings.CAST_MODE, mode.value)


def chapter_modes(project: Project) -> dict[int, CastMode]:
    stored = project.get_setting(settings.CHAPTER_CAST_MODES)
    return {int(cid): CastMode(m) for cid, m in stored.items()}


def set_chapter_mode(project: Project, chapter_id: int, mode: CastMode | None) -> None:
    """Override the book's mode for one chapter; None goes back to the book's."""
    stored = project.get_setting(settings.CHAPTER_CAST_MODES)
    if mode is None:
        stored.pop(str(chapter_id), None)
    else:
        stored[str(chapter_id)] = mode.value
    project.set_setting(settings.CHAPTER_CAST_MODES, stored)


def chapter_mode(project: Project, chapter_id: int) -> CastMode:
    return chapter_modes(project).get(chapter_id) or book_mode(project)


# -- voices ---------------------------------------------------------------------------------------


def character_voices(project: Project) -> dict[str, VoiceRef]:
    stored = project.get_setting(settings.CHARACTER_VOICES)
    return {name: VoiceRef.parse(spec) for name, spec in stored.items()}


def set_character_voice(project: Project, character: str, voice: VoiceRef | None) -> None:
    """Give a character (by any of its names) a voice; None takes it away."""
    name = book_characters(project).typed_name(character.strip())
    stored = project.get_setting(settings.CHARACTER_VOICES)
    if voice is None:
        stored.pop(name, None)
    else:
        stored[name] = str(voice)
    project.set_setting(settings.CHARACTER_VOICES, stored)


def unknown_speaker_voice(project: Project) -> VoiceRef | None:
    stored = project.get_setting(settings.UNKNOWN_SPEAKER_VOICE)
    return VoiceRef.parse(stored) if stored else None


def set_unknown_speaker_voice(project: Project, voice: VoiceRef | None) -> None:
    project.set_setting(settings.UNKNOWN_SPEAKER_VOICE, str(voice) if voice else None)


def _gender(text: str) -> str:
    """'female', 'male' or '': engines label voices 'Female', 'F', 'woman' and the like."""
    word = text.strip().lower()
    if word.startswith(("f", "w")):
        return "female"
    if word.startswith("m") and not word.startswith("mix"):
        return "male"
    return ""


def suggest_voices(
    characters: CharacterList,
    voices: Sequence[Voice],
    narrator: VoiceRef | None = None,
    limit: int = 12,
    keep: Mapping[str, VoiceRef] | None = None,
    order: Sequence[str] | None = None,
) -> dict[str, VoiceRef]:
    """A voice for each of the main characters not in `keep`: the first `limit` of `order`
    (names, the most speaking first), by default those named in speech tags, most often first.

    A character of known gender never gets a voice of the other gender while one of theirs or
    of unknown gender is installed; within that, each voice is used as rarely as possible (the
    voices in `keep` count as used), so distinct voices go round before any repeats, and among
    equally used ones their own gender comes first. The narrator's voice is kept for the
    narrator character and suggested to nobody else (with no other voice, nobody else gets
    one). Among equally used voices the narrator's accent comes first, then the narrator's
    engine, then Kokoro's (the local voices that sound best), so a Kokoro book is cast from all
    of Kokoro's voices first."""
    keep = keep or {}
    unique = {VoiceRef(v.engine, v.id): v for v in voices}
    pool = [v for ref, v in unique.items() if ref != narrator]
    lead = unique.get(narrator) if narrator is not None else None
    accent = lead.language if lead else ""
    used: Counter[VoiceRef] = Counter(keep.values())

    def rank(v: Voice, want: str) -> tuple[bool, int, bool, bool, bool, bool]:
        have = _gender(v.gender)
        return (
            bool(want and have) and have != want,  # a wrong-sounding voice only as a last resort
            used[VoiceRef(v.engine, v.id)],
            have != want,  # their own gender first; for the unknown, one that cannot be wrong
            bool(accent) and v.language != accent,
            narrator is not None and v.engine != narrator.engine,
            v.engine != "kokoro",
        )

    out: dict[str, VoiceRef] = {}
    if order is not None:
        by_name = {c.name: c for c in characters.characters}
        speaking = [by_name[n] for n in order if n in by_name]
    else:
        speaking = [c for c in characters.characters if c.tagged] or characters.characters
    for c in speaking[:limit]:
        if c.name in keep:
            continue
        if c.name == characters.narrator and narrator is not None:
            out[c.name] = narrator
            continue
        if not pool:
            continue
        want = _gender(c.gender)
        best = min(pool, key=lambda v: rank(v, want))
        ref = VoiceRef(best.engine, best.id)
        used[ref] += 1
        out[c.name] = ref
    return out


# -- characters and corrections ----------------------------------------------------------------

_CHARACTERS: dict[tuple[str, str], CharacterList] = {}
_IDIOLECTS: dict[tuple[str, str, str], Idiolects] = {}
_LOCK = threading.Lock()


def cast_voices(project: Project) -> set[VoiceRef]:
    """Every voice the cast may use besides the narrator."""
    voices = set(character_voices(project).values())
    for extra in (
        dialogue_voice(project),
        unknown_speaker_voice(project),
        default_dialogue_for_book(project),
    ):
        if extra is not None:
            voices.add(extra)
    return voices


def book_characters(project: Project) -> CharacterList:
    """The book's characters, found once per imported text and kept while the process runs,
    with the author's merges, renames and deletions applied (`character_edits`)."""
    key = (str(project.root), import_stamp(project))
    edits = character_edits(project)
    # How each of them talks, learned from the book's tagged speech with these very names.
    learned_key = (*key, json.dumps(edits, sort_keys=True))
    with _LOCK:  # held while finding: a second caller waits for the first's result
        found = _CHARACTERS.get(key)
        learned = _IDIOLECTS.get(learned_key)
        # The chapters are read once for whichever of the two is not known yet.
        chapters = (
            [c for c in project.chapters() if c.included]
            if found is None or learned is None
            else []
        )
        if found is None:
            found = find_characters(b.text for c in chapters for b in c.blocks)
            _CHARACTERS[key] = found
        characters = apply_character_edits(found, edits)
        if learned is None:
            learned = learn_idiolects(chapters, characters)
            _IDIOLECTS[learned_key] = learned
    characters.idiolects = learned
    return characters


def character_edits(project: Project) -> dict[str, str]:
    edits: dict[str, str] = project.get_setting(settings.CHARACTER_EDITS)
    return edits


def apply_character_edits(found: CharacterList, edits: dict[str, str]) -> CharacterList:
    """A copy of `found` with each edit applied in the order made: a name merged into another
    character joins it (aliases, mentions, tags), into a new name is renamed, into '' is gone."""
    if not edits:
        return found
    people = [
        Character(c.name, set(c.aliases), c.count, c.gender, c.tagged) for c in found.characters
    ]
    for source, target in edits.items():
        src = next((c for c in people if c.name == source), None)
        if src is None:
            continue
        people.remove(src)
        if not target:
            continue
        into = next((c for c in people if c.name == target), None)
        if into is None:
            src.aliases.add(src.name)
            src.name = target
            src.aliases.add(target)
            people.append(src)
        else:
            into.aliases |= src.aliases | {src.name}
            into.count += src.count
            into.tagged += src.tagged
            into.gender = into.gender or src.gender
    people.sort(key=lambda c: (-c.tagged, -c.count, c.name))
    narrator = found.narrator
    if narrator is not None and narrator in edits:
        narrator = edits[narrator] or None

    def renamed(name: str) -> str:
        for source, target in edits.items():
            if name == source:
                name = target
        return name

    edited = CharacterList(people, narrator)
    # What the narration tells of them follows them into their new names.
    edited.roles = {k: n for k, v in found.roles.items() if (n := renamed(v))}
    edited.young = {n for v in found.young if (n := renamed(v))}
    return edited


def merge_character(project: Project, source: str, target: str) -> str:
    """Merge the character `source` into `target` (another character: one person from then
    on), rename it (a new name), or delete it (an empty target: a place, a bogus name). Its
    voice goes with a rename and gives way to the target's in a merge. Returns the new name
    ('' when deleted)."""
    characters = book_characters(project)
    source = " ".join(source.split())
    found = next((c for c in characters.characters if c.name == source), None)
    found = found or characters.resolve(source)
    if found is None:
        raise ProjectError(
            project.root, f"there is no character '{source}'", "Choose one from the table."
        )
    target = " ".join(target.split())
    existing = next((c for c in characters.characters if c.name == target), None)
    if existing is None and target:
        existing = characters.resolve(target)
        existing = existing if existing is not None and existing.name != found.name else None
    new = existing.name if existing is not None else target
    if new == found.name:
        return new
    edits = character_edits(project)
    edits.pop(found.name, None)  # the latest fix of a name wins, placed last
    edits[found.name] = new
    project.set_setting(settings.CHARACTER_EDITS, edits)
    voices = project.get_setting(settings.CHARACTER_VOICES)
    moved = voices.pop(found.name, None)
    if moved and new and new not in voices:
        voices[new] = moved
    project.set_setting(settings.CHARACTER_VOICES, voices)
    return new


def rename_character(project: Project, name: str, new_name: str) -> str:
    if not new_name.strip():
        raise ProjectError(project.root, "a character needs a name", "Type the new name.")
    return merge_character(project, name, new_name)


def delete_character(project: Project, name: str) -> None:
    merge_character(project, name, "")


def forget_character_edits(project: Project) -> None:
    """Back to the characters as found in the text."""
    project.set_setting(settings.CHARACTER_EDITS, {})


@dataclass(frozen=True, slots=True)
class CharacterRow:
    """One line of the cast's character table."""

    name: str
    aliases: list[str] = field(default_factory=list)  # the other names, the name left out
    gender: str = ""
    lines: int = 0  # quotations attributed to them in the included chapters
    voice: VoiceRef | None = None


def character_table(project: Project) -> list[CharacterRow]:
    """The characters with their attributed lines and voices, the most speaking first."""
    characters = book_characters(project)
    fixes = corrections(project)
    answered = model_speakers(project)
    lines: Counter[str] = Counter()
    for chapter in project.chapters():
        if chapter.included:
            quotes = attribute(chapter, characters, fixes)
            apply_answers(quotes, answered, characters)
            for q in quotes:
                if q.speaker:
                    lines[characters.typed_name(q.speaker)] += 1
    voices = character_voices(project)
    rows = [
        CharacterRow(
            c.name,
            sorted(a for a in c.aliases if a != c.name),
            c.gender,
            lines[c.name],
            voices.get(c.name),
        )
        for c in characters.characters
    ]
    rows.sort(key=lambda r: (-r.lines, r.name))
    return rows


def corrections(project: Project) -> dict[str, str]:
    return speaker_corrections(project)


def correct_speakers(project: Project, quotes: Iterable[Quotation], speaker: str) -> int:
    """Set the speaker of these quotations (one, or many at once); returns how many."""
    speaker = " ".join(speaker.split())
    if not speaker:
        raise ProjectError(project.root, "a speaker correction needs a name", "Give a name.")
    speaker = book_characters(project).typed_name(speaker)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = [(q.key, speaker, q.text[:200], now) for q in quotes]
    save_speaker_corrections(project, rows)
    return len(rows)


def forget_corrections(project: Project, keys: Iterable[str]) -> int:
    keys = list(keys)
    forget_speaker_corrections(project, keys)
    return len(keys)


def chapter_quotes(
    project: Project, chapter: Chapter, *, with_model: bool = True
) -> list[Quotation]:
    """The chapter's quotations attributed with the book's characters and the author's fixes,
    then the speakers the optional model pass named for those the rules left unsettled
    (`with_model=False`: the rules' own, which is what the model pass asks about)."""
    characters = book_characters(project)
    quotes = attribute(chapter, characters, corrections(project))
    if with_model:
        apply_answers(quotes, model_speakers(project), characters)
    return quotes


def model_speakers(project: Project) -> dict[str, str]:
    """Quotation key -> the speaker the model pass named (`pipelines.app.speaker_pass`)."""
    return project.get_setting(settings.MODEL_SPEAKERS)


def low_confidence(quotes: Iterable[Quotation], below: float = LOW_CONFIDENCE) -> list[Quotation]:
    return [q for q in quotes if q.confidence < below]


# -- rendering -------------------------------------------------------------------------------------


def assign_voices(utterances: list[Utterance], chapter_id: int, project: Project) -> None:
    """Set each utterance's voice by the chapter's casting mode; in dual and full cast, speakers
    are first brought in line with the book's characters and the author's corrections, and the
    turn pauses with them."""
    narrator = voice_for_chapter(project, chapter_id)
    mode = chapter_mode(project, chapter_id)
    if mode is not CastMode.SINGLE:
        _apply_attribution(utterances, chapter_id, project)
        mark_turns(utterances)
    dialogue = effective_dialogue_voice(project, narrator)
    cast = character_voices(project) if mode is CastMode.FULL else {}
    unknown = unknown_speaker_voice(project) or dialogue
    characters = book_characters(project) if mode is CastMode.FULL else None
    for utt in utterances:
        if mode is CastMode.SINGLE or utt.role is not Role.DIALOGUE:
            utt.voice = narrator
        elif mode is CastMode.DUAL or characters is None:
            utt.voice = dialogue
        elif utt.speaker and utt.speaker in cast:
            utt.voice = cast[utt.speaker]
        elif utt.speaker and utt.speaker == characters.narrator:
            utt.voice = narrator  # a first-person narrator speaks in the narrator's voice
        else:
            utt.voice = unknown


def _apply_attribution(utterances: list[Utterance], chapter_id: int, project: Project) -> None:
    """Match the dialogue utterances to the chapter's quotations, in order, and take their
    speakers. A quotation may be several utterances (long speech is cut into sentences); the
    match goes by the letters each one holds, which cutting does not change."""
    chapter = next((c for c in project.chapters() if c.id == chapter_id), None)
    if chapter is None:
        return
    from pipelines.cast.lexicon import project_lexicon
    from pipelines.speech.normalize import normalize

    lang = project.load_book(with_blocks=False).language
    lexicon = project_lexicon(project)
    by_block: dict[int, list[Quotation]] = {}
    for q in chapter_quotes(project, chapter):
        by_block.setdefault(q.block_index, []).append(q)
    i = 0
    while i < len(utterances):
        utt = utterances[i]
        if utt.role is not Role.DIALOGUE:
            i += 1
            continue
        block = utt.block_index
        run = []
        while i < len(utterances) and utterances[i].block_index == block:
            if utterances[i].role is Role.DIALOGUE:
                run.append(utterances[i])
            i += 1
        quotes = by_block.get(block, [])
        sizes = [_letters(normalize(q.text, lang=lang, lexicon=lexicon)) for q in quotes]
        if sum(sizes) != sum(_letters(u.text) for u in run):
            continue  # the text changed since: keep the speakers the script was built with
        k = 0
        for q, size in zip(quotes, sizes, strict=True):
            got = 0
            while k < len(run) and got < size:
                run[k].speaker, run[k].confidence = q.speaker, q.confidence
                got += _letters(run[k].text)
                k += 1


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())
