"""The pause model: how long the silence after each kind of boundary lasts, tunable per book."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from pipelines.core.model import PauseKind


@dataclass(frozen=True, slots=True)
class PauseModel:
    """Seconds of room tone after an utterance, by what follows it.

    The defaults follow common narration practice: a breath between sentences, a beat longer
    between paragraphs and at a change of speaker, a clear rest after a heading or a scene break.
    """

    none: float = 0.0
    clause: float = 0.25
    sentence: float = 0.45
    line: float = 0.4
    turn: float = 0.65
    paragraph: float = 0.8
    heading: float = 1.3
    scene: float = 2.0
    chapter: float = 2.0

    def seconds(self, kind: PauseKind) -> float:
        value: float = getattr(self, kind.value)
        return value

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PauseModel:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: float(v) for k, v in data.items() if k in known}
        for name, value in values.items():
            if not 0.0 <= value <= 10.0:
                raise ValueError(f"pause '{name}' must be between 0 and 10 seconds, not {value}")
        return cls(**values)
