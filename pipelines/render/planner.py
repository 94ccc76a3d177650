"""Planning a chapter: its script (utterances, each with its voice) and a cache key per chunk.

A chapter is planned once per change: the newest plan of each chapter is kept with a stamp of
everything it was made from (`Project.planning_stamp`, the chapter's text, the voice and settings
asked for), so currency, cost and the render itself share one plan.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.cast.casting import CastMode, assign_voices, cast_voices, chapter_mode
from pipelines.cast.lexicon import chapter_lexicons, project_lexicon
from pipelines.core.model import Chapter, Role, Utterance, VoiceRef
from pipelines.engines.base import Capabilities
from pipelines.engines.registry import capabilities, get_engine
from pipelines.render.cache import ChunkCache, chunk_key
from pipelines.script.builder import ScriptOptions, build_script
from pipelines.script.pauses import PauseModel
from pipelines.store import Project
from pipelines.store.renders import render_of
from pipelines.store.settings import PAUSES, SPOKEN_TITLES, TAKES


@dataclass(slots=True)
class PlannedChunk:
    utterance: Utterance
    key: str
    path: Path
    cached: bool
    settings: dict[str, Any] = field(default_factory=dict)  # what the engine is asked with

    @property
    def voice(self) -> VoiceRef:
        assert self.utterance.voice is not None
        return self.utterance.voice


class Planner:
    """Plans a project's chapters into `cache`, keeping the newest plan of each chapter."""

    def __init__(self, project: Project, cache: ChunkCache) -> None:
        self.project = project
        self.cache = cache
        # Scripts planned elsewhere (a render worker speaks the desktop's plan), by chapter id.
        self.fixed_scripts: dict[int, list[Utterance]] = {}
        # The newest plan of each chapter, with what it was planned from: currency, cost and the
        # render itself share it, so a chapter is planned (and attributed) once per change.
        self._plans: dict[int, tuple[str, list[PlannedChunk]]] = {}
        self.plans_made = 0

    def script(
        self,
        chapter: Chapter,
        voice: VoiceRef,
        settings: dict[str, Any],
        *,
        read_title: bool = True,
    ) -> list[Utterance]:
        """The chapter's utterances, each with its voice.

        `voice` reads the narration; in dual-voice and full-cast chapters the dialogue goes to
        the cast's voices.
        """
        mode = chapter_mode(self.project, chapter.id) if chapter.id else CastMode.SINGLE
        voices = {voice, *(cast_voices(self.project) if mode is not CastMode.SINGLE else ())}
        engines = [get_engine(v.engine) for v in voices]
        lexicon = project_lexicon(self.project)
        local = chapter_lexicons(self.project, chapter.id, lexicon) if chapter.id else None
        options = ScriptOptions(
            max_chars=min(
                min(e.limits.max_chars for e in engines),
                int(settings.get("max_chars", 10**6)),
            ),
            lang=self.project.language,
            lexicon=lexicon,
            local_lexicons=local,
            pauses=self.pauses,
            read_title=read_title,
            speak_title=bool(chapter.id) and chapter.id in self.project.get_setting(SPOKEN_TITLES),
            dialogue=mode is not CastMode.SINGLE,
        )
        script = build_script(chapter, options)
        if mode is not CastMode.SINGLE and chapter.id:
            assign_voices(script, chapter.id, self.project)
        for utt in script:
            if mode is CastMode.SINGLE or utt.role is not Role.DIALOGUE or utt.voice is None:
                utt.voice = voice
        return script

    def plan(
        self,
        chapter: Chapter,
        voice: VoiceRef,
        settings: dict[str, Any],
        *,
        read_title: bool = True,
        script: list[Utterance] | None = None,
    ) -> list[PlannedChunk]:
        """The chapter's utterances with their voices and cache keys; cached ones are marked.

        `settings` apply to voices of the narrator's engine. A render worker passes the `script`
        the desktop planned (`fixed_scripts`), so it speaks exactly that, cast included.
        """
        if script is None:
            script = self.fixed_scripts.get(chapter.id or 0) if chapter.id else None
        memo = None
        if script is None and chapter.id:
            memo = self._plan_stamp(chapter, voice, settings, read_title)
            known = self._plans.get(chapter.id)
            if known is not None and known[0] == memo:
                for item in known[1]:
                    item.cached = item.path.is_file()  # the cache fills as the render goes
                return known[1]
        if script is None:
            script = self.script(chapter, voice, settings, read_title=read_title)
        lexicon = project_lexicon(self.project)
        takes = self.project.get_setting(TAKES).get(str(chapter.id or 0), {})
        identities: dict[VoiceRef, str] = {}
        planned = []
        for utt in script:
            v = utt.voice or voice
            utt.voice = v
            if v not in identities:
                identities[v] = get_engine(v.engine).identity(v.voice_id)
            chunk_settings = dict(settings) if v.engine == voice.engine else {}
            take = takes.get(take_digest(utt.text), 0)
            if take and capabilities(v.engine).varies:
                chunk_settings["take"] = take  # another key, so the chunk is spoken anew
            key = chunk_key(
                utt.text, v.engine, identities[v], v.voice_id, chunk_settings, lexicon.version
            )
            path = self.cache.path(key)
            planned.append(PlannedChunk(utt, key, path, path.is_file(), chunk_settings))
        self.plans_made += 1
        if memo is not None and chapter.id:
            self._plans[chapter.id] = (memo, planned)
        return planned

    def _plan_stamp(
        self, chapter: Chapter, voice: VoiceRef, settings: dict[str, Any], read_title: bool
    ) -> str:
        """Everything a chapter's plan is made from: its text, the voice and settings asked for,
        and the project's cast, lexicon, corrections and import (`Project.planning_stamp`)."""
        digest = hashlib.sha256(self.project.planning_stamp().encode())
        head = [chapter.title, chapter.kind.value, str(voice), read_title]
        digest.update(json.dumps([head, settings], sort_keys=True, default=str).encode())
        for block in chapter.blocks:
            digest.update(f"\x00{block.kind.value}\x00{block.text}".encode())
        return digest.hexdigest()

    def stamp(self, chapter_id: int, voice: VoiceRef, settings: dict[str, Any]) -> str:
        """What the chapter's plan for `voice` and `settings` would be made from, as stored now
        (cheap: a few reads, no planning)."""
        return self._plan_stamp(self.project.chapter_by_id(chapter_id), voice, settings, True)

    def current_hash(
        self, chapter_id: int, voice: VoiceRef, settings: dict[str, Any]
    ) -> tuple[str, str]:
        """The chapter's stamp and the script hash of its plan, as stored now (planned again
        only when the stamp changed). The stamp is read first: if anything changes while the
        plan is made, the stamp is the older one and no longer matches what is stored."""
        chapter = self.project.chapter_by_id(chapter_id)
        stamp = self._plan_stamp(chapter, voice, settings, True)
        return stamp, script_hash(self.plan(chapter, voice, settings), self.pauses)

    @property
    def pauses(self) -> PauseModel:
        return PauseModel.from_dict(self.project.get_setting(PAUSES))

    def is_current(self, chapter_id: int, voice: VoiceRef, settings: dict[str, Any]) -> bool:
        """True when the chapter's mastered audio already matches its text, voice and settings
        (rendered here or by a render worker: the script hash says what was spoken, and how)."""
        render = render_of(self.project, chapter_id)
        if render is None or not (self.project.root / render.wav).is_file():
            return False
        plan = self.plan(self.project.chapter_by_id(chapter_id), voice, settings)
        return render.script_hash == script_hash(plan, self.pauses)


def take_digest(text: str) -> str:
    """How `settings.TAKES` names a chunk of a chapter: a digest of the text it speaks."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:16]


def script_hash(plan: list[PlannedChunk], pauses: PauseModel) -> str:
    digest = hashlib.sha256(json.dumps(pauses.to_dict(), sort_keys=True).encode())
    for p in plan:
        digest.update(p.key.encode())
        digest.update(p.utterance.pause_after.value.encode())
    return digest.hexdigest()


def neighbours(plan: list[PlannedChunk]) -> dict[str, dict[str, str]]:
    """The text before and after each chunk in the same voice, for engines that stitch."""
    declared: dict[str, Capabilities] = {}
    by_voice: dict[VoiceRef, list[PlannedChunk]] = defaultdict(list)
    for item in plan:
        engine = item.voice.engine
        if engine not in declared:
            declared[engine] = capabilities(engine)
        if declared[engine].stitching:
            by_voice[item.voice].append(item)
    out: dict[str, dict[str, str]] = {}
    for items in by_voice.values():
        for j, item in enumerate(items):
            ctx = {}
            if j > 0:
                ctx["previous_text"] = items[j - 1].utterance.text
            if j + 1 < len(items):
                ctx["next_text"] = items[j + 1].utterance.text
            out[item.key] = ctx
    return out
