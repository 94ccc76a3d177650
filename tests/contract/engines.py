"""Every engine the contract test runs against: name -> factory returning (engine, voice_id).

A factory may start whatever the engine needs first (a local stand-in server for a cloud API,
with its address in the environment so that pool workers find it too); what it puts in the
environment is undone once that engine's tests are done. The name must also be an
engine the registry knows, because the pool builds its engines by name in its workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pipelines.engines.base import Engine
from pipelines.engines.registry import get_engine

EngineFactory = Callable[[], tuple[Engine, str]]


def _piper() -> tuple[Engine, str]:
    return get_engine("piper"), "joe-us"


def _silence() -> tuple[Engine, str]:
    return get_engine("silence"), "default"


def _openai() -> tuple[Engine, str]:
    from tests.standins.env import start_openai

    start_openai()
    return get_engine("openai"), "alloy"


def _elevenlabs() -> tuple[Engine, str]:
    from tests.standins.env import start_elevenlabs

    start_elevenlabs()
    return get_engine("elevenlabs"), "21m00Tcm4TlvDq8ikWAM"


def _inworld() -> tuple[Engine, str]:
    from tests.standins.env import start_inworld

    start_inworld()
    return get_engine("inworld"), "Ashley"


def _styletts2() -> tuple[Engine, str]:
    from tests.styletts2_tiny import tiny_model_for_tests

    tiny_model_for_tests()  # skips when the styletts2 extra is not installed
    return get_engine("styletts2"), "joe-us-reference"


def _kokoro() -> tuple[Engine, str]:
    from pipelines.engines.kokoro.files import MODEL_DIR_ENV
    from tests.kokoro_files import install_kokoro_elsewhere

    # Skips when the model parts or the shared voices are missing. The test module puts the
    # environment back afterwards, so later tests see no Kokoro model.
    os.environ[MODEL_DIR_ENV] = str(install_kokoro_elsewhere())
    return get_engine("kokoro"), "af_heart"


ENGINE_FACTORIES: dict[str, EngineFactory] = {
    "piper": _piper,
    "silence": _silence,
    "openai": _openai,
    "elevenlabs": _elevenlabs,
    "inworld": _inworld,
    "kokoro": _kokoro,
    "styletts2": _styletts2,
}
