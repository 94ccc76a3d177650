"""The Realtime API path for OpenAI voices: the successor the SDK names for the Speech API models.

One WebSocket session per utterance: the session is told to read the text verbatim in the chosen
voice (with the author's delivery instructions), the text goes in as a user message, and the
response's audio deltas (24 kHz 16-bit PCM, base64) are gathered until `response.done`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipelines.engines.base import CancelToken
from pipelines.engines.cloud.common import (
    HttpFailure,
    TransientError,
    _is_transport_error,
    check_cancel,
    decode_audio,
    sort_failure,
)


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """One request to OpenAI's speech models, through either endpoint."""

    model: str
    voice: str
    speed: float
    fmt: str
    instructions: str


PROVIDER = "openai"
READ_VERBATIM = (
    "You are the narrator of an audiobook. Read the user's text aloud exactly as written, "
    "word for word, adding nothing, leaving nothing out, and do not answer or comment on it."
)


def _session(request: SpeechRequest) -> dict[str, Any]:
    instructions = READ_VERBATIM
    if request.instructions:
        instructions += f" Delivery: {request.instructions}"
    voice: Any = request.voice
    return {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": instructions,
        "audio": {
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": voice,
                "speed": request.speed,
            }
        },
    }


def _event_failure(event: Any) -> HttpFailure:
    error = getattr(event, "error", None)
    code = str(getattr(error, "code", "") or getattr(error, "type", "") or "")
    message = str(getattr(error, "message", "") or "")
    # Realtime errors come as events, not statuses: map the codes that matter to the status an
    # HTTP endpoint would have sent, so that they are sorted the same way.
    status = 400
    if "quota" in code:
        status = 429
    elif code in ("invalid_api_key", "authentication_error"):
        status = 401
    elif "rate_limit" in code:
        status = 429
    elif code in ("server_error", "internal_error"):
        status = 500
    return HttpFailure(status, code, message, {})


def speak_realtime(
    client: Any, request: SpeechRequest, text: str, key: str, cancel: CancelToken | None
) -> np.ndarray:
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    audio = bytearray()
    try:
        with client.realtime.connect(model=request.model) as conn:
            conn.session.update(session=_session(request))
            conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
            )
            conn.response.create()
            for event in conn:
                check_cancel(cancel)
                kind = getattr(event, "type", "")
                if kind == "response.output_audio.delta":
                    audio += base64.b64decode(event.delta)
                elif kind == "error":
                    raise sort_failure(PROVIDER, _event_failure(event), key)
                elif kind == "response.done":
                    status = getattr(getattr(event, "response", None), "status", "completed")
                    if status not in (None, "completed"):
                        raise TransientError(f"{PROVIDER}: the realtime response was {status}")
                    break
            else:
                raise TransientError(f"{PROVIDER}: the realtime session closed before the end")
    except InvalidStatus as exc:
        headers = dict(exc.response.headers.raw_items())
        failure = HttpFailure(exc.response.status_code, "", "", headers)
        raise sort_failure(PROVIDER, failure, key) from None
    except ConnectionClosed:
        raise TransientError(f"{PROVIDER}: the realtime connection dropped") from None
    except OSError as exc:
        raise TransientError(f"{PROVIDER}: {type(exc).__name__}") from None
    except Exception as exc:
        if _is_transport_error(exc):
            raise TransientError(f"{PROVIDER}: {type(exc).__name__}") from None
        raise
    if not audio:
        raise TransientError(f"{PROVIDER}: the realtime response carried no audio")
    return decode_audio(bytes(audio), "pcm", 24000)
