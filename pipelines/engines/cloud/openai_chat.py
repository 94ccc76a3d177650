"""One structured-output request to an OpenAI chat model (the model pass over speakers).

The same client, base URL (`OPENAI_BASE_URL` or Settings), key (environment or keyring, passed
in, never logged) and retries (`CloudCaller`: 429, 5xx and dropped connections tried again with
backoff; a refused key or no quota is an `AccountProblem`) as the OpenAI voices. The SDK makes
one attempt per call, since the retries are ours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.engines.cloud.common import CloudCaller, TransientError, sorted_failures
from pipelines.engines.cloud.openai_tts import _failure_from
from pipelines.engines.cloud.settings import ProviderSettings, provider_settings

PROVIDER = "openai"


@dataclass(frozen=True, slots=True)
class ChatReply:
    content: str  # the model's JSON text ("" when it refused)
    input_tokens: int | None  # as the server counted them (None when it did not say)
    output_tokens: int | None
    finish_reason: str
    refusal: str = ""


def structured_chat(
    messages: Sequence[dict[str, str]],
    response_format: dict[str, Any],
    model: str,
    key: str,
    cfg: ProviderSettings | None = None,
    caller: CloudCaller | None = None,
) -> ChatReply:
    """Send one chat request asking for JSON by `response_format` (a json_schema); the reply's
    text is the caller's to check against the schema."""
    import openai

    cfg = cfg or provider_settings(PROVIDER)
    caller = caller or CloudCaller(PROVIDER, cfg)
    client = openai.OpenAI(
        api_key=key, base_url=cfg.base_url or None, max_retries=0, timeout=cfg.timeout_s
    )

    def ask() -> ChatReply:
        with sorted_failures(PROVIDER, key, _failure_from):
            completion = client.chat.completions.create(  # type: ignore[call-overload]
                model=model,
                messages=list(messages),  # plain dicts: the SDK's TypedDicts are for typing only
                response_format=response_format,
            )
        if not completion.choices:
            raise TransientError(f"{PROVIDER}: the reply held no answer")
        choice = completion.choices[0]
        usage = completion.usage
        return ChatReply(
            content=choice.message.content or "",
            input_tokens=usage.prompt_tokens if usage else None,
            output_tokens=usage.completion_tokens if usage else None,
            finish_reason=str(choice.finish_reason or ""),
            refusal=str(getattr(choice.message, "refusal", None) or ""),
        )

    try:
        return caller.call(ask)
    finally:
        client.close()
