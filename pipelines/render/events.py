"""Plain events the render service emits; the GUI bridges them to Qt signals, the CLI draws bars."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobEvent:
    job_id: int
    chapter_id: int
    chapter_title: str


@dataclass(frozen=True, slots=True)
class JobQueued(JobEvent):
    pass


@dataclass(frozen=True, slots=True)
class JobStarted(JobEvent):
    chunks_total: int
    chunks_cached: int


@dataclass(frozen=True, slots=True)
class JobProgress(JobEvent):
    stage: str  # "synthesis", "mastering"
    done: int
    total: int
    fraction: float
    eta_s: float | None


@dataclass(frozen=True, slots=True)
class JobStateChanged(JobEvent):
    state: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class JobFinished(JobEvent):
    duration_s: float
    acx_passed: bool


@dataclass(frozen=True, slots=True)
class JobFailed(JobEvent):
    error: str


Listener = Callable[[JobEvent], None]
