"""Is a recording good enough to make a voice from? Length, clipping, noise floor, level, rate.

A cloned voice copies what it hears: clipping becomes a rasp, room noise a hiss under every
sentence, a phone-quality rate a muffled voice. The check measures the clip (or the part of it
between `start_s` and `end_s` the author kept) and says, in words, what is wrong and what to do:
a `refuse` problem stops the voice being made, a `warn` one is worth a second take.

The limits per target: StyleTTS2 takes a reference of 5-30 s (10-20 s is best: longer adds
nothing to its style vector); an ElevenLabs instant clone wants at least 30 s (one to three
minutes of one speaker is best).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from pipelines.audio.dsp import power_db
from pipelines.audio.ffmpeg_io import decode_blocks, probe
from pipelines.core.errors import StudioError

FULL_SCALE = 0.999  # a sample this close to ±1 hit the converter's ceiling
CLIPPED_SHARE = 0.0005  # more than 1 in 2,000 samples at full scale: audibly clipped
CLIPPED_RUN = 3  # or this many in a row anywhere
NOISE_REFUSE_DB = -40.0  # the quietest frames (between words) above this: hiss
FLOOR_PERCENTILE = 3  # the noise floor: this percentile of the frames' power
NOISE_WARN_DB = -55.0
QUIET_PEAK_DB = -30.0  # a peak below this: recorded far too low
MIN_RATE = 16_000  # below it the voice sounds like a telephone
GOOD_RATE = 22_050
FRAME_S = 0.02  # short enough to fall between words and inside stop consonants

LIMITS: dict[str, tuple[float, float]] = {  # target → (shortest, longest) seconds kept
    "styletts2": (5.0, 30.0),
    "elevenlabs": (30.0, 600.0),
}


@dataclass(frozen=True, slots=True)
class Problem:
    severity: str  # "refuse" or "warn"
    what: str
    fix: str

    def line(self) -> str:
        return f"{self.what}: {self.fix}"


@dataclass(slots=True)
class SampleCheck:
    path: Path
    target: str
    duration_s: float  # of the part kept
    sample_rate: int
    channels: int
    peak_db: float
    noise_floor_db: float  # the quietest 3% of 20 ms frames, in dBFS
    clipped: int  # samples at full scale
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "refuse" for p in self.problems)

    def summary(self) -> str:
        if not self.problems:
            return (
                f"Good: {self.duration_s:.1f} s at {self.sample_rate} Hz, peak"
                f" {self.peak_db:.1f} dBFS, noise floor {self.noise_floor_db:.0f} dBFS."
            )
        return "; ".join(p.line() for p in self.problems)


def load_sample(path: Path) -> tuple[np.ndarray, int, int]:
    """The clip as mono float32, its sample rate and its channel count; any format ffmpeg
    reads (WAV, FLAC, OGG, MP3, M4A...)."""
    if not path.is_file():
        raise StudioError(path, "the sample file does not exist", "Choose the recording again.")
    try:
        with sf.SoundFile(str(path)) as f:
            rate, channels = f.samplerate, f.channels
            data = f.read(dtype="float32", always_2d=True)
        return data.mean(axis=1).astype(np.float32), rate, channels
    except (sf.LibsndfileError, RuntimeError):
        pass  # a format libsndfile lacks (MP3, AAC): through ffmpeg
    info = probe(path)
    if not info.sample_rate:
        raise StudioError(
            path,
            "this file has no audio that can be read",
            "Export the recording as WAV or FLAC and choose that file.",
        )
    blocks = list(decode_blocks(path))
    samples = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    return samples.astype(np.float32), info.sample_rate, info.channels


def check_sample(
    path: Path, target: str, start_s: float = 0.0, end_s: float | None = None
) -> SampleCheck:
    """Measure the part of `path` from `start_s` to `end_s` (None: the end) for a `target`
    ("styletts2" or "elevenlabs") voice, and list what is wrong with it."""
    return checked_clip(path, target, start_s, end_s)[0]


def checked_clip(
    path: Path, target: str, start_s: float = 0.0, end_s: float | None = None
) -> tuple[SampleCheck, np.ndarray]:
    """`check_sample`'s check and the part of the clip it measured (mono float32 at the
    check's sample rate), read once: what a voice is then made from."""
    if target not in LIMITS:
        raise StudioError(
            path, f"no voice can be made for '{target}'", "Use styletts2 or elevenlabs."
        )
    samples, rate, channels = load_sample(path)
    kept = trim(samples, rate, start_s, end_s)
    duration = len(kept) / rate if rate else 0.0
    peak = float(np.max(np.abs(kept))) if len(kept) else 0.0
    at_ceiling = np.abs(kept) >= FULL_SCALE
    clipped = int(at_ceiling.sum())
    frame = max(1, int(rate * FRAME_S))
    frames = len(kept) // frame
    if frames:
        power = (kept[: frames * frame].astype(np.float64) ** 2).reshape(frames, frame).mean(axis=1)
        floor = power_db(float(np.percentile(power, FLOOR_PERCENTILE)))
    else:
        floor = -120.0
    check = SampleCheck(
        path, target, duration, rate, channels, power_db(peak * peak), floor, clipped
    )
    check.problems = _problems(check, _longest_run(at_ceiling), len(kept))
    return check, kept


def trim(samples: np.ndarray, rate: int, start_s: float, end_s: float | None) -> np.ndarray:
    a = max(0, round(start_s * rate))
    b = len(samples) if end_s is None else min(len(samples), round(end_s * rate))
    return samples[a:b] if b > a else samples[:0]


def _longest_run(flags: np.ndarray) -> int:
    if not flags.any():
        return 0
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max())


def _problems(c: SampleCheck, run: int, n: int) -> list[Problem]:
    out: list[Problem] = []
    shortest, longest = LIMITS[c.target]
    if c.duration_s < shortest:
        out.append(
            Problem(
                "refuse",
                f"too short ({c.duration_s:.1f} s)",
                f"keep at least {shortest:.0f} s of speech"
                + (" (one to three minutes is best)" if c.target == "elevenlabs" else ""),
            )
        )
    elif c.duration_s > longest:
        out.append(
            Problem(
                "refuse",
                f"too long ({c.duration_s:.0f} s)",
                f"trim it to at most {longest:.0f} s of your clearest speech",
            )
        )
    if c.clipped and (c.clipped > CLIPPED_SHARE * n or run >= CLIPPED_RUN):
        out.append(
            Problem(
                "refuse",
                f"clipped ({c.clipped} samples at full scale)",
                "record again with the input level lower, so the loudest words peak near -6 dBFS",
            )
        )
    if c.peak_db < QUIET_PEAK_DB:
        out.append(
            Problem(
                "refuse",
                f"far too quiet (peak {c.peak_db:.0f} dBFS)",
                "record again closer to the microphone or with the input level higher",
            )
        )
    if c.noise_floor_db > NOISE_REFUSE_DB:
        out.append(
            Problem(
                "refuse",
                f"noisy (noise floor {c.noise_floor_db:.0f} dBFS between words)",
                "record in a quieter room, away from fans and traffic, or use a noise gate",
            )
        )
    elif c.noise_floor_db > NOISE_WARN_DB:
        out.append(
            Problem(
                "warn",
                f"some background noise (floor {c.noise_floor_db:.0f} dBFS)",
                "a quieter room would make a cleaner voice",
            )
        )
    if c.sample_rate < MIN_RATE:
        out.append(
            Problem(
                "refuse",
                f"sample rate {c.sample_rate} Hz is too low",
                f"record at {GOOD_RATE} Hz or more (44,100 or 48,000 Hz is best)",
            )
        )
    elif c.sample_rate < GOOD_RATE:
        out.append(
            Problem(
                "warn",
                f"sample rate {c.sample_rate} Hz is low",
                "44,100 or 48,000 Hz gives a clearer voice",
            )
        )
    return out
