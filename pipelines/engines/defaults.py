"""The voices a book starts with: Kokoro once its model is installed, else the embedded Piper.

Piper stays the fast draft voice and the fallback: it ships with the studio and needs nothing
downloaded. These checks look at files only (no onnxruntime, no model loading), so they are cheap
enough for every import and every plan.
"""

from __future__ import annotations

from pipelines.core.model import VoiceRef
from pipelines.engines.registry import DEFAULT_VOICE, engine_names

KOKORO = "kokoro"
KOKORO_NARRATORS = ("af_heart", "am_michael")
# The second voice of a dual-voice book: the other gender, the same accent.
_CONTRAST = {
    ("us", "female"): ("am_michael", "am_fenrir", "am_puck", "am_adam"),
    ("us", "male"): ("af_heart", "af_bella", "af_nicole", "af_sarah"),
    ("gb", "female"): ("bm_george", "bm_fable", "bm_lewis", "bm_daniel"),
    ("gb", "male"): ("bf_emma", "bf_isabella"),
}


def kokoro_voice_ids() -> list[str]:
    """Kokoro's installed voice packs, or none when the engine or its model is missing."""
    if KOKORO not in engine_names():
        return []
    from pipelines.engines.kokoro import files

    if not files.model_file().is_file():
        return []
    from pipelines.engines.kokoro.voices import speaks_english

    found = {*files.stock_voice_files(), *files.user_voice_files()}
    return sorted(v for v in found if speaks_english(v))


def default_narrator() -> VoiceRef:
    """The narrator a new book gets: Kokoro's af_heart (or am_michael), else Piper's joe-us."""
    installed = set(kokoro_voice_ids())
    for voice_id in KOKORO_NARRATORS:
        if voice_id in installed:
            return VoiceRef(KOKORO, voice_id)
    return DEFAULT_VOICE


def contrasting_voice(narrator: VoiceRef) -> VoiceRef | None:
    """A Kokoro voice that sets dialogue apart from a Kokoro narrator: the other gender in the
    narrator's accent where installed, else any other installed voice; None for other engines."""
    if narrator.engine != KOKORO:
        return None
    from pipelines.engines.kokoro import voices

    installed = [v for v in kokoro_voice_ids() if voices.is_english(v)]
    if voices.is_blend(narrator.voice_id):
        t = voices.blend_traits(narrator.voice_id)
        own = {name for name, _ in voices.parse_blend(narrator.voice_id)}
    else:
        t = voices.traits(narrator.voice_id)
        own = {narrator.voice_id}
    gender = t.gender or "female"
    other = "male" if gender == "female" else "female"
    # The same accent first, then the other gender in any accent, then anyone else.
    by_accent = sorted(installed, key=lambda v: voices.traits(v).accent != t.accent)
    wanted = [*_CONTRAST.get((t.accent, gender), ())]
    wanted += [v for v in by_accent if voices.traits(v).gender == other]
    wanted += by_accent
    for voice_id in wanted:
        if voice_id in installed and voice_id not in own:
            return VoiceRef(KOKORO, voice_id)
    return None
