"""Helpers the cloud tests share: a fresh stand-in per test, announced through monkeypatch, with
retries made quick (the waits the server asks for are still honoured)."""

from __future__ import annotations

import pytest

from tests.standins.elevenlabs_server import ElevenLabsStandIn
from tests.standins.inworld_server import InworldStandIn
from tests.standins.openai_server import OpenAIStandIn


def quick_retries(monkeypatch: pytest.MonkeyPatch, provider: str, attempts: int = 4) -> None:
    prefix = f"AUDIOBOOK_STUDIO_{provider.upper()}_"
    monkeypatch.setenv(prefix + "MAX_ATTEMPTS", str(attempts))
    monkeypatch.setenv(prefix + "BACKOFF_INITIAL_S", "0.01")
    monkeypatch.setenv(prefix + "BACKOFF_MAX_S", "0.05")


def announce_openai(monkeypatch: pytest.MonkeyPatch, server: OpenAIStandIn) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_REALTIME_BASE_URL", server.realtime_url)
    quick_retries(monkeypatch, "openai")


def announce_elevenlabs(monkeypatch: pytest.MonkeyPatch, server: ElevenLabsStandIn) -> None:
    monkeypatch.setenv("ELEVENLABS_BASE_URL", server.base_url)
    monkeypatch.setenv("ELEVENLABS_API_KEY", server.api_key)
    quick_retries(monkeypatch, "elevenlabs")


def announce_inworld(monkeypatch: pytest.MonkeyPatch, server: InworldStandIn) -> None:
    monkeypatch.setenv("INWORLD_BASE_URL", server.base_url)
    monkeypatch.setenv("INWORLD_API_KEY", server.api_key)
    quick_retries(monkeypatch, "inworld")
