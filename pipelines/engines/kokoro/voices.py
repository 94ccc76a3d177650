"""Kokoro's voices: the stock packs by name, packs the author adds, and blends of them.

A voice id names its accent and gender in its first two letters (a = American English, b =
British; f = female, m = male), as the stock packs do. A blend is written `af_heart+am_michael`
(equal parts) or `af_heart:0.6+bm_george:0.4`; it speaks with the weighted mean of the packs'
style vectors and with the accent of its largest part. Any blend can be cast by its id; saved
blends (`blends.json` in the voice folder) are also listed as voices of their own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.core import paths
from pipelines.core.errors import StudioError
from pipelines.core.files import write_text_atomic
from pipelines.engines.kokoro.files import ENGINE

LICENSE = "Apache-2.0"
ATTRIBUTION = "Kokoro-82M by hexgrad"
BLENDS_FILE = "blends.json"
ACCENTS = {"a": ("us", "en-US", "American"), "b": ("gb", "en-GB", "British")}
GENDERS = {"f": "female", "m": "male"}
_OTHER_LANGUAGES = frozenset("ejfhipz")  # Spanish, Japanese, French, Hindi, ... stock prefixes
_PART = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*(?::\s*([0-9]*\.?[0-9]+)\s*)?$")


@dataclass(frozen=True, slots=True)
class VoiceTraits:
    accent: str  # "us" or "gb": which English the phonemizer speaks
    language: str  # "en-US" or "en-GB"
    gender: str  # "female", "male" or ""
    label: str  # "American" or "British"


def traits(voice_id: str) -> VoiceTraits:
    """Accent and gender from a pack's name; unknown prefixes speak American English."""
    accent, language, label = ACCENTS.get(voice_id[:1].lower(), ACCENTS["a"])
    gender = GENDERS.get(voice_id[1:2].lower(), "") if voice_id[2:3] == "_" else ""
    return VoiceTraits(accent, language, gender, label)


def is_english(voice_id: str) -> bool:
    """A stock-style English name (af_..., bm_...)."""
    return voice_id[:1].lower() in ACCENTS and voice_id[2:3] == "_"


def speaks_english(voice_id: str) -> bool:
    """Not a pack of another language (jf_alpha, ef_dora, ...): the phonemizer is English, so
    those are left out; a pack with a name of the author's own speaks American English."""
    return not (voice_id[:1].lower() in _OTHER_LANGUAGES and voice_id[2:3] == "_")


def display_name(voice_id: str) -> str:
    """ "Heart (American, female)" for af_heart."""
    t = traits(voice_id)
    base = voice_id.split("_", 1)[1] if "_" in voice_id else voice_id
    detail = ", ".join(x for x in (t.label, t.gender) if x)
    return f"{base.replace('_', ' ').title()} ({detail})"


# -- blends ---------------------------------------------------------------------------------------


def is_blend(voice_id: str) -> bool:
    return "+" in voice_id or ":" in voice_id


def parse_blend(voice_id: str) -> list[tuple[str, float]]:
    """The parts of a blend with weights summing to one; a plain id is one part of weight 1."""
    parts: list[tuple[str, float]] = []
    for piece in voice_id.split("+"):
        match = _PART.match(piece)
        if match is None:
            raise StudioError(
                None,
                f"'{voice_id}' is not a Kokoro voice or blend",
                "write a blend as af_heart+am_michael or af_heart:0.6+bm_george:0.4",
            )
        weight = float(match.group(2)) if match.group(2) else 1.0
        parts.append((match.group(1), weight))
    total = sum(w for _, w in parts)
    names = [n for n, _ in parts]
    if total <= 0 or len(set(names)) != len(names):
        raise StudioError(
            None,
            f"the blend '{voice_id}' needs distinct voices and weights above zero",
            "for example af_heart:0.6+bm_george:0.4",
        )
    return [(name, w / total) for name, w in parts if w > 0]


def canonical_blend(voice_id: str) -> str:
    """One spelling per blend: parts in the order given, weights to three places."""
    parts = parse_blend(voice_id)
    if len(parts) == 1:
        return parts[0][0]
    return "+".join(f"{name}:{_weight(w)}" for name, w in parts)


def _weight(w: float) -> str:
    return f"{w:.3f}".rstrip("0").rstrip(".") or "0"


def mix(tables: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """The weighted mean of style tables (rows beyond the shortest table are dropped)."""
    rows = min(t.shape[0] for t in tables)
    out = np.zeros((rows, tables[0].shape[1]), dtype=np.float64)
    for table, weight in zip(tables, weights, strict=True):
        out += weight * table[:rows].astype(np.float64)
    return out.astype(np.float32)


def blend_traits(voice_id: str) -> VoiceTraits:
    """The accent of the largest part; the gender when all parts share one."""
    parts = parse_blend(voice_id)
    lead = max(parts, key=lambda p: p[1])[0]
    genders = {traits(name).gender for name, _ in parts}
    t = traits(lead)
    return VoiceTraits(t.accent, t.language, genders.pop() if len(genders) == 1 else "", t.label)


def blend_name(voice_id: str) -> str:
    parts = parse_blend(voice_id)
    inner = " + ".join(f"{display_name(n).split(' (')[0]} {round(100 * w)}%" for n, w in parts)
    t = blend_traits(voice_id)
    detail = ", ".join(x for x in (t.label, t.gender) if x)
    return f"Blend: {inner} ({detail})"


# -- saved blends ---------------------------------------------------------------------------------


def _blends_path() -> Path:
    return paths.voices_dir(ENGINE) / BLENDS_FILE


def saved_blends() -> dict[str, str]:
    """Saved blends: id -> name. A damaged file lists none rather than hiding every voice."""
    path = _blends_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data.get("blends", []) if isinstance(data, dict) else []
        return {str(b["id"]): str(b.get("name") or "") for b in items if isinstance(b, dict)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def save_blend(voice_id: str, name: str = "") -> str:
    """Remember a blend so that it is listed as a voice; returns its canonical id."""
    blend = canonical_blend(voice_id)
    if not is_blend(blend):
        raise StudioError(None, f"'{voice_id}' is one voice, not a blend", "join voices with +")
    stored = saved_blends()
    stored[blend] = name.strip()
    payload = {"blends": [{"id": k, "name": v} for k, v in stored.items()]}
    write_text_atomic(_blends_path(), json.dumps(payload, indent=2, ensure_ascii=False))
    return blend
