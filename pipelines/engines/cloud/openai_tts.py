"""OpenAI voices: the Speech API (tts-1, tts-1-hd, gpt-4o-mini-tts) and its Realtime successor.

The model is a setting: `AUDIOBOOK_STUDIO_OPENAI_MODEL`, the settings file, or a book's "model"
voice setting; the default is `SUCCESSOR`, `gpt-realtime-2.1-mini`, which the SDK names as the
successor of every Speech API model (all shut down on 2027-01-06) and which works only through
the Realtime API (`openai_realtime.py`). `resolve_model` is the one place a book's model is
chosen: before the shutdown a Speech model works and draws a warning (`model_notice`); from that
date (by `now()`, which tests replace) a book on one moves to its successor by itself, and
`model_switch` describes the move for the one-time notice (`pipelines.app.notices`). A model
retired without a known successor (`retired_models` in Settings) pauses the queue instead.

Realtime audio is checked against the text: the response's transcript must carry the words
sent (`openai_realtime.compare`); a reworded chunk is asked again, more strictly, up to
`verify_attempts` times, and the closest attempt is kept and flagged (`VerifiedChunk.reworded`,
and a warning in the log). Audio arrives as 24 kHz 16-bit PCM (or WAV/FLAC from the Speech API
when configured), so nothing lossy enters the pipeline.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance
from pipelines.core.secrets import get_key
from pipelines.engines.base import (
    AudioChunk,
    CancelToken,
    Capabilities,
    EngineLimits,
    Settings,
    Voice,
    text_to_speak,
)
from pipelines.engines.cloud import openai_realtime as realtime
from pipelines.engines.cloud.common import (
    USAGE,
    AccountProblem,
    CloudCaller,
    HttpFailure,
    TransientError,
    audio_chunks,
    check_cancel,
    decode_audio,
    missing_key,
    sorted_failures,
    split_text,
)
from pipelines.engines.cloud.openai_realtime import SpeechRequest
from pipelines.engines.cloud.settings import ProviderSettings, host_of, provider_settings

log = logging.getLogger(__name__)

PROVIDER = "openai"
MAX_CHARS = 4096  # the Speech API's input limit
SAMPLE_RATE = 24000  # "pcm" is 24 kHz mono s16le without a header
FORMATS = ("pcm", "wav", "flac")  # lossless only: the pipeline masters and encodes itself
SPEECH_SHUTDOWN = date(2027, 1, 6)
SUCCESSOR = "gpt-realtime-2.1-mini"
VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx",
    "nova", "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip
SPEECH_ONLY_VOICES = tuple(v for v in VOICES if v not in realtime.VOICES)
LICENSE = "OpenAI Usage Policies: tell listeners the voice is AI-generated"
_REVISION = "1"  # bump when this module's conversion of the audio changes


def now() -> datetime:
    """The clock the shutdown dates are read against (tests put their own in its place)."""
    return datetime.now(UTC)


def _today(today: date | None) -> date:
    return today if today is not None else now().date()


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    instructions: bool  # takes delivery instructions
    price_per_million: float  # USD per million characters (an estimate for token-priced ones)
    shutdown: date | None
    realtime: bool = False
    successor: str | None = None  # what a book on this model moves to from its shutdown


_KNOWN: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo("tts-1", False, 15.0, SPEECH_SHUTDOWN, successor=SUCCESSOR),
        ModelInfo("tts-1-hd", False, 30.0, SPEECH_SHUTDOWN, successor=SUCCESSOR),
        # Token-priced: about $0.015 a minute of speech, some 900 characters.
        ModelInfo("gpt-4o-mini-tts", True, 15.0, SPEECH_SHUTDOWN, successor=SUCCESSOR),
        ModelInfo("gpt-4o-mini-tts-2025-03-20", True, 15.0, SPEECH_SHUTDOWN, successor=SUCCESSOR),
        ModelInfo("gpt-4o-mini-tts-2025-12-15", True, 15.0, SPEECH_SHUTDOWN, successor=SUCCESSOR),
        ModelInfo(SUCCESSOR, True, 25.0, None, realtime=True),
    )
}
FALLBACK_MODELS = tuple(_KNOWN)  # offered when the account's list cannot be read
_CACHE_NAMES = {SUCCESSOR: "gpt-4o-mini-tts"}  # the default before the successor took over


def model_info(model: str, settings: ProviderSettings | None = None) -> ModelInfo:
    """What is known of `model`; an unknown name gets traits guessed from its name."""
    known = _KNOWN.get(model)
    if known is None:
        realtime_model = "realtime" in model
        known = ModelInfo(
            model,
            not model.startswith("tts-1"),
            25.0 if realtime_model else 15.0,
            None,
            realtime_model,
        )
    for entry in settings.retired_models if settings else ():
        name, _, when = entry.partition("=")
        if name.strip() == model:
            try:
                shutdown = date.fromisoformat(when.strip())
            except ValueError:
                raise StudioError(
                    None, f"retired_models entry {entry!r} is not MODEL=YYYY-MM-DD", ""
                ) from None
            known = ModelInfo(
                model, known.instructions, known.price_per_million, shutdown, known.realtime
            )
    return known


@dataclass(frozen=True, slots=True)
class ModelSwitch:
    """A book's model replaced by its successor because the model was shut down."""

    old: ModelInfo
    new: ModelInfo

    @property
    def key(self) -> str:  # what the one-time notice is remembered by
        return f"openai-model-switch:{self.old.id}:{self.new.id}"

    def price_change(self) -> str:
        old, new = self.old.price_per_million, self.new.price_per_million
        change = f" ({(new - old) / old:+.0%})" if old else ""
        return f"about ${new:g} per million characters instead of ${old:g}{change}"

    def text(self) -> str:
        assert self.old.shutdown is not None
        lost = ", ".join(SPEECH_ONLY_VOICES) if self.new.realtime else ""
        voices = f" The voices {lost} are not offered there: choose another." if lost else ""
        return (
            f"OpenAI shut down '{self.old.id}' on {self.old.shutdown.isoformat()}: books that "
            f"used it now render with '{self.new.id}' through the Realtime API, at "
            f"{self.price_change()}. Chapters already rendered keep their audio.{voices}"
        )


def model_switch(model: str, today: date | None = None) -> ModelSwitch | None:
    """The move off `model`, when it has a successor and its shutdown date has come."""
    cfg = provider_settings(PROVIDER)
    info = model_info(model, cfg)
    if info.shutdown is None or info.successor is None or _today(today) < info.shutdown:
        return None
    return ModelSwitch(info, model_info(info.successor, cfg))


def resolve_model(requested: str, today: date | None = None) -> ModelInfo:
    """The model a book asking for `requested` renders with now: itself, or its successor once
    it is shut down. Refuses (pausing the queue) a model retired with no successor known."""
    switch = model_switch(requested, today)
    if switch is not None:
        if requested not in _SWITCHED:
            _SWITCHED.add(requested)
            log.info("%s", switch.text())
        return switch.new
    info = model_info(requested, provider_settings(PROVIDER))
    if info.shutdown is not None and _today(today) >= info.shutdown:
        raise AccountProblem(
            None,
            f"{PROVIDER}: model '{requested}' was retired on {info.shutdown.isoformat()}",
            f"choose '{SUCCESSOR}' (Realtime API) or another model in Settings "
            "(or AUDIOBOOK_STUDIO_OPENAI_MODEL), then resume the queue",
        )
    return info


def model_notice(model: str, today: date | None = None) -> str | None:
    """A warning to show before `model` is used, or None when it has no known shutdown."""
    switch = model_switch(model, today)
    if switch is not None:
        return switch.text()
    info = model_info(model, provider_settings(PROVIDER))
    if info.shutdown is None:
        return None
    when = info.shutdown.isoformat()
    if _today(today) >= info.shutdown:
        return f"OpenAI model '{model}' was retired on {when}; choose another model in Settings"
    if info.successor is None:
        return f"OpenAI model '{model}' is deprecated and shuts down on {when}"
    price = ModelSwitch(info, model_info(info.successor)).price_change()
    return (
        f"OpenAI model '{model}' is deprecated and shuts down on {when}; from then on books "
        f"using it move to its successor '{info.successor}' through the Realtime API by "
        f"themselves, at {price} (or set the OpenAI model to it in Settings now)"
    )


_WARNED: set[str] = set()
_SWITCHED: set[str] = set()  # switches logged by this process


def check_model(model: str, today: date | None = None) -> ModelInfo:
    """The model to render with (`resolve_model`); warns once per process about a deprecated
    one that still works."""
    info = resolve_model(model, today)
    if info.id == model and info.shutdown is not None and model not in _WARNED:
        notice = model_notice(model, today)
        _WARNED.add(model)
        log.warning(notice)
        warnings.warn(str(notice), FutureWarning, stacklevel=3)
    return info


def _failure_from(exc: BaseException) -> HttpFailure | None:
    """An OpenAI SDK status error in provider-neutral form (None for anything else)."""
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    if not isinstance(status, int) or response is None:
        return None
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else {}
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code") or error.get("type") or getattr(exc, "code", "") or "")
    message = str(error.get("message") or "")
    return HttpFailure(status, code, message, dict(response.headers))


class OpenAIEngine:
    name = PROVIDER
    capabilities = Capabilities(billed=True, resource="network", varies=True)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, float], Any] = {}
        self._callers: dict[ProviderSettings, CloudCaller] = {}

    # -- description ----------------------------------------------------------------------------

    @property
    def settings(self) -> ProviderSettings:
        return provider_settings(PROVIDER)

    @property
    def limits(self) -> EngineLimits:
        return EngineLimits(
            max_chars=MAX_CHARS, sample_rate=SAMPLE_RATE, concurrency=self.settings.concurrency or 4
        )

    def voices(self) -> list[Voice]:
        """The built-in voices (OpenAI has no call that lists them) and the custom voice ids
        from Settings. On a Realtime model the Speech-only voices are listed last, marked, so
        that books cast with them still find them."""
        try:
            on_realtime = resolve_model(self.settings.model).realtime
        except AccountProblem:  # a retired model: synthesis says so; the list stays readable
            on_realtime = False

        def label(v: str) -> str:
            speech_only = on_realtime and v in SPEECH_ONLY_VOICES
            return f"{v.capitalize()} (Speech models only)" if speech_only else v.capitalize()

        order = sorted(VOICES, key=lambda v: on_realtime and v in SPEECH_ONLY_VOICES)
        built_in = [
            Voice(self.name, v, label(v), "en", license=LICENSE, sample_rate=SAMPLE_RATE)
            for v in order
        ]
        custom = [
            Voice(
                self.name,
                v,
                f"Custom voice {v}",
                "en",
                license="OpenAI custom voice from your own samples, with the speaker's consent",
                sample_rate=SAMPLE_RATE,
            )
            for v in self.settings.custom_voices
            if v not in VOICES
        ]
        return built_in + custom

    def _check_voice(self, voice_id: str) -> None:
        if voice_id not in VOICES and voice_id not in self.settings.custom_voices:
            raise StudioError(
                None,
                f"OpenAI has no voice '{voice_id}'",
                f"use one of {', '.join(VOICES)} or add a custom voice id in Settings",
            )

    def identity(self, voice_id: str) -> str:
        # The model asked for, not the one resolved, and the successor under the old default's
        # name: neither the shutdown nor the new default makes audio already rendered stale (a
        # book is not billed again for it); what is spoken from then on comes from the successor.
        self._check_voice(voice_id)
        s = self.settings
        model = _CACHE_NAMES.get(s.model, s.model)
        directions = hashlib.sha256(s.instructions.encode()).hexdigest()[:12]
        return (
            f"openai/{_REVISION}/{model}/{s.output_format}/{host_of(s.base_url)}/"
            f"{voice_id}/{directions}"
        )

    # -- synthesis --------------------------------------------------------------------------------

    def synthesize(
        self,
        utterance: Utterance,
        voice_id: str,
        settings: Settings,
        cancel: CancelToken | None = None,
    ) -> Iterator[AudioChunk]:
        text = text_to_speak(utterance)
        self._check_voice(voice_id)
        cfg = self.settings
        speed = float(settings.get("speed", 1.0))
        if not 0.25 <= speed <= 4.0:
            raise ValueError(f"OpenAI speed must be between 0.25 and 4, not {speed}")
        fmt = str(settings.get("output_format") or cfg.output_format or "pcm")
        if fmt not in FORMATS:
            raise ValueError(f"OpenAI output format must be one of {', '.join(FORMATS)}: {fmt!r}")
        check_cancel(cancel)
        # The one place a book's model is chosen: its voice setting, else Settings' model,
        # moved on to the successor once shut down.
        info = check_model(str(settings.get("model") or cfg.model))
        if info.realtime:
            self._check_realtime(voice_id, speed)
            fmt = "pcm"  # a Realtime session sends 24 kHz PCM only
        instructions = str(settings.get("instructions") or cfg.instructions)
        key = get_key(PROVIDER)
        if not key:
            raise missing_key(PROVIDER)
        request = SpeechRequest(
            info.id, voice_id, speed, fmt, instructions if info.instructions else ""
        )
        return self._stream(text, request, info, cfg, key, cancel)

    def _check_realtime(self, voice_id: str, speed: float) -> None:
        if voice_id in SPEECH_ONLY_VOICES:
            # Every chunk of the book would fail the same way: pause, and say what to change.
            raise AccountProblem(
                None,
                f"{PROVIDER}: voice '{voice_id}' is not offered by the Realtime model "
                f"'{SUCCESSOR}' (only {', '.join(realtime.VOICES)})",
                "choose another OpenAI voice in the Cast panel, then resume the queue",
            )
        if speed > realtime.MAX_SPEED:
            raise ValueError(
                f"OpenAI Realtime speed must be between 0.25 and {realtime.MAX_SPEED}, not {speed}"
            )

    def _stream(
        self,
        text: str,
        request: SpeechRequest,
        info: ModelInfo,
        cfg: ProviderSettings,
        key: str,
        cancel: CancelToken | None,
    ) -> Iterator[AudioChunk]:
        client = self._client(key, cfg)
        caller = self._caller(cfg)
        for piece in split_text(text, MAX_CHARS):
            check_cancel(cancel)
            if info.realtime:
                yield from self._verified(client, caller, request, piece, cfg, key, cancel)
                continue
            samples = caller.call(self._speech_call(client, request, piece, key), cancel)
            USAGE.add(PROVIDER, len(piece))
            yield from audio_chunks(samples, SAMPLE_RATE, cancel)

    def _verified(
        self,
        client: Any,
        caller: CloudCaller,
        request: SpeechRequest,
        text: str,
        cfg: ProviderSettings,
        key: str,
        cancel: CancelToken | None,
    ) -> Iterator[AudioChunk]:
        """One piece through the Realtime API, asked again (more strictly) while its transcript
        shows a rewording, at most `verify_attempts` times; the closest attempt is kept."""
        attempts: list[realtime.Attempt] = []
        for n in range(max(1, cfg.verify_attempts)):
            check_cancel(cancel)

            def ask(strict: bool = n > 0) -> realtime.RealtimeReply:
                return realtime.speak_realtime(client, request, text, key, cancel, strict)

            reply = caller.call(ask, cancel)
            USAGE.add(PROVIDER, len(text))  # every attempt is billed
            attempt = realtime.judge(text, reply)
            attempts.append(attempt)
            if attempt.changes == 0:
                break
            log.info(
                "%s: attempt %d reworded the text (%s)", PROVIDER, n + 1, "; ".join(attempt.diff)
            )
        kept = realtime.best_attempt(attempts)
        if kept.changes:
            log.warning(
                "%s: still reworded after %d attempts, keeping the closest (%d word(s) differ: "
                "%s): %r",
                PROVIDER,
                len(attempts),
                kept.changes,
                "; ".join(kept.diff),
                text[:120],
            )
        elif not kept.verified:
            log.debug("%s: no transcript came with the audio; not verified", PROVIDER)
        chunks = audio_chunks(kept.reply.samples, SAMPLE_RATE, cancel)
        yield from realtime.verified_chunks(kept, len(attempts), chunks)

    def _speech_call(
        self, client: Any, request: SpeechRequest, text: str, key: str
    ) -> Callable[[], np.ndarray]:
        return lambda: self._speak(client, request, text, key)

    def _speak(self, client: Any, request: SpeechRequest, text: str, key: str) -> np.ndarray:
        """One Speech API request, read whole so that a dropped connection can be retried."""

        extra: dict[str, Any] = {}
        if request.instructions:
            extra["instructions"] = request.instructions
        voice: Any = request.voice if request.voice in VOICES else {"id": request.voice}
        with (
            sorted_failures(PROVIDER, key, _failure_from),
            client.audio.speech.with_streaming_response.create(
                model=request.model,
                voice=voice,
                input=text,
                response_format=request.fmt,
                speed=request.speed,
                **extra,
            ) as response,
        ):
            data = b"".join(response.iter_bytes(chunk_size=65536))
        if not data:
            raise TransientError(f"{PROVIDER}: the server sent no audio")
        return decode_audio(data, request.fmt, SAMPLE_RATE)

    # -- clients --------------------------------------------------------------------------------

    def _client(self, key: str, cfg: ProviderSettings) -> Any:
        import openai

        slot = (
            hashlib.sha256(key.encode()).hexdigest(),
            f"{cfg.base_url}|{cfg.realtime_base_url}",
            cfg.timeout_s,
        )
        with self._lock:
            client = self._clients.get(slot)
            if client is None:
                # Retries are ours (CloudCaller), so the SDK makes one attempt per call.
                client = openai.OpenAI(
                    api_key=key,
                    base_url=cfg.base_url or None,
                    websocket_base_url=cfg.realtime_base_url or None,
                    max_retries=0,
                    timeout=cfg.timeout_s,
                )
                self._clients[slot] = client
            return client

    def _caller(self, cfg: ProviderSettings) -> CloudCaller:
        with self._lock:
            caller = self._callers.get(cfg)
            if caller is None:
                caller = CloudCaller(PROVIDER, cfg)
                self._callers[cfg] = caller
            return caller

    def available_models(self) -> list[str]:
        """Speech-capable model ids the account lists (Speech and Realtime ones), read from
        `models.list`; the built-in list when there is no key or the list cannot be read."""
        key = get_key(PROVIDER)
        if not key:
            return list(FALLBACK_MODELS)
        cfg = self.settings
        client = self._client(key, cfg)

        def listing() -> list[Any]:
            with sorted_failures(PROVIDER, key, _failure_from):
                return list(client.models.list())

        try:
            models = self._caller(cfg).call(listing)
        except StudioError as exc:  # offline, refused: still offer what is known
            log.warning("%s: cannot list the account's models (%s)", PROVIDER, exc)
            return list(FALLBACK_MODELS)
        listed = sorted(m.id for m in models if "tts" in m.id or "realtime" in m.id)
        return listed or list(FALLBACK_MODELS)
