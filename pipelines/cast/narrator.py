"""Who reads the book: the narrator voice stored in the project, and how a voice is chosen."""

from __future__ import annotations

from pipelines.core.model import VoiceRef
from pipelines.store import Project, settings


def narrator_voice(project: Project, override: str | None = None) -> VoiceRef:
    """The voice to render with: `override` (which is then remembered), else the project's
    narrator, else the embedded default voice."""
    from pipelines.engines.registry import DEFAULT_VOICE, resolve_voice

    if override:
        voice = VoiceRef.parse(override)
        resolve_voice(voice)  # fails early, with the list of voices, on a typo
        project.set_setting(settings.NARRATOR, str(voice))
        return voice
    stored = project.get_setting(settings.NARRATOR)
    return VoiceRef.parse(stored) if stored else DEFAULT_VOICE
