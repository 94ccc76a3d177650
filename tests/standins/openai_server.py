"""A stand-in for OpenAI's Speech API (`POST /v1/audio/speech`, `GET /v1/models`), its Realtime
API (a WebSocket on a second port, `openai_realtime_server`) and chat completions with structured
output (`POST /v1/chat/completions`, for the model pass over speakers), speaking the documented
shapes and checking what it is sent.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
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
CHAT_MODELS = {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano"}
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
        if urlparse(self.path).path == "/v1/chat/completions":
            self._chat()
            return
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

    def _chat(self) -> None:
        """A chat completion with structured output: each quotation id the request's schema
        lists gets the speaker the owner's `chat_rule` picks (by default the first name the
        schema offers); `chat_content` replaces the whole reply (a malformed one, say)."""
        raw = self.read_body()
        if not self._authorized():
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(*_error(400, "The body is not JSON", "invalid_request_error"))
            return
        problem = _chat_problem(body)
        if problem:
            self.send_json(*_error(400, problem, "invalid_request_error"))
            return
        self.owner.record_chat(body)
        fault = self.owner.next_fault()
        if fault and fault.kind != "drop":
            self._send_fault(fault.kind, fault.retry_after)
            return
        schema = body["response_format"]["json_schema"]["schema"]
        answer = schema["properties"]["answers"]["items"]["properties"]
        ids = answer["id"]["enum"]
        names = answer["speaker"]["anyOf"][0]["enum"]
        if self.owner.chat_content is not None:
            content = self.owner.chat_content(body)
        else:
            rule = self.owner.chat_rule or (lambda qid, offered, request: offered[0])
            content = json.dumps(
                {"answers": [{"id": qid, "speaker": rule(qid, names, body)} for qid in ids]}
            )
        sent = sum(len(str(m.get("content", ""))) for m in body["messages"])
        tokens_in, tokens_out = sent // 4 + 1, len(content) // 4 + 1
        self.send_json(
            200,
            {
                "id": f"chatcmpl-standin-{len(self.owner.chats)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": {
                    "prompt_tokens": tokens_in,
                    "completion_tokens": tokens_out,
                    "total_tokens": tokens_in + tokens_out,
                },
            },
        )

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


def _strict_problem(schema: Any, where: str = "schema") -> str:
    """What breaks OpenAI's strict structured-output rules: every object lists all its
    properties as required and allows no others."""
    if not isinstance(schema, dict):
        return f"{where} is not an object"
    if schema.get("type") == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is not False:
            return f"{where}: additionalProperties must be false"
        if sorted(schema.get("required", [])) != sorted(props):
            return f"{where}: every property must be required"
        for name, sub in props.items():
            if problem := _strict_problem(sub, f"{where}.{name}"):
                return problem
    if "items" in schema and (problem := _strict_problem(schema["items"], f"{where}[]")):
        return problem
    for n, sub in enumerate(schema.get("anyOf", [])):
        if problem := _strict_problem(sub, f"{where}|{n}"):
            return problem
    return ""


def _chat_problem(body: Any) -> str:
    if not isinstance(body, dict):
        return "the body must be an object"
    if body.get("model") not in CHAT_MODELS:
        return f"model '{body.get('model')}' does not exist"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list"
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            return "each message needs a role"
    fmt = body.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema":
        return "the stand-in answers json_schema requests only"
    spec = fmt.get("json_schema") or {}
    if not spec.get("name") or spec.get("strict") is not True:
        return "json_schema needs a name and strict: true"
    return _strict_problem(spec.get("schema"))


class OpenAIStandIn(StandIn):
    """The Speech API on HTTP and the Realtime API (`openai_realtime_server`) on a second port,
    sharing one key, one request log and one fault queue."""

    handler = OpenAIHandler

    def __init__(self, api_key: str = "sk-standin-openai-0123456789", **kw: Any) -> None:
        """`latency_s` (a keyword, default 0) delays every Speech API synthesis request."""
        super().__init__(api_key, **kw)
        self.realtime = RealtimeStandIn(owner=self)
        self.chats: list[dict[str, Any]] = []  # every chat completion request, as received
        # (quotation id, names the schema offers, the request) -> the speaker to answer
        self.chat_rule: Callable[[str, list[str], dict[str, Any]], str] | None = None
        self.chat_content: Callable[[dict[str, Any]], str] | None = None  # the whole reply

    def record_chat(self, request: dict[str, Any]) -> None:
        with self.lock:
            self.chats.append(request)

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
