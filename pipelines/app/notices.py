"""The studio's legal notices: its version, where the licence texts are, and every voice's licence.

Nothing here touches the network: cloud engines are described by their provider's terms rather
than by asking the provider which voices the account holds.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pipelines.core.secrets import PROVIDERS
from pipelines.engines import registry

log = logging.getLogger(__name__)

DISTRIBUTION = "audiobook-studio"
LICENSE = "LICENSE"
THIRD_PARTY_LICENSES = "THIRD_PARTY_LICENSES"
LICENCE_SUMMARY = "Licensed under the GNU GPL version 3 or later"

# What a user of a cloud voice agrees to; the voices themselves belong to the provider.
PROVIDER_TERMS: dict[str, str] = {
    "openai": "OpenAI Terms of Use and Usage Policies: tell listeners the voice is AI-generated",
    "elevenlabs": "ElevenLabs Terms of Service; a cloned voice needs the speaker's consent",
}
PROVIDER_NAMES: dict[str, str] = {"openai": "OpenAI", "elevenlabs": "ElevenLabs"}


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
