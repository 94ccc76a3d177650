"""Every engine the contract test runs against: name -> factory returning (engine, voice_id).

A factory may start whatever the engine needs first (a local stand-in server for a cloud API,
with its address in the environment so that pool workers find it too). The name must also be an
engine the registry knows, because the pool builds its engines by name in its workers.
"""

from __future__ import annotations

from collections.abc import Callable

from pipelines.engines.base import Engine
from pipelines.engines.registry import get_engine

EngineFactory = Callable[[], tuple[Engine, str]]


def _piper() -> tuple[Engine, str]:
    return get_engine("piper"), "joe-us"


def _silence() -> tuple[Engine, str]:
    return get_engine("silence"), "default"


ENGINE_FACTORIES: dict[str, EngineFactory] = {
    "piper": _piper,
    "silence": _silence,
}
