"""The engine protocol every voice backend implements, and what it trades in."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from pipelines.core.cancel import Cancelled as Cancelled  # engines raise it: part of their protocol
from pipelines.core.cancel import CancelToken as CancelToken
from pipelines.core.model import Utterance

SettingValue = float | int | str | bool
Settings = Mapping[str, SettingValue]


@dataclass(frozen=True, slots=True)
class Voice:
    """A voice an engine offers, with what the cast panel shows and the licence it comes under."""

    engine: str
    id: str
    name: str
    language: str = "en"
    gender: str = ""  # "female", "male", "" when unknown
    license: str = ""
    attribution: str = ""
    sample_rate: int = 22050


@dataclass(frozen=True, slots=True)
class EngineLimits:
    max_chars: int  # longest text one request may carry
    sample_rate: int  # native output rate
    concurrency: int  # parallel requests or processes it tolerates
    gpu: bool = False  # GPU engines render one job at a time


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What kind of engine this is, declared on its class: the render service and the cost
    estimate read these rather than keying behaviour on engine names."""

    stitching: bool = False  # takes the neighbouring text as context, for prosody across requests
    billed: bool = False  # a cloud provider charges for every character it speaks
    gpu: bool = False  # wants the GPU (`EngineLimits.gpu` says whether an instance got one)
    resource: str = "cpu"  # what its workers share and wait on: "cpu", "gpu" or "network"
    # The same text spoken twice can come out differently (sampled noise, a seed, a cloud
    # model), so asking for a new take of a sentence is worth it; the planner passes the take
    # number as the `take` setting, which such an engine may use as its variation.
    varies: bool = False


@dataclass(slots=True)
class AudioChunk:
    """Mono float32 PCM in [-1, 1] at `sample_rate`, with word timings when the engine has them."""

    samples: np.ndarray
    sample_rate: int
    # (text, start_s, end_s) relative to the start of this chunk
    alignments: list[tuple[str, float, float]] = field(default_factory=list)


def text_to_speak(utterance: Utterance) -> str:
    """The utterance's text, stripped; every engine refuses an empty one the same way."""
    text = utterance.text.strip()
    if not text:
        raise ValueError("nothing to say: the utterance text is empty")
    return text


@runtime_checkable
class Engine(Protocol):
    name: str
    limits: EngineLimits
    capabilities: Capabilities  # a class attribute: read without building the engine

    def voices(self) -> list[Voice]:
        """Every voice this engine can speak with right now."""
        ...

    def identity(self, voice_id: str) -> str:
        """A string that changes whenever the same text would sound different (model version,
        voice file hash). Part of the chunk cache key."""
        ...

    def synthesize(
        self,
        utterance: Utterance,
        voice_id: str,
        settings: Settings,
        cancel: CancelToken | None = None,
    ) -> Iterator[AudioChunk]:
        """Speak `utterance.text` (at most `limits.max_chars`), streaming chunks."""
        ...
