"""A stand-in for Inworld's text-to-speech HTTP API (`POST /tts/v1/voice`, `GET /tts/v1/voices`)
in the shapes its documentation shows, checking what it is sent: HTTP Basic auth with the
Base64 key, a known voice and model, at most 2,000 characters, LINEAR16 at a rate it offers.
Audio comes back as a Base64 WAV, as LINEAR16 does from Inworld; errors in the Google-style
`{"code", "message", "details"}` body."""

from __future__ import annotations

import base64
import io
import json
from typing import Any
from urllib.parse import urlparse

import soundfile

from tests.standins.common import JsonHandler, StandIn, speech_like

MODELS = {"inworld-tts-1.5-max", "inworld-tts-1.5-mini"}
MAX_CHARS = 2000
RATES = {8000, 16000, 22050, 24000, 32000, 44100, 48000}
VOICES = [
    {"voiceId": "Ashley", "displayName": "Ashley", "languages": ["en"],
     "description": "A warm, natural female voice", "tags": ["female", "warm"]},
    {"voiceId": "Dennis", "displayName": "Dennis", "languages": ["en"],
     "description": "Middle-aged man with a smooth, calm voice", "tags": ["male", "calm"]},
    {"voiceId": "Alex", "displayName": "Alex", "languages": ["en"],
     "description": "Energetic and expressive mid-range male voice", "tags": ["male"]},
    {"voiceId": "workspace_standin__martha", "displayName": "Martha", "languages": ["en"],
     "description": "Cloned from the author's recording", "tags": ["female"], "source": "IVC"},
]  # fmt: skip
# gRPC status codes the way Google-style APIs put them in error bodies.
CODES = {400: 3, 401: 16, 402: 9, 403: 7, 404: 5, 429: 8, 500: 13, 503: 14}


def _error(status: int, message: str) -> tuple[int, Any]:
    return status, {"code": CODES.get(status, 2), "message": message, "details": []}


class InworldHandler(JsonHandler):
    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Basic {self.owner.api_key}":
            return True
        self.send_json(*_error(401, "Unauthenticated: invalid authorization credentials"))
        return False

    def do_GET(self) -> None:
        if not self._authorized():
            return
        if urlparse(self.path).path != "/tts/v1/voices":
            self.send_json(*_error(404, "Not found"))
            return
        self.owner.count("voices")
        self.send_json(200, {"voices": VOICES})

    def do_POST(self) -> None:
        raw = self.read_body()
        if not self._authorized():
            return
        if urlparse(self.path).path != "/tts/v1/voice":
            self.send_json(*_error(404, "Not found"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(*_error(400, "Invalid JSON payload received"))
            return
        problem = _problem(body)
        if problem:
            self.send_json(*_error(400, problem))
            return
        self.owner.record(body)
        fault = self.owner.next_fault()
        if fault and fault.kind != "drop":
            self._send_fault(fault.kind, fault.retry_after)
            return
        config = body.get("audioConfig") or {}
        rate = int(config.get("sampleRateHertz") or 48000)
        audio = speech_like(body["text"], rate)
        speed = float(config.get("speakingRate", 1.0))
        if speed != 1.0:
            audio = audio[: max(1, int(len(audio) / speed))]
        wav = io.BytesIO()
        soundfile.write(wav, audio, rate, format="WAV", subtype="PCM_16")
        answer = {
            "audioContent": base64.b64encode(wav.getvalue()).decode(),
            "usage": {"processedCharactersCount": len(body["text"]), "modelId": body["modelId"]},
        }
        data = json.dumps(answer).encode()
        self.send_audio(data, "application/json", drop=fault is not None and fault.kind == "drop")

    def _send_fault(self, kind: str, retry_after: float | None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        answers = {
            "rate_limit": _error(429, "Resource exhausted: rate limit exceeded"),
            "concurrent": _error(429, "Resource exhausted: too many concurrent requests"),
            "busy": _error(503, "The service is currently unavailable"),
            "revoked": _error(401, "Unauthenticated: the API key was revoked"),
            "quota": _error(429, "Resource exhausted: character quota exceeded for this plan"),
            "payment": _error(402, "Payment required"),
            "server_error": _error(500, "Internal error"),
        }
        self.send_json(*answers[kind], headers)


def _problem(body: Any) -> str:
    if not isinstance(body, dict):
        return "the body must be an object"
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return "text: must not be empty"
    if len(text) > MAX_CHARS:
        return f"text: at most {MAX_CHARS} characters per request"
    if body.get("voiceId") not in {v["voiceId"] for v in VOICES}:
        return f"voiceId: unknown voice '{body.get('voiceId')}'"
    if body.get("modelId") not in MODELS:
        return f"modelId: unknown model '{body.get('modelId')}'"
    config = body.get("audioConfig") or {}
    if config.get("audioEncoding", "MP3") != "LINEAR16":
        return "audioConfig.audioEncoding: the stand-in makes LINEAR16 only"
    if int(config.get("sampleRateHertz") or 48000) not in RATES:
        return "audioConfig.sampleRateHertz: unsupported"
    if not 0.5 <= float(config.get("speakingRate", 1.0)) <= 1.5:
        return "audioConfig.speakingRate: must be between 0.5 and 1.5"
    if not 0 <= float(body.get("temperature", 1.0)) <= 2:
        return "temperature: must be between 0 and 2"
    unknown = set(body) - {"text", "voiceId", "modelId", "audioConfig", "temperature"}
    return f"unknown fields: {sorted(unknown)}" if unknown else ""


class InworldStandIn(StandIn):
    handler = InworldHandler

    def __init__(self, key: str = "standin-key:standin-secret-0123456789", **kw: Any) -> None:
        # The portal hands out the key and secret already joined and Base64-encoded.
        self.gets: dict[str, int] = {}
        super().__init__(base64.b64encode(key.encode()).decode(), **kw)

    @property
    def base_url(self) -> str:
        return self.origin

    def count(self, what: str) -> None:
        with self.lock:
            self.gets[what] = self.gets.get(what, 0) + 1
