"""The Realtime API path for OpenAI voices: the successor the SDK names for the Speech API models.

One WebSocket session per request: the session is told to read the text verbatim in the chosen
voice (with the author's delivery instructions), the text goes in as a user message, and the
response's audio deltas (24 kHz 16-bit PCM, base64) are gathered until `response.done`, together
with the response's own transcript of what it said (`response.output_audio_transcript.*`).

A realtime model is a conversational one and may reword what it reads ("I'm" for "I am", a
number said differently, a word dropped). `verify` compares that transcript with the text sent,
after folding case, punctuation and the ways a number may be read; the engine retries a chunk
that was reworded with a stricter instruction and keeps the closest attempt.
"""

from __future__ import annotations

import base64
import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipelines.engines.base import AudioChunk, CancelToken
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
SAMPLE_RATE = 24000
# The voices a Realtime session takes (the SDK's RealtimeAudioConfigOutput); fable, nova and onyx
# are Speech API voices only.
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
MAX_SPEED = 1.5  # the Realtime API's range is 0.25-1.5 (the Speech API's 0.25-4)
READ_VERBATIM = (
    "You are the narrator of an audiobook. Read the user's text aloud exactly as written, "
    "word for word, adding nothing, leaving nothing out, and do not answer or comment on it."
)
# Added on a retry after the transcript showed a rewording.
STRICTER = (
    " Your last reading changed the wording. This time say every word exactly as it is "
    "written, in order: keep contractions and their absence as written (never 'I'm' for "
    "'I am' or the reverse), keep every name and number, and do not shorten, expand, "
    "correct or paraphrase anything."
)
# Both the GA event names and the beta ones, which older servers and proxies still send.
AUDIO_DELTA = ("response.output_audio.delta", "response.audio.delta")
TRANSCRIPT_DELTA = ("response.output_audio_transcript.delta", "response.audio_transcript.delta")
TRANSCRIPT_DONE = ("response.output_audio_transcript.done", "response.audio_transcript.done")


@dataclass(frozen=True, slots=True)
class RealtimeReply:
    samples: np.ndarray
    transcript: str  # "" when the server sent no transcript


@dataclass(slots=True)
class VerifiedChunk(AudioChunk):
    """Audio from a Realtime response, with what the model said it spoke.

    `reworded` is set when every attempt changed the wording: the audio is then the closest
    attempt (fewest words differing) and `spoken` says what it says."""

    spoken: str = ""
    attempts: int = 1
    word_changes: int = 0  # words differing from the text sent, in the attempt kept
    verified: bool = True  # False: the server sent no transcript, nothing could be compared
    reworded: bool = False


@dataclass(frozen=True, slots=True)
class Attempt:
    reply: RealtimeReply
    changes: int  # words added, left out or replaced; 0: read as written
    verified: bool = True
    diff: list[str] = field(default_factory=list)  # "sent -> spoken" pieces, for the log


def _session(request: SpeechRequest, strict: bool = False) -> dict[str, Any]:
    instructions = READ_VERBATIM + (STRICTER if strict else "")
    if request.instructions:
        instructions += f" Delivery: {request.instructions}"
    voice: Any = request.voice if request.voice in VOICES else {"id": request.voice}
    return {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": instructions,
        "audio": {
            "output": {
                "format": {"type": "audio/pcm", "rate": SAMPLE_RATE},
                "voice": voice,
                "speed": request.speed,
            }
        },
    }


_RETRY_IN = re.compile(r"try again in (\d+(?:\.\d+)?)\s*(ms|s)\b", re.IGNORECASE)


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
    headers: dict[str, str] = {}
    wait = _RETRY_IN.search(message)
    if wait:  # an event has no Retry-After header; the wait is in the message
        factor = 1 if wait.group(2).lower() == "ms" else 1000
        headers["retry-after-ms"] = f"{float(wait.group(1)) * factor:g}"
    return HttpFailure(status, code, message, headers)


def speak_realtime(
    client: Any,
    request: SpeechRequest,
    text: str,
    key: str,
    cancel: CancelToken | None,
    strict: bool = False,
) -> RealtimeReply:
    """One Realtime response for `text`: its audio and its transcript."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    audio = bytearray()
    deltas: list[str] = []
    transcript: str | None = None
    try:
        with client.realtime.connect(model=request.model) as conn:
            conn.session.update(session=_session(request, strict))
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
                if kind in AUDIO_DELTA:
                    audio += base64.b64decode(event.delta)
                elif kind in TRANSCRIPT_DELTA:
                    deltas.append(str(event.delta))
                elif kind in TRANSCRIPT_DONE:
                    transcript = str(event.transcript)
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
        body = exc.response.body.decode("utf-8", "replace") if exc.response.body else ""
        failure = HttpFailure(exc.response.status_code, body.strip()[:60], body, headers)
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
    spoken = transcript if transcript is not None else "".join(deltas)
    return RealtimeReply(decode_audio(bytes(audio), "pcm", SAMPLE_RATE), spoken)


# -- what was said against what was sent ----------------------------------------------------------

_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc`"})
_TOKEN = re.compile(r"\d+(?:\.\d+)?(?:st|nd|rd|th|s)?|[^\W\d_]+(?:'[^\W\d_]+)*")
_SYMBOLS = (
    (re.compile(r"\$\s*(\d[\d,]*(?:\.\d+)?)"), r"\1 dollars"),
    (re.compile(r"(\d)\s*%"), r"\1 percent"),
    (re.compile(r"&"), " and "),
    (re.compile(r"(?<=\d),(?=\d{3}\b)"), ""),  # 1,000 is one number
)
_MAX_MERGE = 2  # differing stretches this close together are judged as one


def words(text: str) -> list[str]:
    """`text` as lower-case words: punctuation and hyphens dropped, apostrophes in words kept
    (so "I'm" and "I am" differ), "$5" as "5 dollars", "5%" as "5 percent"."""
    folded = text.lower().translate(_APOSTROPHES)
    for pattern, repl in _SYMBOLS:
        folded = pattern.sub(repl, folded)
    return _TOKEN.findall(folded)


def readings(token: str) -> list[tuple[str, ...]]:
    """The ways a word may be spoken: itself, and for a number its digits, cardinal, year and
    ordinal readings, with and without "and" ("one hundred and five")."""
    number = re.fullmatch(r"(\d+(?:\.\d+)?)(st|nd|rd|th|s)?", token)
    if number is None:
        return [(token,)]
    from num2words import num2words

    digits, suffix = number.groups()
    forms = [token]
    try:
        if suffix in ("st", "nd", "rd", "th"):
            forms.append(num2words(int(digits), to="ordinal"))
        elif "." in digits:
            forms.append(num2words(float(digits)))
        else:
            value = int(digits)
            spoken = [num2words(value)]
            if 1000 <= value <= 2999:
                spoken.append(num2words(value, to="year"))
            if digits.startswith("0") or len(digits) > 4:
                spoken.append(" ".join(num2words(int(d)) for d in digits))  # a code, a number
            if suffix == "s":  # "1920s": "nineteen twenties"
                spoken = [re.sub(r"y$", "ie", s) + "s" for s in spoken]
            forms += spoken
    except (OverflowError, ValueError, NotImplementedError):
        pass
    out: list[tuple[str, ...]] = []
    for form in forms:
        split = tuple(words(form))
        for variant in (split, tuple(w for w in split if w != "and")):
            if variant and variant not in out:
                out.append(variant)
    return out


def _edits(slots: list[list[tuple[str, ...]]], heard: list[str]) -> int:
    """Fewest words added, dropped or replaced to turn `slots` (each word sent with the ways it
    may be read) into `heard`: an edit distance where one slot may match several words."""
    inf = len(slots) + len(heard) + 1
    best = [[inf] * (len(heard) + 1) for _ in range(len(slots) + 1)]
    best[0] = list(range(len(heard) + 1))
    for i, options in enumerate(slots, start=1):
        best[i][0] = i
        for j in range(1, len(heard) + 1):
            cost = min(best[i - 1][j] + 1, best[i][j - 1] + 1, best[i - 1][j - 1] + 1)
            for option in options:
                n = len(option)
                if n <= j and tuple(heard[j - n : j]) == option:
                    cost = min(cost, best[i - 1][j - n])
            best[i][j] = cost
    return best[len(slots)][len(heard)]


def compare(sent: str, spoken: str) -> tuple[int, list[str]]:
    """(words changed, "sent -> spoken" pieces) between the text sent and the transcript."""
    said = words(sent)
    heard = words(spoken)
    matcher = difflib.SequenceMatcher(a=said, b=heard, autojunk=False)
    regions: list[list[int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        last = regions[-1] if regions else None
        if last is not None and i1 - last[1] <= _MAX_MERGE and j1 - last[3] <= _MAX_MERGE:
            # A number read as words may share a word ("and", "four") with its neighbours;
            # judging the stretch as one keeps such a reading from counting as changes.
            last[1], last[3] = i2, j2
        else:
            regions.append([i1, i2, j1, j2])
    changes = 0
    pieces: list[str] = []
    for i1, i2, j1, j2 in regions:
        n = _edits([readings(w) for w in said[i1:i2]], heard[j1:j2])
        if n:
            changes += n
            pieces.append(f"{' '.join(said[i1:i2]) or '∅'} -> {' '.join(heard[j1:j2]) or '∅'}")
    return changes, pieces


def judge(text: str, reply: RealtimeReply) -> Attempt:
    if not reply.transcript.strip():
        return Attempt(reply, 0, verified=False)
    changes, pieces = compare(text, reply.transcript)
    return Attempt(reply, changes, diff=pieces)


def best_attempt(attempts: list[Attempt]) -> Attempt:
    """The attempt closest to the text (the first of equals: retries cost, they do not improve
    a tie)."""
    return min(attempts, key=lambda a: a.changes)


def verified_chunks(
    attempt: Attempt, tries: int, chunks: Iterable[AudioChunk]
) -> Iterator[AudioChunk]:
    """`chunks` carrying what the kept attempt said and whether it was reworded."""
    for c in chunks:
        yield VerifiedChunk(
            c.samples,
            c.sample_rate,
            list(c.alignments),
            spoken=attempt.reply.transcript,
            attempts=tries,
            word_changes=attempt.changes,
            verified=attempt.verified,
            reworded=attempt.changes > 0,
        )
