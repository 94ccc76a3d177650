"""What a synthesized chunk is billed: characters (ElevenLabs: credits) for cloud voices."""

from __future__ import annotations

from typing import Any


def billed_characters(engine: str, text: str, settings: dict[str, Any] | None = None) -> int:
    """Characters (ElevenLabs: credits) one synthesized chunk is billed; 0 for local engines."""
    if engine in ("openai", "inworld"):  # billed per character spoken
        return len(text.strip())
    if engine == "elevenlabs":
        from pipelines.engines.cloud.settings import provider_settings
        from pipelines.engines.registry import get_engine

        el: Any = get_engine("elevenlabs")
        model = str((settings or {}).get("model") or provider_settings("elevenlabs").model)
        return round(len(text.strip()) * el.cost_factor(model))
    return 0
