"""One stand-in server per provider for the whole test session, announced in the environment
(base URL and key) so that the engines, and the pool's worker processes, find them."""

from __future__ import annotations

import os

from tests.standins.elevenlabs_server import ElevenLabsStandIn
from tests.standins.inworld_server import InworldStandIn
from tests.standins.openai_server import OpenAIStandIn

_SERVERS: dict[str, OpenAIStandIn | ElevenLabsStandIn | InworldStandIn] = {}


def start_openai() -> OpenAIStandIn:
    server = _SERVERS.get("openai")
    if not isinstance(server, OpenAIStandIn):
        server = OpenAIStandIn(lifetime_s=1800)
        _SERVERS["openai"] = server
    os.environ["OPENAI_BASE_URL"] = server.base_url
    os.environ["OPENAI_API_KEY"] = server.api_key
    os.environ["AUDIOBOOK_STUDIO_OPENAI_REALTIME_BASE_URL"] = server.realtime_url
    return server


def start_elevenlabs() -> ElevenLabsStandIn:
    server = _SERVERS.get("elevenlabs")
    if not isinstance(server, ElevenLabsStandIn):
        server = ElevenLabsStandIn(lifetime_s=1800)
        _SERVERS["elevenlabs"] = server
    os.environ["ELEVENLABS_BASE_URL"] = server.base_url
    os.environ["ELEVENLABS_API_KEY"] = server.api_key
    return server


def start_inworld() -> InworldStandIn:
    server = _SERVERS.get("inworld")
    if not isinstance(server, InworldStandIn):
        server = InworldStandIn(lifetime_s=1800)
        _SERVERS["inworld"] = server
    os.environ["INWORLD_BASE_URL"] = server.base_url
    os.environ["INWORLD_API_KEY"] = server.api_key
    return server
