"""Cloud provider settings: defaults, the user's settings file, and environment overrides.

The settings file is `config_dir()/cloud.json` (`{"openai": {...}, "elevenlabs": {...}}`), written
by the GUI's Settings through `save_provider_settings`. It never holds a key. For headless
workers, `AUDIOBOOK_STUDIO_<PROVIDER>_<FIELD>` overrides any field, and the SDKs' usual
`OPENAI_BASE_URL` / `ELEVENLABS_BASE_URL` (and `INWORLD_BASE_URL`, this app's own name: Inworld
has no SDK variable for it) set the base URL (a proxy, a compatible server).
Worker processes read the same file and environment, so every process agrees.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pipelines.core.errors import StudioError
from pipelines.core.files import write_text_atomic

ENV_PREFIX = "AUDIOBOOK_STUDIO_"
BASE_URL_ENV = {
    "openai": "OPENAI_BASE_URL",
    "elevenlabs": "ELEVENLABS_BASE_URL",
    "inworld": "INWORLD_BASE_URL",
}


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    base_url: str = ""  # "" : the provider's own endpoint
    realtime_base_url: str = ""  # OpenAI Realtime WebSocket base; "": derived from base_url
    model: str = ""
    output_format: str = ""  # "" : the best lossless format the account allows
    concurrency: int = 0  # parallel requests; 0: the provider's (or plan's) default
    requests_per_minute: float = 0.0  # 0: no client-side limit beyond concurrency
    max_attempts: int = 6
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    max_retry_wait_s: float = 300.0  # never wait longer than this for one retry
    timeout_s: float = 120.0
    price_per_million_chars: float = 0.0  # 0: the built-in price of the model
    instructions: str = ""  # OpenAI gpt-4o-mini-tts and realtime models: delivery direction
    custom_voices: tuple[str, ...] = ()  # OpenAI custom voice ids made from samples
    pronunciation_dictionaries: tuple[str, ...] = ()  # ElevenLabs "id" or "id:version", ≤ 3
    stitching: bool = True  # ElevenLabs: send neighbouring text / request ids
    retired_models: tuple[str, ...] = ()  # extra "model=YYYY-MM-DD" shutdown dates
    verify_attempts: int = 3  # OpenAI Realtime: tries per chunk while its transcript differs


DEFAULTS: dict[str, ProviderSettings] = {
    # The Speech API's models shut down on 2027-01-06; new books start on their Realtime successor.
    "openai": ProviderSettings(model="gpt-realtime-2.1-mini", output_format="pcm", concurrency=4),
    "elevenlabs": ProviderSettings(model="eleven_multilingual_v2"),
    "inworld": ProviderSettings(model="inworld-tts-1.5-max", concurrency=4),
}
_FIELDS = {f.name: f for f in fields(ProviderSettings)}
_CACHE: dict[str, tuple[int, dict[str, Any]]] = {}


def settings_path() -> Path:
    from pipelines.core import paths

    return paths.config_dir() / "cloud.json"


def _read_file() -> dict[str, Any]:
    path = settings_path()
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    cached = _CACHE.get(str(path))
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StudioError(
            path, f"the cloud settings cannot be read ({exc})", "fix or delete the file"
        ) from None
    if not isinstance(data, dict):
        raise StudioError(path, "the cloud settings are not a JSON object", "fix or delete it")
    _CACHE[str(path)] = (stamp, data)
    return data


def _coerce(name: str, value: Any, where: str) -> Any:
    kind = type(getattr(ProviderSettings(), name))
    try:
        if kind is tuple:
            if isinstance(value, str):
                value = [v for v in (p.strip() for p in value.split(",")) if v]
            return tuple(str(v) for v in value)
        if kind is bool:
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise StudioError(
            where, f"setting '{name}' must be a {kind.__name__}, not {value!r}", ""
        ) from None


def provider_settings(provider: str) -> ProviderSettings:
    """The provider's settings: defaults, then the settings file, then the environment."""
    if provider not in DEFAULTS:
        raise StudioError(None, f"unknown provider '{provider}'", "use openai or elevenlabs")
    values: dict[str, Any] = {}
    section = _read_file().get(provider, {})
    if isinstance(section, dict):
        for name, value in section.items():
            if name in _FIELDS:
                values[name] = _coerce(name, value, str(settings_path()))
    if os.environ.get(BASE_URL_ENV[provider], "").strip():
        values["base_url"] = os.environ[BASE_URL_ENV[provider]].strip()
    for name in _FIELDS:
        env = f"{ENV_PREFIX}{provider.upper()}_{name.upper()}"
        if os.environ.get(env, "").strip():
            values[name] = _coerce(name, os.environ[env].strip(), env)
    result = replace(DEFAULTS[provider], **values)
    if result.max_attempts < 1 or result.timeout_s <= 0 or result.concurrency < 0:
        raise StudioError(
            settings_path(),
            f"{provider} settings out of range (attempts ≥ 1, timeout > 0, concurrency ≥ 0)",
            "",
        )
    return result


def save_provider_settings(provider: str, **values: Any) -> ProviderSettings:
    """Change fields of a provider's settings in the settings file (atomically)."""
    if provider not in DEFAULTS:
        raise StudioError(None, f"unknown provider '{provider}'", "use openai or elevenlabs")
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        # Also what keeps an API key out of this file: there is no field to hold one.
        raise StudioError(None, f"unknown {provider} settings: {', '.join(unknown)}", "")
    path = settings_path()
    data = dict(_read_file())
    section = dict(data.get(provider, {}))
    for name, value in values.items():
        coerced = _coerce(name, value, name)
        section[name] = list(coerced) if isinstance(coerced, tuple) else coerced
    data[provider] = section
    write_text_atomic(path, json.dumps(data, indent=2))
    return provider_settings(provider)


def host_of(base_url: str) -> str:
    """The base URL as it goes into a voice identity: a different server sounds different."""
    return base_url.rstrip("/").split("://", 1)[-1] if base_url else "default"
