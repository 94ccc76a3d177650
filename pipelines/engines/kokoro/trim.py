"""Kokoro's padding: each request comes back with about 0.3 s of silence before the speech and
0.5 s after it. The studio sets the pauses between utterances itself, so the padding is cut to
a short margin, and requests within one utterance are joined with a pause that suits the
punctuation between them."""

from __future__ import annotations

import numpy as np

FRAME_S = 0.010
BELOW_PEAK_DB = 40.0  # a frame this far under the loudest one is padding
FLOOR_DB = -60.0
KEEP_HEAD_S = 0.04
KEEP_TAIL_S = 0.08
SENTENCE_GAP_S = 0.30
CLAUSE_GAP_S = 0.18
WORD_GAP_S = 0.05


def trim(audio: np.ndarray, rate: int) -> np.ndarray:
    """The speech of one request with a short margin either side (all of it when silent)."""
    frame = max(1, round(FRAME_S * rate))
    count = len(audio) // frame
    if count == 0:
        return audio.astype(np.float32)
    power = np.sqrt(np.mean(audio[: count * frame].reshape(count, frame) ** 2, axis=1) + 1e-20)
    threshold = max(float(power.max()) * 10 ** (-BELOW_PEAK_DB / 20), 10 ** (FLOOR_DB / 20))
    loud = np.nonzero(power > threshold)[0]
    if len(loud) == 0:
        return audio.astype(np.float32)
    start = max(0, loud[0] * frame - round(KEEP_HEAD_S * rate))
    stop = min(len(audio), (loud[-1] + 1) * frame + round(KEEP_TAIL_S * rate))
    return np.asarray(audio[start:stop], dtype=np.float32)


def gap_after(phonemes: str, rate: int) -> int:
    """Samples of silence after a request, by how it ends: a sentence, a clause, or mid-clause."""
    end = phonemes.rstrip("”) ")[-1:] if phonemes.strip() else ""
    if end and end in ".!?…":
        seconds = SENTENCE_GAP_S
    elif end and end in ",;:—":
        seconds = CLAUSE_GAP_S
    else:
        seconds = WORD_GAP_S
    return round(seconds * rate)
