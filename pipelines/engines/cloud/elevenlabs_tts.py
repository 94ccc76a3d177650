"""ElevenLabs voices: the account's voices (cloned ones included) and the models the API lists.

What the account's plan allows decides the output format (44.1 kHz PCM from Pro up, 24 kHz PCM
below; 192 kbit/s MP3 from Creator up, when chosen) and the default number of parallel requests.
The plan is asked once and remembered for a few hours in the user cache, so that each worker
process does not ask again. Neighbouring text ("previous_text" / "next_text" in a task's
settings) and the request ids of neighbours rendered earlier in this process are sent so that
prosody flows across the chunks of a chapter, on the models that support it (not eleven_v3).
Pronunciation dictionaries of the account apply through Settings; the project lexicon can be
uploaded as one (`upload_lexicon`).

The models, with each one's characters per request, credit rate and capabilities, come from the
API's models list, read at first use and kept in the user cache for a day (`MODELS_TTL_S`), so a
new model (eleven_v4, eleven_v4_turbo) or a changed limit needs no new release; `MODEL_LIMITS`
is only the fallback for when the list cannot be read. `clone_voice` makes an instant voice
clone from the author's samples, and only with the speaker's consent stated explicitly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core.errors import StudioError
from pipelines.core.files import write_text_atomic
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
    audio_chunks,
    check_cancel,
    decode_audio,
    missing_key,
    sorted_failures,
    split_text,
)
from pipelines.engines.cloud.settings import ProviderSettings, host_of, provider_settings

log = logging.getLogger(__name__)

PROVIDER = "elevenlabs"
TIERS = ("free", "starter", "creator", "pro", "scale", "business", "enterprise")
CONCURRENCY = {"free": 2, "starter": 3, "creator": 5, "pro": 10, "scale": 15, "business": 15}
# USD per million characters (credits) on each plan's monthly allowance: an estimate to set
# against the author's cost cap; `price_per_million_chars` in Settings overrides it.
PRICES = {"free": 0.0, "starter": 167.0, "creator": 220.0, "pro": 198.0, "scale": 165.0}
# Characters per request when the models list cannot be read (the published limits).
MODEL_LIMITS = {
    "eleven_v4": 10_000,
    "eleven_v4_turbo": 10_000,
    "eleven_multilingual_v2": 10_000,
    "eleven_v3": 5_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_turbo_v2_5": 40_000,
    "eleven_flash_v2": 30_000,
    "eleven_turbo_v2": 30_000,
}
PLAN_TTL_S = 6 * 3600
MODELS_TTL_S = 24 * 3600  # models change rarely; a model missing from the list re-reads it
SAMPLE_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".flac": "audio/flac",
                ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".webm": "audio/webm"}  # fmt: skip
MAX_SAMPLE_BYTES = 10 * 1024 * 1024  # the API's limit per sample file
_REVISION = "1"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One text-to-speech model as the models list describes it."""

    model_id: str
    name: str = ""
    max_chars: int = 0  # characters per request on a paid plan (0: not stated)
    max_chars_free: int = 0  # ... on the free plan
    cost_factor: float = 1.0  # credits per character
    can_use_style: bool = False
    can_use_speaker_boost: bool = False
    languages: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, m: Any) -> ModelInfo:
        rates = getattr(m, "model_rates", None)
        factor = getattr(rates, "character_cost_multiplier", None) if rates else None
        return cls(
            model_id=str(m.model_id),
            name=str(m.name or m.model_id),
            max_chars=int(
                m.maximum_text_length_per_request or m.max_characters_request_subscribed_user or 0
            ),
            max_chars_free=int(m.max_characters_request_free_user or 0),
            cost_factor=float(factor) if factor is not None else _fallback_factor(m.model_id),
            can_use_style=bool(m.can_use_style),
            can_use_speaker_boost=bool(m.can_use_speaker_boost),
            languages=tuple(str(lang.language_id) for lang in (m.languages or [])),
        )


def _fallback_factor(model: str) -> float:
    """Credits per character when the list does not say: 0.5 on flash and turbo models."""
    return 0.5 if ("flash" in model or "turbo" in model) else 1.0


def tier_rank(tier: str) -> int:
    """The plan's place in `TIERS`; variants ("creator_annual", "growing_business") count as the
    plan they extend, an unknown one as free."""
    tier = tier.strip().lower()
    if "business" in tier:
        return TIERS.index("business")
    for rank in range(len(TIERS) - 1, -1, -1):
        if tier == TIERS[rank] or tier.startswith(TIERS[rank] + "_"):
            return rank
    return 0


def concurrency_for(tier: str) -> int:
    """Parallel requests the plan allows (Free 2, Starter 3, Creator 5, Pro 10, Scale 15 …)."""
    return CONCURRENCY.get(TIERS[tier_rank(tier)], 15)


def format_allowed(output_format: str, tier: str) -> bool:
    """Whether the plan may ask for `output_format` (44.1 kHz+ PCM/WAV: Pro; MP3 192: Creator)."""
    codec, _, rest = output_format.partition("_")
    rate = int(rest.split("_")[0]) if rest.split("_")[0].isdigit() else 0
    if codec in ("pcm", "wav") and rate >= 44100:
        return tier_rank(tier) >= TIERS.index("pro")
    if output_format.startswith("mp3_") and output_format.endswith("_192"):
        return tier_rank(tier) >= TIERS.index("creator")
    return True


def choose_format(tier: str, wanted: str = "") -> str:
    if wanted:
        if not format_allowed(wanted, tier):
            raise StudioError(
                None,
                f"elevenlabs: the '{tier}' plan does not allow output format {wanted}",
                "choose pcm_24000 (or upgrade the plan) in Settings",
            )
        return wanted
    return "pcm_44100" if tier_rank(tier) >= TIERS.index("pro") else "pcm_24000"


def format_rate(output_format: str) -> int:
    parts = output_format.split("_")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 44100


def supports_stitching(model: str) -> bool:
    return "v3" not in model


def _failure_from(exc: BaseException) -> HttpFailure | None:
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or not hasattr(exc, "body"):
        return None
    body = exc.body
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        code = str(detail.get("status") or detail.get("code") or detail.get("type") or "")
        message = str(detail.get("message") or "")
    else:
        code, message = "", str(detail or "")
    return HttpFailure(status, code, message, dict(getattr(exc, "headers", None) or {}))


class ElevenLabsEngine:
    name = PROVIDER
    # Each request carries the text around it (`previous_text`, `next_text`) for its prosody.
    capabilities = Capabilities(stitching=True, billed=True, resource="network", varies=True)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, float], Any] = {}
        self._callers: dict[ProviderSettings, CloudCaller] = {}
        self._voices: dict[tuple[str, str], list[Any]] = {}
        self._models: dict[str, tuple[float, list[ModelInfo]]] = {}
        self._reread: set[str] = set()  # models missing from the list, re-read once for each
        self._warned = False
        self._request_ids: OrderedDict[str, str] = OrderedDict()

    # -- account ---------------------------------------------------------------------------------

    @property
    def settings(self) -> ProviderSettings:
        return provider_settings(PROVIDER)

    def _client(self, key: str, cfg: ProviderSettings) -> Any:
        from elevenlabs.client import ElevenLabs

        slot = (hashlib.sha256(key.encode()).hexdigest(), cfg.base_url, cfg.timeout_s)
        with self._lock:
            client = self._clients.get(slot)
            if client is None:
                kwargs: dict[str, Any] = {"api_key": key, "timeout": cfg.timeout_s}
                if cfg.base_url:
                    kwargs["base_url"] = cfg.base_url.rstrip("/")
                client = ElevenLabs(**kwargs)
                self._clients[slot] = client
            return client

    def _caller(self, cfg: ProviderSettings) -> CloudCaller:
        with self._lock:
            caller = self._callers.get(cfg)
            if caller is None:
                caller = CloudCaller(PROVIDER, cfg)
                self._callers[cfg] = caller
            return caller

    def _call(
        self, fn: Any, key: str, cfg: ProviderSettings, cancel: CancelToken | None = None
    ) -> Any:
        """Run `fn(client)` with retries, sorting the SDK's failures."""
        client = self._client(key, cfg)

        def attempt() -> Any:
            with sorted_failures(PROVIDER, key, _failure_from):
                return fn(client)

        return self._caller(cfg).call(attempt, cancel)

    def _key(self) -> str:
        key = get_key(PROVIDER)
        if not key:
            raise missing_key(PROVIDER)
        return key

    def plan(self) -> str:
        """The account's plan ("free" when there is no key or it cannot be asked)."""
        key = get_key(PROVIDER)
        if not key:
            return "free"
        cfg = self.settings
        from pipelines.core import paths

        path = paths.cache_dir() / "elevenlabs-plan.json"
        slot = hashlib.sha256(f"{cfg.base_url}|{key}".encode()).hexdigest()[:24]
        try:
            cached = json.loads(path.read_text())
            if cached.get("slot") == slot and time.time() - cached["at"] < PLAN_TTL_S:
                return str(cached["tier"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        try:
            opts = {"max_retries": 0}
            sub = self._call(lambda c: c.user.subscription.get(request_options=opts), key, cfg)
        except StudioError as exc:
            log.warning("elevenlabs: the plan could not be read (%s); assuming free", exc)
            return "free"
        tier = str(getattr(sub, "tier", "free") or "free").lower()
        write_text_atomic(path, json.dumps({"slot": slot, "tier": tier, "at": time.time()}))
        return tier

    def output_format(self, model_format: str = "") -> str:
        return choose_format(self.plan(), model_format or self.settings.output_format)

    @property
    def limits(self) -> EngineLimits:
        cfg = self.settings
        tier = self.plan()
        concurrency = cfg.concurrency or concurrency_for(tier)
        return EngineLimits(
            max_chars=self.model_limit(cfg.model),
            sample_rate=format_rate(choose_format(tier, cfg.output_format)),
            concurrency=concurrency,
        )

    def price_per_million(self) -> float:
        cfg = self.settings
        if cfg.price_per_million_chars:
            return cfg.price_per_million_chars
        return PRICES.get(TIERS[tier_rank(self.plan())], 120.0)

    def _account_slot(self, key: str, cfg: ProviderSettings) -> str:
        return hashlib.sha256(f"{cfg.base_url}|{key}".encode()).hexdigest()[:24]

    def models(self, refresh: bool = False) -> list[ModelInfo]:
        """The text-to-speech models the API lists: from this process's memory, else the user
        cache while it is younger than `MODELS_TTL_S`, else the API (then cached)."""
        key, cfg = self._key(), self.settings
        slot = self._account_slot(key, cfg)
        held = self._models.get(slot)
        if held and not refresh and time.time() - held[0] < MODELS_TTL_S:
            return held[1]
        path = _models_cache_path()
        if not refresh:
            cached = _read_models_cache(path, slot)
            if cached is not None:
                self._models[slot] = cached
                return cached[1]
        opts = {"max_retries": 0}
        listed = self._call(lambda c: c.models.list(request_options=opts), key, cfg)
        models = [ModelInfo.from_api(m) for m in listed if m.can_do_text_to_speech is not False]
        now = time.time()
        self._models[slot] = (now, models)
        payload = {"slot": slot, "at": now, "models": [asdict(m) for m in models]}
        write_text_atomic(path, json.dumps(payload))
        return models

    def model_info(self, model: str) -> ModelInfo | None:
        """What the models list says of `model`; None when it cannot be read or lacks it. A
        model missing from a cached list is asked for once more (it may be newer than the
        cache)."""
        if not get_key(PROVIDER):
            return None  # no account yet: the published limits serve
        try:
            for refresh in (False, True):
                if refresh:
                    if model in self._reread:
                        break
                    self._reread.add(model)
                for m in self.models(refresh=refresh):
                    if m.model_id == model:
                        return m
        except StudioError as exc:
            if not self._warned:  # once: `limits` is read often
                self._warned = True
                log.warning("elevenlabs: the models list could not be read (%s)", exc)
        return None

    def model_limit(self, model: str) -> int:
        """Characters per request for `model` on this account's plan."""
        info = self.model_info(model)
        if info is not None and info.max_chars:
            if info.max_chars_free and tier_rank(self.plan()) == 0:
                return min(info.max_chars, info.max_chars_free)
            return info.max_chars
        return MODEL_LIMITS.get(model, 5000)

    def cost_factor(self, model: str) -> float:
        """Credits per character: the list's rate, else 0.5 on flash and turbo models, 1 on
        the others."""
        info = self.model_info(model)
        return info.cost_factor if info is not None else _fallback_factor(model)

    def _account_voices(self) -> list[Any]:
        key, cfg = self._key(), self.settings
        slot = (hashlib.sha256(key.encode()).hexdigest(), cfg.base_url)
        if slot not in self._voices:
            opts = {"max_retries": 0}
            listing = self._call(lambda c: c.voices.get_all(request_options=opts), key, cfg)
            self._voices[slot] = list(listing.voices)
        return self._voices[slot]

    def voices(self) -> list[Voice]:
        rate = self.limits.sample_rate
        out = []
        for v in self._account_voices():
            labels = v.labels or {}
            category = str(v.category or "premade")
            language = labels.get("language") or (
                v.verified_languages[0].language if v.verified_languages else "en"
            )
            if category in ("cloned", "professional"):
                licence = "your cloned voice: ElevenLabs Terms, with the speaker's consent"
            else:
                licence = f"ElevenLabs {category} voice: ElevenLabs Terms of Service"
            out.append(
                Voice(
                    self.name,
                    v.voice_id,
                    v.name or v.voice_id,
                    language=str(language),
                    gender=str(labels.get("gender", "")),
                    license=licence,
                    attribution=f"ElevenLabs ({category})",
                    sample_rate=rate,
                )
            )
        return out

    def _voice(self, voice_id: str) -> Any:
        for refresh in (False, True):
            if refresh:
                # A voice made since the list was read (a clone from another process).
                self._forget_voices()
            for v in self._account_voices():
                if v.voice_id == voice_id:
                    return v
        raise StudioError(
            None,
            f"the ElevenLabs account has no voice '{voice_id}'",
            "run `audiobook-studio voices --engine elevenlabs` to list them",
        )

    def _forget_voices(self) -> None:
        key, cfg = self._key(), self.settings
        self._voices.pop((hashlib.sha256(key.encode()).hexdigest(), cfg.base_url), None)

    def clone_voice(
        self,
        name: str,
        samples: Sequence[Path],
        *,
        consent: bool,
        description: str = "",
        remove_background_noise: bool = False,
    ) -> Voice:
        """Make an instant voice clone from recordings of one speaker; the new voice is listed
        in `voices()` at once and can be cast like any other.

        ElevenLabs' terms require the speaker's consent to cloning their voice, and its API
        has no field that asks: the caller must state it here (`consent=True`), else nothing is
        sent. The consent is recorded in the voice's description on the account."""
        if consent is not True:
            raise StudioError(
                None,
                "elevenlabs: a voice is cloned only with the speaker's consent",
                "confirm that the speaker agreed to having their voice cloned "
                "(`--consent` on the command line), then try again",
            )
        name = name.strip()
        if not name:
            raise StudioError(None, "elevenlabs: the cloned voice needs a name", "give --name")
        files = [_sample_file(Path(p)) for p in samples]
        if not files:
            raise StudioError(
                None, "elevenlabs: cloning needs at least one sample", "give --sample FILE"
            )
        stamp = time.strftime("%Y-%m-%d", time.gmtime())
        said = f"Cloned with the speaker's consent, confirmed in Audiobook Studio on {stamp}."
        text = f"{description.strip()} {said}".strip()
        key, cfg = self._key(), self.settings
        opts = {"max_retries": 0, "timeout_in_seconds": int(cfg.timeout_s)}
        # One attempt only: a create retried after a lost answer would make a second voice.
        made = self._call(
            lambda c: c.voices.ivc.create(
                name=name,
                files=files,
                description=text,
                remove_background_noise=remove_background_noise,
                request_options=opts,
            ),
            key,
            replace(cfg, max_attempts=1),
        )
        self._forget_voices()
        voice_id = str(made.voice_id)
        for voice in self.voices():
            if voice.id == voice_id:
                return voice
        raise StudioError(
            None,
            f"elevenlabs: the clone '{name}' ({voice_id}) was made but is not listed yet",
            "run `audiobook-studio voices --engine elevenlabs` in a minute",
        )

    def dictionaries(self) -> list[Any]:
        """The account's pronunciation dictionaries (id, name, latest_version_id …)."""
        key, cfg = self._key(), self.settings
        listing = self._call(lambda c: c.pronunciation_dictionaries.list(page_size=100), key, cfg)
        return list(listing.pronunciation_dictionaries)

    def _locators(self) -> list[dict[str, str]]:
        wanted = self.settings.pronunciation_dictionaries
        if not wanted:
            return []
        if len(wanted) > 3:
            raise StudioError(None, "ElevenLabs takes at most 3 pronunciation dictionaries", "")
        latest = {d.id: d.latest_version_id for d in self.dictionaries()}
        out = []
        for entry in wanted:
            ident, _, version = entry.partition(":")
            if not version and ident not in latest:
                raise StudioError(
                    None, f"the ElevenLabs account has no pronunciation dictionary '{ident}'", ""
                )
            out.append(
                {"pronunciation_dictionary_id": ident, "version_id": version or latest[ident]}
            )
        return out

    def upload_lexicon(self, pls: str, name: str) -> tuple[str, str]:
        """Create an account pronunciation dictionary from a PLS document: (id, version id)."""
        key, cfg = self._key(), self.settings
        payload = ("lexicon.pls", pls.encode("utf-8"), "application/pls+xml")
        made = self._call(
            lambda c: c.pronunciation_dictionaries.create_from_file(name=name, file=payload),
            key,
            cfg,
        )
        return str(made.id), str(made.version_id)

    def identity(self, voice_id: str) -> str:
        voice = self._voice(voice_id)
        cfg = self.settings
        stored = voice.settings.dict() if voice.settings is not None else {}
        extras = json.dumps([stored, self._locators()], sort_keys=True, default=str)
        digest = hashlib.sha256(extras.encode()).hexdigest()[:12]
        return (
            f"elevenlabs/{_REVISION}/{cfg.model}/{self.output_format()}/{host_of(cfg.base_url)}/"
            f"{voice_id}/{digest}"
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
        check_cancel(cancel)
        key, cfg = self._key(), self.settings
        self._voice(voice_id)
        model = str(settings.get("model") or cfg.model)
        fmt = self.output_format(str(settings.get("output_format") or ""))
        body: dict[str, Any] = {"model_id": model, "output_format": fmt}
        voice_settings = _voice_settings(settings)
        if voice_settings:
            body["voice_settings"] = voice_settings
        locators = self._locators()
        if locators:
            body["pronunciation_dictionary_locators"] = locators
        for name in ("seed", "language_code", "apply_text_normalization"):
            if name in settings:
                body[name] = settings[name]
        return self._stream(text, voice_id, body, settings, key, cfg, cancel)

    def _stream(
        self,
        text: str,
        voice_id: str,
        body: dict[str, Any],
        settings: Settings,
        key: str,
        cfg: ProviderSettings,
        cancel: CancelToken | None,
    ) -> Iterator[AudioChunk]:
        model, fmt = body["model_id"], body["output_format"]
        pieces = split_text(text, self.model_limit(model))
        stitch = cfg.stitching and supports_stitching(model)
        before = str(settings.get("previous_text", "") or "")
        after = str(settings.get("next_text", "") or "")
        for i, piece in enumerate(pieces):
            check_cancel(cancel)
            request = dict(body)
            if stitch:
                prev = pieces[i - 1] if i else before
                nxt = pieces[i + 1] if i + 1 < len(pieces) else after
                if prev:
                    request["previous_text"] = prev[-1000:]
                    known = self._request_ids.get(self._slot(voice_id, model, prev))
                    if known:
                        request["previous_request_ids"] = [known]
                if nxt:
                    request["next_text"] = nxt[:1000]
            samples, request_id, billed = self._call(
                lambda c, r=request, p=piece: self._speak(c, voice_id, p, r), key, cfg, cancel
            )
            if request_id:
                self._remember(self._slot(voice_id, model, piece), request_id)
            USAGE.add(PROVIDER, billed)
            yield from audio_chunks(samples, format_rate(fmt), cancel)

    def _speak(
        self, client: Any, voice_id: str, text: str, request: dict[str, Any]
    ) -> tuple[np.ndarray, str, int]:
        fmt = request["output_format"]
        options = {"max_retries": 0, "timeout_in_seconds": int(self.settings.timeout_s)}
        with client.text_to_speech.with_raw_response.convert(
            voice_id, text=text, request_options=options, **request
        ) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            data = b"".join(response.data)
        if not data:
            raise TransientError(f"{PROVIDER}: the server sent no audio")
        codec = fmt.split("_")[0]
        samples = decode_audio(data, codec if codec in ("pcm", "wav") else "mp3", format_rate(fmt))
        try:
            billed = int(headers.get("character-cost", ""))
        except ValueError:
            billed = round(len(text) * self.cost_factor(request["model_id"]))
        return samples, headers.get("request-id", ""), billed

    @staticmethod
    def _slot(voice_id: str, model: str, text: str) -> str:
        return hashlib.sha256(f"{voice_id}|{model}|{text.strip()}".encode()).hexdigest()

    def _remember(self, slot: str, request_id: str) -> None:
        with self._lock:
            self._request_ids[slot] = request_id
            self._request_ids.move_to_end(slot)
            while len(self._request_ids) > 512:
                self._request_ids.popitem(last=False)


def _models_cache_path() -> Path:
    from pipelines.core import paths

    return paths.cache_dir() / "elevenlabs-models.json"


def _read_models_cache(path: Path, slot: str) -> tuple[float, list[ModelInfo]] | None:
    """The cached models list of this account, while younger than `MODELS_TTL_S`."""
    try:
        cached = json.loads(path.read_text())
        at = float(cached["at"])
        if cached.get("slot") != slot or not 0 <= time.time() - at < MODELS_TTL_S:
            return None
        models = [
            ModelInfo(**{**m, "languages": tuple(m.get("languages", ()))}) for m in cached["models"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return at, models


def _sample_file(path: Path) -> tuple[str, bytes, str]:
    """A voice sample as the SDK uploads it: (file name, bytes, content type)."""
    kind = SAMPLE_TYPES.get(path.suffix.lower())
    if kind is None:
        raise StudioError(path, "a voice sample must be MP3, WAV, FLAC, M4A, OGG or WebM audio", "")
    try:
        size = path.stat().st_size
        if size > MAX_SAMPLE_BYTES:
            raise StudioError(path, "a voice sample may be at most 10 MB", "trim or compress it")
        data = path.read_bytes()
    except OSError as exc:
        raise StudioError(path, f"the voice sample cannot be read ({exc.strerror})", "") from None
    if not data:
        raise StudioError(path, "the voice sample is empty", "")
    return path.name, data, kind


_SETTING_RANGES = {
    "stability": (0.0, 1.0),
    "similarity_boost": (0.0, 1.0),
    "style": (0.0, 1.0),
    "speed": (0.7, 1.2),
}
_ALIASES = {"similarity": "similarity_boost", "speaker_boost": "use_speaker_boost"}


def _voice_settings(settings: Settings) -> dict[str, Any]:
    """The job's voice settings in the API's names, checked against the API's ranges."""
    out: dict[str, Any] = {}
    for raw, value in settings.items():
        name = _ALIASES.get(raw, raw)
        if name == "use_speaker_boost":
            out[name] = bool(value)
        elif name in _SETTING_RANGES:
            lo, hi = _SETTING_RANGES[name]
            number = float(value)
            if not lo <= number <= hi:
                raise ValueError(f"ElevenLabs {raw} must be between {lo} and {hi}, not {value}")
            out[name] = number
    return out
