"""A stand-in for OpenAI's Speech API (`POST /v1/audio/speech`, `GET /v1/models`) and its Realtime
API (a WebSocket on a second port, `openai_realtime_server`), speaking the documented shapes and
checking what it is sent.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any
from urllib.parse import urlparse

import soundfile

from tests.standins.common import JsonHandler, StandIn, speech_like, to_s16le
from tests.standins.openai_realtime_server import MODELS as REALTIME_MODELS
from tests.standins.openai_realtime_server import RealtimeStandIn

SPEECH_MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15"}
VOICES = {
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx",
    "nova", "sage", "shimmer", "verse", "marin", "cedar",
}  # fmt: skip
FORMATS = {"mp3", "opus", "aac", "flac", "wav", "pcm"}
RATE = 24000
MAX_INPUT = 4096


def _error(status: int, message: str, kind: str, code: str | None = None) -> tuple[int, Any]:
    return status, {"error": {"message": message, "type": kind, "param": None, "code": code}}


class OpenAIHandler(JsonHandler):
    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.owner.api_key}":
            return True
        status, body = _error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )
        self.send_json(status, body)
        return False

    def do_GET(self) -> None:
        if urlparse(self.path).path != "/v1/models":
            self.send_json(*_error(404, "Unknown path", "invalid_request_error"))
            return
        if not self._authorized():
            return
        models = sorted(SPEECH_MODELS | REALTIME_MODELS | {"gpt-4o", "whisper-1"})
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "openai"} for m in models]
        self.send_json(200, {"object": "list", "data": data})

    def do_POST(self) -> None:
        if urlparse(self.path).path != "/v1/audio/speech":
            self.send_json(*_error(404, "Unknown path", "invalid_request_error"))
            return
        started = time.monotonic()
        text = ""
        try:
            text = self._speech()
        finally:
            if text:  # a synthesis request (valid, recorded): note when it was served
                self.owner.record_span(started, text)

    def _speech(self) -> str:
        """Answer one speech request; returns its text once it counts as a synthesis request."""
        raw = self.read_body()
        if not self._authorized():
            return ""
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(*_error(400, "The body is not JSON", "invalid_request_error"))
            return ""
        problem = self._problem(body)
        if problem:
            self.send_json(*_error(400, problem, "invalid_request_error"))
            return ""
        self.owner.record(body)
        text = str(body["input"])
        self.owner.delay()
        fault = self.owner.next_fault()
        if fault and fault.kind != "drop":
            self._send_fault(fault.kind, fault.retry_after)
            return text
        fmt = body.get("response_format", "mp3")
        audio = speech_like(body["input"], RATE)
        speed = float(body.get("speed", 1.0))
        if speed != 1.0:
            audio = audio[: max(1, int(len(audio) / speed))]
        if fmt == "pcm":
            data, ctype = to_s16le(audio), "audio/pcm"
        elif fmt in ("wav", "flac"):
            buf = io.BytesIO()
            soundfile.write(buf, audio, RATE, format=fmt.upper(), subtype="PCM_16")
            data, ctype = buf.getvalue(), f"audio/{fmt}"
        else:
            self.send_json(
                *_error(400, f"the stand-in does not make {fmt}", "invalid_request_error")
            )
            return text
        self.send_audio(data, ctype, drop=fault is not None and fault.kind == "drop")
        return text

    def _problem(self, body: Any) -> str:
        if not isinstance(body, dict):
            return "the body must be an object"
        for name in ("model", "input", "voice"):
            if name not in body:
                return f"'{name}' is required"
        model, text, voice = body["model"], body["input"], body["voice"]
        if model not in SPEECH_MODELS:
            return f"model '{model}' does not exist"
        if not isinstance(text, str) or not text.strip():
            return "'input' must be a non-empty string"
        if len(text) > MAX_INPUT:
            return f"'input' is longer than {MAX_INPUT} characters"
        if isinstance(voice, dict):
            if not str(voice.get("id", "")).startswith("voice_"):
                return "custom voice ids look like voice_..."
        elif voice not in VOICES:
            return f"voice '{voice}' is not supported"
        if body.get("response_format", "mp3") not in FORMATS:
            return "unsupported response_format"
        speed = body.get("speed", 1.0)
        if not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
            return "speed must be between 0.25 and 4.0"
        if "instructions" in body and model in ("tts-1", "tts-1-hd"):
            return "instructions are not supported for this model"
        unknown = set(body) - {
            "model", "input", "voice", "instructions", "response_format", "speed", "stream_format"
        }  # fmt: skip
        return f"unknown parameters: {sorted(unknown)}" if unknown else ""

    def _send_fault(self, kind: str, retry_after: float | None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        if kind in ("rate_limit", "busy", "concurrent"):
            status, body = _error(429, "Rate limit reached for requests", "requests",
                                  "rate_limit_exceeded")  # fmt: skip
        elif kind == "quota":
            status, body = _error(
                429, "You exceeded your current quota.", "insufficient_quota", "insufficient_quota"
            )
        elif kind == "revoked":
            status, body = _error(
                401, "Incorrect API key provided: sk-...revoked", "invalid_request_error",
                "invalid_api_key",
            )  # fmt: skip
        elif kind == "payment":
            status, body = _error(402, "Payment required", "billing_error", "billing_hard_limit")
        else:
            status, body = _error(500, "The server had an error.", "server_error")
        self.send_json(status, body, headers)


class OpenAIStandIn(StandIn):
    """The Speech API on HTTP and the Realtime API (`openai_realtime_server`) on a second port,
    sharing one key, one request log and one fault queue."""

    handler = OpenAIHandler

    def __init__(self, api_key: str = "sk-standin-openai-0123456789", **kw: Any) -> None:
        """`latency_s` (a keyword, default 0) delays every Speech API synthesis request."""
        super().__init__(api_key, **kw)
        self.realtime = RealtimeStandIn(owner=self)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def realtime_url(self) -> str:
        return self.realtime.url

    def stop(self) -> None:
        self.realtime.stop()
        super().stop()

    def __enter__(self) -> OpenAIStandIn:
        return self
