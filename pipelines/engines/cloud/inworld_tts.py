"""Inworld voices through its text-to-speech HTTP API (httpx; Inworld's SDK is not needed).

A request is `POST {base}/tts/v1/voice` with `{text, voiceId, modelId, audioConfig:
{audioEncoding: "LINEAR16", sampleRateHertz}}`; the answer is `{audioContent: base64, usage:
{processedCharactersCount}}`, LINEAR16 arriving as a WAV file (or bare 16-bit PCM, both are
read). The voices are `GET {base}/tts/v1/voices`. The key is the Base64 credentials Inworld's
portal shows, sent as HTTP Basic auth (`INWORLD_API_KEY` or the keyring); a "key:secret" pair
is encoded here. Everything that names Inworld's endpoints is in `API` and `DEFAULT_BASE_URL`,
so that a change on Inworld's side is a change in one place. Models: inworld-tts-1.5-max and
inworld-tts-1.5-mini, at most 2,000 characters a request. Failures go through the cloud engines'
shared sorting and retries (`common.py`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
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
from pipelines.engines.cloud.settings import ProviderSettings, host_of, provider_settings

log = logging.getLogger(__name__)

PROVIDER = "inworld"
DEFAULT_BASE_URL = "https://api.inworld.ai"
API = {"speak": "/tts/v1/voice", "voices": "/tts/v1/voices"}
MAX_CHARS = 2000  # characters per request, on every model
SAMPLE_RATE = 48000  # asked for in LINEAR16; the pipeline masters and encodes itself
DEFAULT_CONCURRENCY = 4  # Inworld publishes no per-plan figure; Settings may raise it
LICENSE = "Inworld voice: Inworld Terms of Service; tell listeners the voice is AI-generated"
CLONED_LICENSE = "your cloned voice: Inworld Terms, with the speaker's consent"
SETTING_RANGES = {"speed": (0.5, 1.5), "temperature": (0.0, 2.0)}
_REVISION = "1"  # bump when this module's conversion of the audio changes


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    max_chars: int
    # USD per million characters, from Inworld's published pricing as summarised in public
    # notes (2025: TTS 1.5 Max $10, Mini $5); not checked against inworld.ai/pricing here, so
    # Settings' `price_per_million_chars` overrides it. 0: unknown.
    price_per_million: float


MODELS = {
    m.id: m
    for m in (
        ModelInfo("inworld-tts-1.5-max", MAX_CHARS, 10.0),
        ModelInfo("inworld-tts-1.5-mini", MAX_CHARS, 5.0),
    )
}


def auth_header(key: str) -> str:
    """HTTP Basic credentials: the portal's Base64 key as it is, or a "key:secret" pair
    encoded (a colon is never part of Base64, so the two cannot be confused)."""
    token = base64.b64encode(key.encode()).decode() if ":" in key else key
    return f"Basic {token}"


def _failure_from(response: Any) -> HttpFailure:
    """An error answer in the provider-neutral form. Inworld answers like Google's APIs:
    `{"code": 8, "message": …}` or `{"error": {"code", "message", "status"}}`."""
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text[:200]}
    detail = body.get("error", body) if isinstance(body, dict) else {}
    if not isinstance(detail, dict):
        detail = {"message": str(detail)}
    message = str(detail.get("message") or "")
    code = str(detail.get("status") or detail.get("code") or "")
    lowered = message.lower()
    if any(word in lowered for word in ("quota", "credit", "balance", "billing")):
        code = "quota_exceeded"  # "resource exhausted" also means plain rate limiting
    return HttpFailure(response.status_code, code, message, dict(response.headers))


def _language(entry: dict[str, Any]) -> str:
    langs = entry.get("languages") or entry.get("languageCodes") or []
    first = str(langs[0]) if langs else str(entry.get("langCode") or "en")
    return first.replace("_", "-").split("-")[0].lower() or "en"


def _gender(entry: dict[str, Any]) -> str:
    tags = {str(t).lower() for t in entry.get("tags") or []}
    meta = entry.get("voiceMetadata") or {}
    tags.add(str(meta.get("gender", "")).lower())
    return next((g for g in ("female", "male") if g in tags), "")


class InworldEngine:
    name = PROVIDER
    capabilities = Capabilities(billed=True, resource="network", varies=True)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, float], Any] = {}
        self._callers: dict[ProviderSettings, CloudCaller] = {}
        self._voices: dict[tuple[str, str], list[dict[str, Any]]] = {}

    # -- account ---------------------------------------------------------------------------------

    @property
    def settings(self) -> ProviderSettings:
        return provider_settings(PROVIDER)

    def _key(self) -> str:
        key = get_key(PROVIDER)
        if not key:
            raise missing_key(PROVIDER)
        return key

    def _client(self, key: str, cfg: ProviderSettings) -> Any:
        import httpx

        slot = (hashlib.sha256(key.encode()).hexdigest(), cfg.base_url, cfg.timeout_s)
        with self._lock:
            client = self._clients.get(slot)
            if client is None:
                client = httpx.Client(
                    base_url=(cfg.base_url or DEFAULT_BASE_URL).rstrip("/"),
                    headers={"Authorization": auth_header(key)},
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

    def _request(
        self,
        method: str,
        path: str,
        key: str,
        cfg: ProviderSettings,
        cancel: CancelToken | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One API call with retries: the answer's JSON, or the failure sorted."""
        client = self._client(key, cfg)

        def attempt() -> dict[str, Any]:
            try:
                response = client.request(method, path, json=body)
                if response.status_code >= 400:
                    raise sort_failure(PROVIDER, _failure_from(response), key)
                data = response.json()
            except (TransientError, StudioError):
                raise
            except ValueError:  # a body cut short: the JSON does not parse
                raise TransientError(f"{PROVIDER}: the answer was cut short") from None
            except Exception as exc:
                if _is_transport_error(exc):
                    raise TransientError(f"{PROVIDER}: {type(exc).__name__}") from None
                raise
            if not isinstance(data, dict):
                raise TransientError(f"{PROVIDER}: the answer is not a JSON object")
            return data

        return self._caller(cfg).call(attempt, cancel)

    @property
    def limits(self) -> EngineLimits:
        cfg = self.settings
        return EngineLimits(
            max_chars=self.model_limit(cfg.model),
            sample_rate=SAMPLE_RATE,
            concurrency=cfg.concurrency or DEFAULT_CONCURRENCY,
        )

    def model_limit(self, model: str) -> int:
        info = MODELS.get(model)
        return info.max_chars if info else MAX_CHARS

    def price_per_million(self, model: str = "") -> float:
        """USD per million characters; 0 when the price of `model` is not known."""
        cfg = self.settings
        if cfg.price_per_million_chars:
            return cfg.price_per_million_chars
        info = MODELS.get(model or cfg.model)
        return info.price_per_million if info else 0.0

    def price_notice(self, model: str) -> str:
        if self.price_per_million(model):
            return ""
        return (
            f"the price of Inworld model '{model}' is not known, so this estimate is $0: "
            "set price_per_million_chars for inworld in Settings"
        )

    def cost_factor(self, model: str) -> float:
        return 1.0  # billed per character spoken

    # -- voices ----------------------------------------------------------------------------------

    def _listed(self, refresh: bool = False) -> list[dict[str, Any]]:
        key, cfg = self._key(), self.settings
        slot = (hashlib.sha256(key.encode()).hexdigest(), cfg.base_url)
        if refresh or slot not in self._voices:
            answer = self._request("GET", API["voices"], key, cfg)
            voices = [v for v in answer.get("voices") or [] if isinstance(v, dict)]
            self._voices[slot] = [v for v in voices if v.get("voiceId") or v.get("name")]
        return self._voices[slot]

    def voices(self) -> list[Voice]:
        out: list[Voice] = []
        seen: set[str] = set()
        for entry in self._listed():
            voice_id = str(entry.get("voiceId") or entry.get("name"))
            if voice_id in seen:
                continue
            seen.add(voice_id)
            cloned = str(entry.get("source", "")).upper() == "IVC" or "__" in voice_id
            out.append(
                Voice(
                    self.name,
                    voice_id,
                    str(entry.get("displayName") or voice_id),
                    language=_language(entry),
                    gender=_gender(entry),
                    license=CLONED_LICENSE if cloned else LICENSE,
                    attribution="Inworld (your workspace)" if cloned else "Inworld",
                    sample_rate=SAMPLE_RATE,
                )
            )
        return out

    def _check_voice(self, voice_id: str) -> None:
        for refresh in (False, True):  # a voice made since the list was read
            ids = {str(v.get("voiceId") or v.get("name")) for v in self._listed(refresh)}
            if voice_id in ids:
                return
        raise StudioError(
            None,
            f"the Inworld account has no voice '{voice_id}'",
            "run `audiobook-studio voices --engine inworld` to list them",
        )

    def identity(self, voice_id: str) -> str:
        cfg = self.settings
        return (
            f"inworld/{_REVISION}/{cfg.model}/LINEAR16-{SAMPLE_RATE}/{host_of(cfg.base_url)}/"
            f"{voice_id}"
        )

    # -- synthesis -------------------------------------------------------------------------------

    def synthesize(
        self,
        utterance: Utterance,
        voice_id: str,
        settings: Settings,
        cancel: CancelToken | None = None,
    ) -> Iterator[AudioChunk]:
        text = text_to_speak(utterance)
        check_cancel(cancel)
        key, cfg = self._key(), self.settings
        model = str(settings.get("model") or cfg.model)
        body: dict[str, Any] = {
            "voiceId": voice_id,
            "modelId": model,
            "audioConfig": {"audioEncoding": "LINEAR16", "sampleRateHertz": SAMPLE_RATE},
        }
        for name, value in _checked_settings(settings).items():
            if name == "speed":
                body["audioConfig"]["speakingRate"] = value
            else:
                body[name] = value
        self._check_voice(voice_id)
        return self._stream(text, body, key, cfg, cancel)

    def _stream(
        self,
        text: str,
        body: dict[str, Any],
        key: str,
        cfg: ProviderSettings,
        cancel: CancelToken | None,
    ) -> Iterator[AudioChunk]:
        for piece in split_text(text, self.model_limit(body["modelId"])):
            check_cancel(cancel)
            answer = self._request("POST", API["speak"], key, cfg, cancel, {**body, "text": piece})
            samples = _decode(answer)
            usage = answer.get("usage") or {}
            billed = usage.get("processedCharactersCount") if isinstance(usage, dict) else None
            USAGE.add(PROVIDER, int(billed) if isinstance(billed, int) else len(piece))
            yield from audio_chunks(samples, SAMPLE_RATE, cancel)


def _decode(answer: dict[str, Any]) -> np.ndarray:
    """The answer's audio as float32 at `SAMPLE_RATE`: a WAV file, or bare 16-bit PCM."""
    try:
        data = base64.b64decode(str(answer.get("audioContent") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise TransientError(f"{PROVIDER}: the audio in the answer is not Base64") from None
    if not data:
        raise TransientError(f"{PROVIDER}: the server sent no audio")
    fmt = "wav" if data[:4] == b"RIFF" else "pcm"
    return decode_audio(data, fmt, SAMPLE_RATE)


def _checked_settings(settings: Settings) -> dict[str, float]:
    """The job's Inworld settings (speed, temperature), checked against the API's ranges."""
    out: dict[str, float] = {}
    for name, (lo, hi) in SETTING_RANGES.items():
        if name not in settings:
            continue
        value = float(settings[name])
        if not lo <= value <= hi:
            raise ValueError(f"Inworld {name} must be between {lo} and {hi}, not {value}")
        out[name] = value
    return out
