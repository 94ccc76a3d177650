"""ACX-style checks of a finished file: RMS, peak, noise floor, room tone, format.

Measured the way ACX describes them: plain RMS over the whole file, sample peak, the noise floor
as the RMS of the quietest half second, and the room tone before the first and after the last
sound. WAV/FLAC are read directly, anything else (MP3, M4B) is decoded through ffmpeg, in blocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from pipelines.audio.dsp import Audio, db, power_db, read_blocks
from pipelines.audio.ffmpeg_io import decode_blocks, probe
from pipelines.audio.profiles import ACX, DeliveryProfile

FRAME_S = 0.010
NOISE_WINDOW_S = 0.5
SPEECH_OVER_NOISE_DB = 20.0  # a frame this far over the noise floor is sound, not room tone
SPEECH_UNDER_RMS_DB = 25.0  # ... unless it is this far under the file's RMS
TOLERANCE_S = 0.02  # head/tail lengths are read from 10 ms frames


@dataclass(slots=True)
class AcxReport:
    path: str
    rms_db: float
    peak_db: float
    noise_floor_db: float
    duration_s: float
    sample_rate: int
    channels: int
    head_s: float
    tail_s: float
    passed: bool
    problems: list[str] = field(default_factory=list)
    profile: str = "acx"

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("rms_db", "peak_db", "noise_floor_db", "duration_s", "head_s", "tail_s"):
            out[key] = round(float(out[key]), 2)
        return out


def _source(path: Path) -> tuple[Iterator[Audio], int, int]:
    """Blocks, sample rate and channel count of any audio file."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        media = probe(path)
        return decode_blocks(path), media.sample_rate, media.channels
    if info.format in {"WAV", "FLAC", "W64", "RF64", "AIFF"}:
        return read_blocks(path), int(info.samplerate), int(info.channels)
    media = probe(path)
    return decode_blocks(path), media.sample_rate, media.channels


class Meter:
    """ACX's measurements over a stream of blocks: mastering meters what it writes, `check`
    what it reads, so a file is measured once."""

    def __init__(self, rate: int, channels: int = 1) -> None:
        self.rate = rate
        self.channels = channels
        self._frame = max(1, round(rate * FRAME_S))
        self._total = 0.0
        self._count = 0
        self._peak = 0.0
        self._frames: list[np.ndarray] = []
        self._carry = np.zeros(0, dtype=np.float64)

    def push(self, block: Audio) -> None:
        if not len(block):
            return
        x = block.astype(np.float64)
        self._total += float(np.dot(x, x))
        self._count += len(x)
        self._peak = max(self._peak, float(np.max(np.abs(x))))
        data = np.concatenate([self._carry, x]) if len(self._carry) else x
        whole = (len(data) // self._frame) * self._frame
        if whole:
            self._frames.append(np.mean(data[:whole].reshape(-1, self._frame) ** 2, axis=1))
        self._carry = data[whole:]

    def report(self, path: Path | str, profile: DeliveryProfile = ACX) -> AcxReport:
        frames = list(self._frames)
        if len(self._carry):
            frames.append(np.array([np.mean(self._carry**2)]))
        power = np.concatenate(frames) if frames else np.zeros(0)
        count, rate = self._count, self.rate
        rms_db = power_db(self._total / count) if count else db(0.0)
        duration = count / rate if rate else 0.0

        window = max(1, round(NOISE_WINDOW_S / FRAME_S))
        if len(power) >= window:
            sums = np.convolve(power, np.ones(window), mode="valid") / window
            noise_db = power_db(float(sums.min()))
        else:
            noise_db = power_db(float(power.mean())) if len(power) else db(0.0)

        levels = 10 * np.log10(np.maximum(power, 1e-14))
        # A file with no quiet part (noise floor near its RMS) is all sound: no room tone at all.
        threshold = min(
            max(noise_db + SPEECH_OVER_NOISE_DB, rms_db - SPEECH_UNDER_RMS_DB), rms_db - 3
        )
        sound = np.flatnonzero(levels > threshold)
        if sound.size:
            head = float(sound[0]) * FRAME_S
            tail = max(0.0, duration - (float(sound[-1]) + 1) * FRAME_S)
        else:
            head = tail = duration
        return judge(
            AcxReport(
                path=str(path),
                rms_db=rms_db,
                peak_db=db(self._peak),
                noise_floor_db=noise_db,
                duration_s=duration,
                sample_rate=rate,
                channels=self.channels,
                head_s=head,
                tail_s=tail,
                passed=False,
            ),
            profile,
        )


def judge(report: AcxReport, profile: DeliveryProfile = ACX) -> AcxReport:
    """The report with `problems` and `passed` set from its figures against `profile`."""
    p = profile
    rms_db, peak_db, noise_db = report.rms_db, report.peak_db, report.noise_floor_db
    head, tail, duration = report.head_s, report.tail_s, report.duration_s
    problems: list[str] = []
    if not p.rms_min_db <= rms_db <= p.rms_max_db:
        problems.append(f"RMS {rms_db:.1f} dB is outside {p.rms_min_db:g} to {p.rms_max_db:g} dB")
    if peak_db > p.peak_max_db:
        problems.append(f"peak {peak_db:.1f} dB is above {p.peak_max_db:g} dB")
    if noise_db > p.noise_floor_max_db:
        problems.append(f"noise floor {noise_db:.1f} dB is above {p.noise_floor_max_db:g} dB")
    if report.sample_rate != p.sample_rate:
        problems.append(f"sample rate {report.sample_rate} Hz, expected {p.sample_rate} Hz")
    if report.channels != p.channels:
        problems.append(f"{report.channels} channels, expected {p.channels}")
    if not p.head_min_s - TOLERANCE_S <= head <= p.head_max_s + TOLERANCE_S:
        problems.append(
            f"head room tone {head:.2f} s is outside {p.head_min_s:g}-{p.head_max_s:g} s"
        )
    if not p.tail_min_s - TOLERANCE_S <= tail <= p.tail_max_s + TOLERANCE_S:
        problems.append(
            f"tail room tone {tail:.2f} s is outside {p.tail_min_s:g}-{p.tail_max_s:g} s"
        )
    if duration > p.max_file_minutes * 60:
        problems.append(
            f"file runs {duration / 60:.1f} min, longer than {p.max_file_minutes:g} min"
        )
    return replace(report, passed=not problems, problems=problems, profile=p.name)


def check(path: Path, profile: DeliveryProfile = ACX) -> AcxReport:
    """Measure a finished file from its decoded samples."""
    path = Path(path)
    blocks, rate, channels = _source(path)
    meter = Meter(rate, channels)
    for block in blocks:
        meter.push(block)
    return meter.report(path, profile)
