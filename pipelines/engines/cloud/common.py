"""What the cloud engines share: errors that pause the queue, retries, rate limits, costs.

Every request goes through `CloudCaller.call`: it waits for the provider's rate limiter, runs the
request, sorts a failure into "try again" (429, 5xx, timeouts, dropped connections: retried with
exponential backoff and jitter, honouring Retry-After), "the account cannot go on" (missing,
revoked or unpaid key, exhausted quota: `AccountProblem`, on which the render service pauses the
queue rather than failing chapter after chapter) or "this request is wrong" (`CloudRequestError`,
which fails the one job). Billed characters are counted per process in `USAGE`.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from pipelines.core.errors import StudioError
from pipelines.core.files import write_text_atomic
from pipelines.core.secrets import env_var, scrub
from pipelines.engines.base import AudioChunk, Cancelled, CancelToken
from pipelines.engines.cloud.settings import ProviderSettings

T = TypeVar("T")


# -- errors ---------------------------------------------------------------------------------------


class AccountProblem(StudioError):
    """The provider account cannot render now: no key, a revoked key, no quota or credit left, a
    retired model, or a service down past every retry. The queue pauses with this message; once
    the author fixes the cause, resuming the queue carries on where it stopped."""


class ProviderUnavailable(AccountProblem):
    """The service kept failing (5xx, 429, timeouts) after every retry."""


class CloudRequestError(StudioError):
    """The provider refused this one request (bad voice, text, format): the job fails."""


class CostCapExceeded(StudioError):
    """Rendering would cost more than the cap the author set for this book."""


class TransientError(Exception):
    """A failure worth retrying; `retry_after` is the server's Retry-After in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def missing_key(provider: str) -> AccountProblem:
    return AccountProblem(
        None,
        f"{provider}: no API key is set",
        f"run `audiobook-studio keys set {provider}` (or set {env_var(provider)}), "
        "then resume the queue",
    )


# -- sorting failures -----------------------------------------------------------------------------


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if not headers:
        return None
    lower = {k.lower(): v for k, v in headers.items()}
    with contextlib.suppress(TypeError, ValueError):
        if "retry-after-ms" in lower:
            return max(0.0, float(lower["retry-after-ms"]) / 1000)
    value = lower.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


def _is_transport_error(exc: BaseException) -> bool:
    """httpx's and httpx2's transport failures (timeouts, refused or dropped connections),
    recognised by class name so that neither package has to be imported here."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    module = type(exc).__module__
    if module.startswith(("httpx", "httpcore", "openai")) and names & {
        "TransportError",
        "TimeoutException",
        "APIConnectionError",
        "APITimeoutError",
        "RemoteProtocolError",
    }:
        return True
    return isinstance(exc, ConnectionError | TimeoutError)


@dataclass(frozen=True, slots=True)
class HttpFailure:
    """What a provider's error told us, in a provider-neutral form."""

    status: int
    code: str  # the provider's error code or status ("insufficient_quota", "quota_exceeded" …)
    message: str
    headers: Mapping[str, str]


def sort_failure(provider: str, failure: HttpFailure, key: str | None) -> Exception:
    """The exception a failed request becomes: `TransientError`, `AccountProblem` or
    `CloudRequestError`. `key` is scrubbed from every message."""
    status, code = failure.status, failure.code.lower()
    message = scrub(failure.message, key)[:200]
    detail = f" ({message})" if message else ""
    resume = "then resume the queue"
    quota_codes = ("quota", "credit", "payment", "billing", "limit_reached")
    if status == 402 or any(q in code for q in quota_codes):
        return AccountProblem(
            None,
            f"{provider}: the account has no quota or credit left (HTTP {status}){detail}",
            f"add credit or raise the plan's limit with {provider}, {resume}",
        )
    if status == 401:
        return AccountProblem(
            None,
            f"{provider}: the API key was refused (HTTP 401: revoked, expired or mistyped)",
            f"set a valid key with `audiobook-studio keys set {provider}` "
            f"(or {env_var(provider)}), {resume}",
        )
    if status == 403:
        return AccountProblem(
            None,
            f"{provider}: the account may not use this (HTTP 403){detail}",
            f"check the key's permissions and the plan with {provider}, {resume}",
        )
    if status in (408, 409, 425, 429) or status >= 500:
        wait = retry_after_seconds(failure.headers)
        if code == "system_busy" and wait is None:
            wait = 5.0  # the provider's own advice: back off, the service is loaded
        return TransientError(f"{provider}: HTTP {status} {code}{detail}".strip(), wait)
    return CloudRequestError(
        None,
        f"{provider}: the request was refused (HTTP {status}{' ' + code if code else ''}){detail}",
        "check the voice, model and settings chosen for this job",
    )


@contextlib.contextmanager
def sorted_failures(
    provider: str, key: str | None, failure_from: Callable[[BaseException], HttpFailure | None]
) -> Iterator[None]:
    """Around one SDK call: an HTTP failure (`failure_from` reads it from the SDK's exception)
    becomes what `sort_failure` makes of it, a transport failure a `TransientError`; anything
    else passes unchanged."""
    try:
        yield
    except (TransientError, StudioError):
        raise
    except Exception as exc:
        failure = failure_from(exc)
        if failure is not None:
            raise sort_failure(provider, failure, key) from None
        if _is_transport_error(exc):
            raise TransientError(f"{provider}: {type(exc).__name__}") from None
        raise


# -- retries --------------------------------------------------------------------------------------


Sleep = Callable[[float], None]


class CloudCaller:
    """Runs one provider's requests: rate limit, retries with backoff, Retry-After, cancel."""

    def __init__(
        self,
        provider: str,
        settings: ProviderSettings,
        *,
        sleep: Sleep | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.provider = provider
        self.settings = settings
        self.sleep = sleep or time.sleep
        self.limiter = limiter or RateLimiter(
            provider, settings.requests_per_minute, sleep=self.sleep
        )
        self.waits: list[float] = []  # every backoff taken, for the log and the tests

    def _wait_s(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        s = self.settings
        backoff = min(s.backoff_max_s, s.backoff_initial_s * 2 ** (state.attempt_number - 1))
        wait = random.uniform(0.5 * backoff, backoff)  # full jitter, but never a zero wait
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            # The server said when: wait at least that long, plus a little jitter so that
            # workers told the same moment do not all return at once.
            wait = exc.retry_after + random.uniform(0, min(1.0, s.backoff_initial_s))
        return float(min(wait, s.max_retry_wait_s))

    def _sleeper(self, cancel: CancelToken | None) -> Sleep:
        def nap(seconds: float) -> None:
            self.waits.append(seconds)
            _cancellable_sleep(seconds, cancel, self.sleep)

        return nap

    def call(self, request: Callable[[], T], cancel: CancelToken | None = None) -> T:
        """Run `request` (which raises `TransientError` for what may be retried)."""
        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.settings.max_attempts)),
            wait=self._wait_s,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleeper(cancel),
            reraise=True,
        )

        def attempt() -> T:
            if cancel is not None:
                cancel.raise_if_cancelled()
            self.limiter.acquire(cancel)
            return request()

        try:
            return retrying(attempt)
        except TransientError as exc:
            raise ProviderUnavailable(
                None,
                f"{exc} — still failing after {self.settings.max_attempts} attempts",
                f"check {self.provider}'s status page and the network, then resume the queue",
            ) from None


def _cancellable_sleep(seconds: float, cancel: CancelToken | None, sleep: Sleep) -> None:
    if cancel is None:
        sleep(seconds)
        return
    deadline = time.monotonic() + seconds
    while True:
        cancel.raise_if_cancelled()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        sleep(min(left, 0.25))


# -- rate limiting --------------------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[Any]:
    """An exclusive lock on `path` shared by every process of this user on this machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield fh
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield fh
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class RateLimiter:
    """A token bucket of `per_minute` requests, shared by every worker process.

    Synthesis runs in several worker processes, so the bucket lives in a small state file under
    the user cache folder, updated under an OS file lock; a thread lock covers the threads of one
    process. `per_minute <= 0` turns limiting off.
    """

    def __init__(
        self,
        provider: str,
        per_minute: float,
        *,
        state_dir: Path | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self.per_minute = per_minute
        self.burst = max(1.0, per_minute / 12)  # five seconds' worth may go at once
        self._state_dir = state_dir
        self._sleep = sleep or time.sleep
        self._clock = clock
        self._lock = threading.Lock()

    def _paths(self) -> tuple[Path, Path]:
        from pipelines.core import paths

        base = self._state_dir or paths.cache_dir() / "ratelimits"
        return base / f"{self.provider}.lock", base / f"{self.provider}.json"

    def _take(self) -> float:
        """Take a token if one is there (returns 0) or say how long until one is."""
        lock_path, state_path = self._paths()
        rate = self.per_minute / 60.0
        with self._lock, _file_lock(lock_path):
            now = self._clock()
            try:
                state = json.loads(state_path.read_text())
                tokens, stamp = float(state["tokens"]), float(state["stamp"])
            except (OSError, ValueError, KeyError, TypeError):
                tokens, stamp = self.burst, now
            tokens = min(self.burst, tokens + max(0.0, now - stamp) * rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / rate
            write_text_atomic(state_path, json.dumps({"tokens": tokens, "stamp": now}))
            return wait

    def acquire(self, cancel: CancelToken | None = None) -> float:
        """Block until a request may go; returns the seconds waited."""
        if self.per_minute <= 0:
            return 0.0
        waited = 0.0
        while True:
            wait = self._take()
            if wait <= 0:
                return waited
            _cancellable_sleep(min(wait, 5.0), cancel, self._sleep)
            waited += min(wait, 5.0)


# -- characters billed ----------------------------------------------------------------------------


class Usage:
    """Characters billed by this process, per provider (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chars: dict[str, int] = {}
        self._requests: dict[str, int] = {}

    def add(self, provider: str, chars: int) -> None:
        with self._lock:
            self._chars[provider] = self._chars.get(provider, 0) + chars
            self._requests[provider] = self._requests.get(provider, 0) + 1

    def billed(self, provider: str) -> int:
        with self._lock:
            return self._chars.get(provider, 0)

    def requests(self, provider: str) -> int:
        with self._lock:
            return self._requests.get(provider, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._chars)


USAGE = Usage()


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise Cancelled()


# -- text and audio -------------------------------------------------------------------------------

CHUNK_SECONDS = 5.0  # audio is handed on in pieces this long, so cancelling stops promptly


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut after a sentence where possible,
    else at a space (the script builder already keeps utterances within the engine's limit;
    this covers a job whose settings pick a model with a smaller one)."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind(m) for m in (". ", "! ", "? ", "; ", "\n"))
        if cut < limit // 3:
            cut = window.rfind(" ")
        cut = cut + 1 if cut > 0 else limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def decode_audio(data: bytes, fmt: str, rate: int) -> np.ndarray:
    """Mono float32 at `rate` from a provider's bytes: raw s16le PCM, WAV/FLAC (soundfile), or a
    compressed format through ffmpeg."""
    if fmt == "pcm":
        usable = len(data) - len(data) % 2
        return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
    if fmt in ("wav", "flac"):
        import io

        import soundfile

        audio, got = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
        mono = audio.mean(axis=1).astype(np.float32)
        return mono if got == rate else _resample(mono, got, rate)
    import subprocess

    from pipelines.audio.ffmpeg_io import ffmpeg_exe

    proc = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            "pipe:0",
            "-f",
            "f32le",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "pipe:1",
        ],
        input=data,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise TransientError(f"the {fmt} audio could not be decoded: {proc.stderr[-200:]!r}")
    return np.frombuffer(proc.stdout, dtype="<f4").copy()


def _resample(audio: np.ndarray, got: int, want: int) -> np.ndarray:
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(got, want)
    return resample_poly(audio, want // g, got // g).astype(np.float32)


def audio_chunks(
    samples: np.ndarray, rate: int, cancel: CancelToken | None
) -> Iterator[AudioChunk]:
    """`samples` as `AudioChunk`s of at most `CHUNK_SECONDS`, checking `cancel` before each."""
    step = max(1, round(CHUNK_SECONDS * rate))
    clipped = np.clip(samples.astype(np.float32, copy=False), -1.0, 1.0)
    for start in range(0, len(clipped), step):
        check_cancel(cancel)
        yield AudioChunk(clipped[start : start + step], rate)
