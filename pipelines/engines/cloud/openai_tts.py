"""OpenAI voices: the Speech API (tts-1, tts-1-hd, gpt-4o-mini-tts) and its Realtime successor.

The model is a setting, never fixed here: `AUDIOBOOK_STUDIO_OPENAI_MODEL`, the settings file, or
a job's "model" setting. The SDK marks every Speech API model deprecated with a shutdown on
2027-01-06 and names `gpt-realtime-2.1-mini` through the Realtime API as the successor; a model
with a known shutdown date draws a warning (`model_notice`) while it still works, and refuses,
pausing the queue with a clear message, from that date on. A model whose name says "realtime"
goes through the Realtime API (`openai_realtime.py`). Audio arrives as 24 kHz 16-bit PCM (or
WAV/FLAC when configured), so nothing lossy enters the pipeline.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
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
from pipelines.engines.cloud.common import (
    USAGE,
    AccountProblem,
    CloudCaller,
    HttpFailure,
    TransientError,
    _is_transport_error,
    audio_chunks,
    check_cancel,
    decode_audio,
    missing_key,
    sort_failure,
    split_text,
)
from pipelines.engines.cloud.openai_realtime import SpeechRequest, speak_realtime
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
LICENSE = "OpenAI Usage Policies: tell listeners the voice is AI-generated"
_REVISION = "1"  # bump when this module's conversion of the audio changes


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    instructions: bool  # takes delivery instructions
    price_per_million: float  # USD per million characters (an estimate for token-priced ones)
    shutdown: date | None
    realtime: bool = False


_KNOWN: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo("tts-1", False, 15.0, SPEECH_SHUTDOWN),
        ModelInfo("tts-1-hd", False, 30.0, SPEECH_SHUTDOWN),
        # Token-priced: about $0.015 a minute of speech, some 900 characters.
        ModelInfo("gpt-4o-mini-tts", True, 15.0, SPEECH_SHUTDOWN),
        ModelInfo("gpt-4o-mini-tts-2025-03-20", True, 15.0, SPEECH_SHUTDOWN),
        ModelInfo("gpt-4o-mini-tts-2025-12-15", True, 15.0, SPEECH_SHUTDOWN),
        ModelInfo(SUCCESSOR, True, 25.0, None, realtime=True),
    )
}


def model_info(model: str, settings: ProviderSettings | None = None) -> ModelInfo:
    """What is known of `model`; an unknown name gets traits guessed from its name."""
    known = _KNOWN.get(model)
    if known is None:
        realtime = "realtime" in model
        known = ModelInfo(model, not model.startswith("tts-1"), 25.0 if realtime else 15.0, None)
        known = ModelInfo(known.id, known.instructions, known.price_per_million, None, realtime)
    for entry in settings.retired_models if settings else ():
        name, _, when = entry.partition("=")
        if name.strip() == model:
            try:
                shutdown = date.fromisoformat(when.strip())
            except ValueError:
                raise StudioError(
                    None, f"retired_models entry {entry!r} is not MODEL=YYYY-MM-DD", ""
                ) from None
            known = ModelInfo(model, known.instructions, known.price_per_million, shutdown)
    return known


def model_notice(model: str, today: date | None = None) -> str | None:
    """A warning to show before `model` is used, or None when it has no known shutdown."""
    info = model_info(model, provider_settings(PROVIDER))
    if info.shutdown is None:
        return None
    today = today or date.today()
    verb = "was retired on" if today >= info.shutdown else "is deprecated and shuts down on"
    return (
        f"OpenAI model '{model}' {verb} {info.shutdown.isoformat()}; its successor is "
        f"'{SUCCESSOR}' through the Realtime API (set the OpenAI model to it in Settings)"
    )


_WARNED: set[str] = set()


def check_model(model: str, today: date | None = None) -> ModelInfo:
    """Refuse a retired model (pausing the queue); warn once per process about a deprecated one."""
    info = model_info(model, provider_settings(PROVIDER))
    notice = model_notice(model, today)
    if info.shutdown is not None and (today or date.today()) >= info.shutdown:
        raise AccountProblem(
            None,
            f"{PROVIDER}: model '{model}' was retired on {info.shutdown.isoformat()}",
            f"choose '{SUCCESSOR}' (Realtime API) or another model in Settings "
            "(or AUDIOBOOK_STUDIO_OPENAI_MODEL), then resume the queue",
        )
    if notice and model not in _WARNED:
        _WARNED.add(model)
        log.warning(notice)
        warnings.warn(notice, FutureWarning, stacklevel=3)
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
        built_in = [
            Voice(self.name, v, v.capitalize(), "en", license=LICENSE, sample_rate=SAMPLE_RATE)
            for v in VOICES
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
        self._check_voice(voice_id)
        s = self.settings
        directions = hashlib.sha256(s.instructions.encode()).hexdigest()[:12]
        return (
            f"openai/{_REVISION}/{s.model}/{s.output_format}/{host_of(s.base_url)}/"
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
        model = str(settings.get("model") or cfg.model)
        speed = float(settings.get("speed", 1.0))
        if not 0.25 <= speed <= 4.0:
            raise ValueError(f"OpenAI speed must be between 0.25 and 4, not {speed}")
        fmt = str(settings.get("output_format") or cfg.output_format or "pcm")
        if fmt not in FORMATS:
            raise ValueError(f"OpenAI output format must be one of {', '.join(FORMATS)}: {fmt!r}")
        check_cancel(cancel)
        info = check_model(model)
        instructions = str(settings.get("instructions") or cfg.instructions)
        key = get_key(PROVIDER)
        if not key:
            raise missing_key(PROVIDER)
        request = SpeechRequest(
            model, voice_id, speed, fmt, instructions if info.instructions else ""
        )
        return self._stream(text, request, info, cfg, key, cancel)

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
            samples = caller.call(
                self._request_for(client, request, piece, key, info, cancel), cancel
            )
            USAGE.add(PROVIDER, len(piece))
            yield from audio_chunks(samples, SAMPLE_RATE, cancel)

    def _request_for(
        self,
        client: Any,
        request: SpeechRequest,
        text: str,
        key: str,
        info: ModelInfo,
        cancel: CancelToken | None,
    ) -> Callable[[], np.ndarray]:
        if info.realtime:
            return lambda: speak_realtime(client, request, text, key, cancel)
        return lambda: self._speak(client, request, text, key)

    def _speak(self, client: Any, request: SpeechRequest, text: str, key: str) -> np.ndarray:
        """One Speech API request, read whole so that a dropped connection can be retried."""
        import openai

        extra: dict[str, Any] = {}
        if request.instructions:
            extra["instructions"] = request.instructions
        voice: Any = request.voice if request.voice in VOICES else {"id": request.voice}
        try:
            with client.audio.speech.with_streaming_response.create(
                model=request.model,
                voice=voice,
                input=text,
                response_format=request.fmt,
                speed=request.speed,
                **extra,
            ) as response:
                data = b"".join(response.iter_bytes(chunk_size=65536))
        except openai.APIStatusError as exc:
            failure = _failure_from(exc)
            assert failure is not None
            raise sort_failure(PROVIDER, failure, key) from None
        except Exception as exc:
            if _is_transport_error(exc):
                raise TransientError(f"{PROVIDER}: {type(exc).__name__}") from None
            raise
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
        """Speech-capable model ids the account lists (tts and realtime ones)."""
        key = get_key(PROVIDER)
        if not key:
            raise missing_key(PROVIDER)
        cfg = self.settings
        client = self._client(key, cfg)

        def listing() -> list[Any]:
            import openai

            try:
                return list(client.models.list())
            except openai.APIStatusError as exc:
                failure = _failure_from(exc)
                assert failure is not None
                raise sort_failure(PROVIDER, failure, key) from None
            except Exception as exc:
                if _is_transport_error(exc):
                    raise TransientError(f"{PROVIDER}: {type(exc).__name__}") from None
                raise

        models = self._caller(cfg).call(listing)
        return sorted(m.id for m in models if "tts" in m.id or "realtime" in m.id)
