"""A stand-in for OpenAI's Speech API (`POST /v1/audio/speech`, `GET /v1/models`) and its Realtime
API (a WebSocket on a second port), speaking the documented shapes and checking what it is sent.
"""

from __future__ import annotations

import base64
import http
import io
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlparse

import soundfile

from tests.standins.common import JsonHandler, StandIn, speech_like, to_s16le

SPEECH_MODELS = {"tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15"}
REALTIME_MODELS = {"gpt-realtime-2.1-mini"}
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
        raw = self.read_body()
        if not self._authorized():
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.send_json(*_error(400, "The body is not JSON", "invalid_request_error"))
            return
        problem = self._problem(body)
        if problem:
            self.send_json(*_error(400, problem, "invalid_request_error"))
            return
        self.owner.record(body)
        fault = self.owner.next_fault()
        if fault and fault.kind != "drop":
            self._send_fault(fault.kind, fault.retry_after)
            return
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
            return
        self.send_audio(data, ctype, drop=fault is not None and fault.kind == "drop")

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
    handler = OpenAIHandler

    def __init__(self, api_key: str = "sk-standin-openai-0123456789", **kw: Any) -> None:
        super().__init__(api_key, **kw)
        self.realtime_sessions: list[dict[str, Any]] = []
        self._ws = _start_realtime(self)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    @property
    def realtime_url(self) -> str:
        host, port = self._ws.socket.getsockname()[:2]
        return f"ws://{host}:{port}/v1"

    def stop(self) -> None:
        self._ws.shutdown()
        super().stop()


def _start_realtime(owner: OpenAIStandIn) -> Any:
    from websockets.sync.server import serve

    def process_request(connection: Any, request: Any) -> Any:
        query = parse_qs(urlparse(request.path).query)
        if request.headers.get("Authorization") != f"Bearer {owner.api_key}":
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "invalid_api_key\n")
        if query.get("model", [""])[0] not in REALTIME_MODELS:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "unknown model\n")
        return None

    def session(ws: Any) -> None:
        ws.send(json.dumps({"type": "session.created", "event_id": "ev_0", "session": {}}))
        state: dict[str, Any] = {"session": {}, "text": ""}
        for message in ws:
            event = json.loads(message)
            kind = event.get("type")
            if kind == "session.update":
                state["session"] = event["session"]
                ws.send(json.dumps({"type": "session.updated", "event_id": "ev_1",
                                    "session": event["session"]}))  # fmt: skip
            elif kind == "conversation.item.create":
                parts = event["item"]["content"]
                state["text"] = " ".join(p["text"] for p in parts if p["type"] == "input_text")
            elif kind == "response.create":
                owner.record({"realtime": True, **state})
                fault = owner.next_fault()
                if fault and fault.kind == "quota":
                    ws.send(json.dumps({"type": "error", "event_id": "ev_e", "error": {
                        "type": "insufficient_quota", "code": "insufficient_quota",
                        "message": "You exceeded your current quota."}}))  # fmt: skip
                    continue
                _send_response(ws, state, drop=fault is not None and fault.kind == "drop")
                if fault is not None and fault.kind == "drop":
                    return

    server = serve(session, "127.0.0.1", 0, process_request=process_request)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _send_response(ws: Any, state: dict[str, Any], drop: bool) -> None:
    audio_cfg = state["session"].get("audio", {}).get("output", {})
    fmt = audio_cfg.get("format", {})
    if fmt.get("type") != "audio/pcm" or audio_cfg.get("voice") not in VOICES:
        ws.send(json.dumps({"type": "error", "event_id": "ev_x", "error": {
            "type": "invalid_request_error", "code": "invalid_value",
            "message": "audio output must be audio/pcm with a known voice"}}))  # fmt: skip
        return
    pcm = to_s16le(speech_like(state["text"], RATE))
    ids = {"response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": 0}
    ws.send(json.dumps({"type": "response.created", "event_id": "ev_2",
                        "response": {"id": "resp_1", "status": "in_progress"}}))  # fmt: skip
    step = RATE  # half a second of 16-bit samples per delta
    for i, start in enumerate(range(0, len(pcm), step)):
        if drop and start > len(pcm) // 2:
            ws.close()
            return
        delta = base64.b64encode(pcm[start : start + step]).decode()
        ws.send(json.dumps({"type": "response.output_audio.delta", "event_id": f"ev_d{i}",
                            "delta": delta, **ids}))  # fmt: skip
    ws.send(json.dumps({"type": "response.output_audio.done", "event_id": "ev_3", **ids}))
    ws.send(json.dumps({"type": "response.done", "event_id": "ev_4",
                        "response": {"id": "resp_1", "status": "completed"}}))  # fmt: skip
