"""The cast beyond the narrator: the dialogue voice, per-chapter voices and voice settings.

Stored as declared project settings (`pipelines.store.settings`), so the studio window, the command
line and the exporter read the same cast. The narrator itself is `pipelines.cast.narrator`'s.
"""

from __future__ import annotations

from typing import Any

from pipelines.cast.narrator import narrator_voice
from pipelines.core.model import VoiceRef
from pipelines.store import Project, settings


def set_narrator(project: Project, voice: VoiceRef) -> None:
    project.set_setting(settings.NARRATOR, str(voice))


def dialogue_voice(project: Project) -> VoiceRef | None:
    stored = project.get_setting(settings.DIALOGUE_VOICE)
    return VoiceRef.parse(stored) if stored else None


def default_dialogue_voice(narrator: VoiceRef) -> VoiceRef | None:
    """The dialogue voice a book gets when the author chose none: for a Kokoro narrator a
    contrasting Kokoro voice, otherwise none (the narrator reads the dialogue too)."""
    from pipelines.engines.defaults import contrasting_voice

    return contrasting_voice(narrator)


def default_dialogue_for_book(project: Project) -> VoiceRef | None:
    """The default pairing for the book's narrator, when the author chose no dialogue voice."""
    if dialogue_voice(project) is not None:
        return None
    return default_dialogue_voice(narrator_voice(project))


def effective_dialogue_voice(project: Project, narrator: VoiceRef | None = None) -> VoiceRef:
    """Who reads the dialogue in dual mode: the chosen voice, else the default pairing, else
    the narrator."""
    narrator = narrator or narrator_voice(project)
    return dialogue_voice(project) or default_dialogue_voice(narrator) or narrator


def set_dialogue_voice(project: Project, voice: VoiceRef | None) -> None:
    project.set_setting(settings.DIALOGUE_VOICE, str(voice) if voice else None)


def chapter_overrides(project: Project) -> dict[int, VoiceRef]:
    stored = project.get_setting(settings.CHAPTER_VOICES)
    return {int(cid): VoiceRef.parse(spec) for cid, spec in stored.items()}


def set_chapter_override(project: Project, chapter_id: int, voice: VoiceRef | None) -> None:
    stored = project.get_setting(settings.CHAPTER_VOICES)
    if voice is None:
        stored.pop(str(chapter_id), None)
    else:
        stored[str(chapter_id)] = str(voice)
    project.set_setting(settings.CHAPTER_VOICES, stored)


def voice_settings(project: Project) -> dict[str, Any]:
    """The narrator voice's engine settings; the exporter reads the credits' settings here."""
    return project.get_setting(settings.VOICE_SETTINGS)


def set_voice_settings(project: Project, values: dict[str, Any]) -> None:
    project.set_setting(settings.VOICE_SETTINGS, dict(values))


def voice_for_chapter(project: Project, chapter_id: int) -> VoiceRef:
    """The chapter's own voice if the author gave it one, else the narrator's."""
    return chapter_overrides(project).get(chapter_id) or narrator_voice(project)
