"""A stand-in for OpenAI's Realtime API: a WebSocket server on 127.0.0.1 that the real `openai`
SDK connects to (`client.realtime.connect`), speaking the GA event shapes.

It takes `session.update`, `conversation.item.create` and `response.create`, and answers with
`response.created`, `response.output_audio.delta` (24 kHz s16le, base64), the response's own
transcript (`response.output_audio_transcript.delta` / `.done`), `response.output_audio.done`
and `response.done`. Errors: a wrong key is refused at the handshake (401); `fail_handshake`
scripts a 429 with Retry-After or a 401 there; faults queued on the owner (`StandIn.fail`) become
error events (rate limit with "try again in Ns", exhausted quota, server error) or a connection
dropped halfway. `reword` makes it say one sentence differently on its first attempts, as a
conversational model may, and `attempts` counts the responses asked for each text.
"""

from __future__ import annotations

import base64
import http
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from tests.standins.common import Fault, speech_like, to_s16le

MODELS = {"gpt-realtime-2.1-mini"}
# The Realtime API's built-in voices (fable, nova and onyx are Speech API voices only).
VOICES = {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
RATE = 24000
MAX_SPEED = 1.5
GA = {
    "audio": "response.output_audio.delta",
    "audio_done": "response.output_audio.done",
    "transcript": "response.output_audio_transcript.delta",
    "transcript_done": "response.output_audio_transcript.done",
}
BETA = {  # the names before the API's general release, which some servers still send
    "audio": "response.audio.delta",
    "audio_done": "response.audio.done",
    "transcript": "response.audio_transcript.delta",
    "transcript_done": "response.audio_transcript.done",
}


class Owner(Protocol):
    api_key: str

    def record(self, request: dict[str, Any]) -> None: ...

    def next_fault(self) -> Fault | None: ...


@dataclass(slots=True)
class Rewording:
    sentence: str  # said differently wherever a text holds it ...
    instead: str  # ... as this
    times: int  # on this many attempts at that text


class _OwnQueue:
    """Key, requests and faults for a Realtime stand-in that runs on its own."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.faults: deque[Fault] = deque()

    def record(self, request: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(request)

    def next_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None


class RealtimeStandIn:
    """The Realtime WebSocket server. Alone it keeps its own key, requests and faults; given
    an `owner` (the Speech API stand-in) it shares that one's key, request log and faults."""

    def __init__(
        self, owner: Owner | None = None, api_key: str = "sk-standin-openai-0123456789"
    ) -> None:
        from websockets.sync.server import serve

        self.owner: Owner = owner if owner is not None else _OwnQueue(api_key)
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()  # responses asked for, by the text sent
        self.rewordings: list[Rewording] = []
        self.handshake_faults: deque[Fault] = deque()
        self.names = GA
        self.transcripts = True  # False: no transcript events, as a server that sends none
        self.server = serve(self._session, "127.0.0.1", 0, process_request=self._handshake)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        return getattr(self.owner, "requests", [])

    def fail(self, kind: str, times: int = 1, retry_after: float | None = None) -> None:
        """Queue faults for the next responses (only when running on its own)."""
        if not isinstance(self.owner, _OwnQueue):
            raise TypeError("queue faults on the owner")
        self.owner.faults.extend(Fault(kind, retry_after) for _ in range(times))

    def fail_handshake(self, kind: str, times: int = 1, retry_after: float | None = None) -> None:
        """Refuse the next connections: "rate_limit" (429, Retry-After) or "revoked" (401)."""
        if kind not in ("rate_limit", "revoked"):
            raise ValueError(f"unknown handshake fault {kind!r}")
        with self.lock:
            self.handshake_faults.extend(Fault(kind, retry_after) for _ in range(times))

    def reword(self, sentence: str, instead: str, times: int = 1) -> None:
        """Say `sentence` as `instead` on the first `times` attempts at any text holding it."""
        with self.lock:
            self.rewordings.append(Rewording(sentence, instead, times))

    def stop(self) -> None:
        self.server.shutdown()

    # -- the protocol ---------------------------------------------------------------------------

    def _handshake(self, connection: Any, request: Any) -> Any:
        query = parse_qs(urlparse(request.path).query)
        with self.lock:
            fault = self.handshake_faults.popleft() if self.handshake_faults else None
        if fault is not None and fault.kind == "rate_limit":
            response = connection.respond(
                http.HTTPStatus.TOO_MANY_REQUESTS, "rate_limit_exceeded\n"
            )
            if fault.retry_after is not None:
                response.headers["Retry-After"] = f"{fault.retry_after:g}"
            return response
        key_ok = request.headers.get("Authorization") == f"Bearer {self.owner.api_key}"
        if fault is not None or not key_ok:
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "invalid_api_key\n")
        if query.get("model", [""])[0] not in MODELS:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "model_not_found\n")
        return None

    def _session(self, ws: Any) -> None:
        send = _sender(ws)
        send({"type": "session.created", "session": {}})
        state: dict[str, Any] = {"session": {}, "text": ""}
        for message in ws:
            event = json.loads(message)
            kind = event.get("type")
            if kind == "session.update":
                state["session"] = event["session"]
                send({"type": "session.updated", "session": event["session"]})
            elif kind == "conversation.item.create":
                parts = event["item"]["content"]
                state["text"] = " ".join(p["text"] for p in parts if p["type"] == "input_text")
                send({"type": "conversation.item.added", "item": event["item"]})
            elif kind == "response.create":
                if not self._respond(ws, send, state):
                    return
            else:
                send(_error("invalid_request_error", "unknown_event", f"unknown event {kind}"))

    def _respond(self, ws: Any, send: Any, state: dict[str, Any]) -> bool:
        """Answer one response.create; False when the connection was dropped. An owner with a
        latency (`StandIn.latency_s`) delays it, and notes when it was served (`spans`)."""
        started = time.monotonic()
        try:
            return self._answer(ws, send, state)
        finally:
            record_span = getattr(self.owner, "record_span", None)
            if callable(record_span):
                record_span(started, state["text"])

    def _answer(self, ws: Any, send: Any, state: dict[str, Any]) -> bool:
        text = state["text"]
        with self.lock:
            self.attempts[text] += 1
            attempt = self.attempts[text]
        self.owner.record({"realtime": True, "attempt": attempt, **state})
        delay = getattr(self.owner, "delay", None)
        if callable(delay):
            delay()
        fault = self.owner.next_fault()
        if fault is not None and fault.kind != "drop":
            send(_fault_event(fault))
            return True
        problem = _problem(state)
        if problem:
            send(_error("invalid_request_error", "invalid_value", problem))
            return True
        spoken = self._spoken(text, attempt)
        pcm = to_s16le(speech_like(spoken, RATE))
        ids = {"response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": 0}
        send({"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}})
        step = RATE  # half a second of 16-bit samples per delta
        drop = fault is not None
        for start in range(0, len(pcm), step):
            if drop and start > len(pcm) // 2:
                ws.close()
                return False
            delta = base64.b64encode(pcm[start : start + step]).decode()
            send({"type": self.names["audio"], "delta": delta, **ids})
        if self.transcripts:
            for word in spoken.split(" "):
                send({"type": self.names["transcript"], "delta": word + " ", **ids})
            send({"type": self.names["transcript_done"], "transcript": spoken, **ids})
        send({"type": self.names["audio_done"], **ids})
        send({"type": "response.done", "response": {"id": "resp_1", "status": "completed"}})
        return True

    def _spoken(self, text: str, attempt: int) -> str:
        with self.lock:
            for r in self.rewordings:
                if r.sentence in text and attempt <= r.times:
                    return text.replace(r.sentence, r.instead)
        return text


def _sender(ws: Any) -> Any:
    counter = iter(range(10**9))

    def send(event: dict[str, Any]) -> None:
        ws.send(json.dumps({"event_id": f"ev_{next(counter)}", **event}))

    return send


def _error(kind: str, code: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "code": code, "message": message}}


def _fault_event(fault: Fault) -> dict[str, Any]:
    if fault.kind in ("rate_limit", "busy", "concurrent"):
        wait = f" Please try again in {fault.retry_after:g}s." if fault.retry_after else ""
        return _error("requests", "rate_limit_exceeded", f"Rate limit reached for requests.{wait}")
    if fault.kind in ("quota", "payment"):
        return _error(
            "insufficient_quota", "insufficient_quota", "You exceeded your current quota."
        )
    if fault.kind == "revoked":
        return _error("invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
    return _error("server_error", "server_error", "The server had an error.")


def _problem(state: dict[str, Any]) -> str:
    session = state["session"]
    output = session.get("audio", {}).get("output", {})
    voice = output.get("voice")
    if not state["text"].strip():
        return "the conversation holds no text to respond to"
    if output.get("format", {}).get("type") != "audio/pcm":
        return "audio output must be audio/pcm"
    if isinstance(voice, dict):
        if not str(voice.get("id", "")).startswith("voice_"):
            return "custom voice ids look like voice_..."
    elif voice not in VOICES:
        return f"voice '{voice}' is not supported by this model"
    if not 0.25 <= float(output.get("speed", 1.0)) <= MAX_SPEED:
        return f"speed must be between 0.25 and {MAX_SPEED}"
    return ""
