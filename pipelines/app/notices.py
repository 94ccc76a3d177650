"""The studio's notices: its version, where the licence texts are, every voice's licence, and
one-time notices (a change the author should hear about once, such as a cloud model replaced by
its successor).

Nothing here touches the network: cloud engines are described by their provider's terms rather
than by asking the provider which voices the account holds.

One-time notices: `take_notices(project)` returns those that apply and have not been shown to
this user yet, marks them shown (`config_dir()/notices-shown.json`) and logs each as a warning,
which the command line prints as a "warning:" line; the studio shows what it returns.
`pending_notices` looks without marking.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pipelines.core.files import write_text_atomic
from pipelines.core.model import VoiceRef
from pipelines.core.secrets import PROVIDERS
from pipelines.engines import registry
from pipelines.store import Project

log = logging.getLogger(__name__)

DISTRIBUTION = "audiobook-studio"
LICENSE = "LICENSE"
THIRD_PARTY_LICENSES = "THIRD_PARTY_LICENSES"
LICENCE_SUMMARY = "Licensed under the GNU GPL version 3 or later"

# What a user of a cloud voice agrees to; the voices themselves belong to the provider.
PROVIDER_TERMS: dict[str, str] = {
    "openai": "OpenAI Terms of Use and Usage Policies: tell listeners the voice is AI-generated",
    "elevenlabs": "ElevenLabs Terms of Service; a cloned voice needs the speaker's consent",
    "inworld": "Inworld Terms of Service; a cloned voice needs the speaker's consent",
}
PROVIDER_NAMES: dict[str, str] = {
    "openai": "OpenAI",
    "elevenlabs": "ElevenLabs",
    "inworld": "Inworld",
}


@dataclass(frozen=True, slots=True)
class VoiceNotice:
    engine: str
    voice: str  # the voice's name; for a cloud engine, which voices the row stands for
    license: str
    attribution: str
    cloud: bool = False


def version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a bare checkout, never installed
        return "unknown"


def _roots() -> list[Path]:
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)  # the PyInstaller app's data folder
    if bundle:
        roots.append(Path(bundle))
    roots.append(Path(__file__).resolve().parents[2])  # a source checkout's root
    return roots


def notice_path(name: str) -> Path | None:
    """`LICENSE` or `THIRD_PARTY_LICENSES`: in the packaged app, the checkout, or the installed
    distribution's metadata; None when this install carries no copy."""
    for root in _roots():
        path = root / name
        if path.is_file():
            return path
    try:
        files = metadata.distribution(DISTRIBUTION).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == name:
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    return None


def _cloud_notice(engine: str) -> VoiceNotice:
    provider = PROVIDER_NAMES.get(engine, engine)
    return VoiceNotice(
        engine=engine,
        voice=f"{provider} voices (built-in and your account's)",
        license=PROVIDER_TERMS.get(engine, f"{provider} terms of service"),
        attribution=f"synthesized by {provider}'s servers",
        cloud=True,
    )


def voice_notices() -> list[VoiceNotice]:
    """Every installed engine's voices with licence and attribution, from the engines' own
    descriptors; engines that are not installed, or fail to start, are left out."""
    rows: list[VoiceNotice] = []
    cloud: list[VoiceNotice] = []  # listed after the voices that run on this machine
    for name in registry.engine_names():
        if name in PROVIDERS:
            cloud.append(_cloud_notice(name))
            continue
        try:
            voices = registry.get_engine(name).voices()
        except Exception as exc:  # one broken engine must not hide the others' notices
            log.warning("cannot list the voices of engine %s: %s", name, exc)
            continue
        rows.extend(
            VoiceNotice(
                engine=name,
                voice=v.name or v.id,
                license=v.license or "not stated",
                attribution=v.attribution,
            )
            for v in voices
        )
    return rows + cloud


# -- one-time notices -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OneTimeNotice:
    key: str  # what it is remembered by once shown
    title: str
    text: str


SHOWN_FILE = "notices-shown.json"


def _shown_path() -> Path:
    from pipelines.core import paths

    return paths.config_dir() / SHOWN_FILE


def shown_keys() -> set[str]:
    try:
        data = json.loads(_shown_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()  # none shown yet, or an unreadable file: showing one again is harmless
    return {str(k) for k in data} if isinstance(data, list) else set()


def _mark_shown(keys: list[str]) -> None:
    if keys:
        shown = sorted(shown_keys() | set(keys))
        write_text_atomic(_shown_path(), json.dumps(shown, indent=2))


def _book_voices(project: Project) -> set[VoiceRef]:
    from pipelines.cast.casting import character_voices, unknown_speaker_voice
    from pipelines.cast.narrator import narrator_voice
    from pipelines.cast.voices import chapter_overrides, dialogue_voice

    voices = {narrator_voice(project), *chapter_overrides(project).values()}
    voices |= set(character_voices(project).values())
    voices |= {v for v in (dialogue_voice(project), unknown_speaker_voice(project)) if v}
    return voices


def _model_switches(project: Project | None) -> list[OneTimeNotice]:
    """OpenAI models in use (Settings' model, the book's own) that moved to a successor."""
    from pipelines.engines.cloud.openai_tts import model_switch
    from pipelines.engines.cloud.settings import provider_settings

    if project is not None and "openai" not in {v.engine for v in _book_voices(project)}:
        return []
    models = [provider_settings("openai").model]
    if project is not None:
        from pipelines.cast.voices import voice_settings

        models.append(str(voice_settings(project).get("model") or ""))
    notices: list[OneTimeNotice] = []
    for model in dict.fromkeys(m for m in models if m):
        switch = model_switch(model)
        if switch is not None:
            title = f"OpenAI voices now use {switch.new.id}"
            notices.append(OneTimeNotice(switch.key, title, switch.text()))
    return notices


def pending_notices(project: Project | None = None) -> list[OneTimeNotice]:
    """The one-time notices that apply (to `project`, when given) and were not shown yet."""
    shown = shown_keys()
    return [n for n in _model_switches(project) if n.key not in shown]


def take_notices(project: Project | None = None) -> list[OneTimeNotice]:
    """`pending_notices`, now marked shown and logged as warnings: each appears once."""
    notices = pending_notices(project)
    _mark_shown([n.key for n in notices])
    for notice in notices:
        log.warning("%s", notice.text)
    return notices
