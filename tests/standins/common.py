"""What the stand-in provider servers share: a bounded threaded HTTP server, speech-like audio
whose length follows the text, and scripted faults (429 with Retry-After, 500, revoked key,
exhausted quota, a connection dropped halfway through the audio).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

CHARS_PER_SECOND = 15.0  # a narrator's pace; the contract test expects 8-25
FAULTS = (
    "rate_limit",  # 429 with Retry-After
    "server_error",  # 500
    "revoked",  # 401: the key was revoked
    "quota",  # the provider's "quota exhausted" answer
    "payment",  # 402
    "busy",  # 429 system_busy (ElevenLabs)
    "concurrent",  # 429 too_many_concurrent_requests (ElevenLabs)
    "drop",  # 200, half the audio, then the connection closes
)


def speech_like(text: str, rate: int) -> np.ndarray:
    """Mono float32: a voiced buzz per word with short gaps, lasting len(text)/15 seconds."""
    total = max(1, round(len(text) / CHARS_PER_SECOND * rate))
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    rng = np.random.default_rng(seed)
    out = np.zeros(total, dtype=np.float32)
    words = text.split() or [text]
    weights = np.array([len(w) + 1 for w in words], dtype=np.float64)
    bounds = np.concatenate([[0], np.cumsum(weights / weights.sum() * total)]).astype(int)
    for a, b in itertools.pairwise(bounds):
        gap = min(int(0.04 * rate), (b - a) // 3)
        n = b - a - gap
        if n <= 0:
            continue
        t = np.arange(n) / rate
        pitch = rng.uniform(100, 180)
        voiced = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in (1, 2, 3, 4))
        envelope = np.sin(np.pi * np.arange(n) / n) ** 0.5
        out[a : a + n] = (0.25 * voiced * envelope).astype(np.float32)
    out += rng.normal(0, 10 ** (-70 / 20), total).astype(np.float32)  # a faint room
    return np.clip(out, -0.99, 0.99)


def to_s16le(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


@dataclass(frozen=True, slots=True)
class Span:
    """One synthesis request as the stand-in served it: monotonic start and end, and its text."""

    start: float
    end: float
    text: str


@dataclass(slots=True)
class Fault:
    kind: str
    retry_after: float | None = None


class StandInServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], owner: StandIn) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.owner = owner


class StandIn:
    """A provider stand-in on 127.0.0.1 at a random port, served from a daemon thread, that
    stops by itself after `lifetime_s` (or on `stop()` / leaving the `with` block).

    `latency_s`: how long each synthesis request waits before it is answered (a stand-in for
    the provider's time to first byte; handlers that support it call `delay()`); `spans` holds
    every such request's start and end (`time.monotonic()`, comparable across processes)."""

    handler: type[BaseHTTPRequestHandler]

    def __init__(self, api_key: str, lifetime_s: float = 600.0, latency_s: float = 0.0) -> None:
        self.api_key = api_key
        self.latency_s = latency_s
        self.spans: list[Span] = []
        self.lock = threading.Lock()
        self.faults: deque[Fault] = deque()
        self.requests: list[dict[str, Any]] = []  # every synthesis request, as received
        self.server = StandInServer(self.handler, self)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._timer = threading.Timer(lifetime_s, self.stop)
        self._timer.daemon = True
        self._thread.start()
        self._timer.start()

    @property
    def origin(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(self, kind: str, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next `times` synthesis requests with fault `kind`."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}")
        with self.lock:
            self.faults.extend(Fault(kind, retry_after) for _ in range(times))

    def next_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def record(self, request: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(request)

    def delay(self) -> None:
        """Wait `latency_s` (the time a synthesis request takes before its answer)."""
        if self.latency_s > 0:
            time.sleep(self.latency_s)

    def record_span(self, start: float, text: str) -> None:
        """Note a synthesis request that began at `start` (monotonic) as answered now."""
        span = Span(start, time.monotonic(), text)
        with self.lock:
            self.spans.append(span)

    def stop(self) -> None:
        self._timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StandInServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    @property
    def owner(self) -> Any:
        return self.server.owner

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def send_audio(
        self, data: bytes, content_type: str, drop: bool, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if drop:
            # Half the promised bytes, then the line goes dead.
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.wfile.write(data)
