"""Synthetic speech-like chunks for the audio tests: voiced syllables, fricative bursts, gaps.

Not speech, but it has what mastering cares about: a crest factor like speech, words with gaps,
and uneven padding at the edges as TTS engines leave it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

if TYPE_CHECKING:
    from pipelines.audio.delivery import StagedDelivery


def speech_like(seconds: float, rate: int, level_db: float, seed: int) -> np.ndarray:
    """`seconds` of syllables and bursts whose active RMS is `level_db` dBFS."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    out = np.zeros(n)
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.08, 0.25) * rate)
        seg_t = np.arange(min(length, n - pos)) / rate
        if rng.random() < 0.75:  # voiced: a few harmonics of a wandering f0
            f0 = rng.uniform(100, 190) * (1 + 0.1 * np.sin(2 * np.pi * 3 * seg_t))
            phase = 2 * np.pi * np.cumsum(f0) / rate
            seg = sum(np.sin(k * phase) / k for k in range(1, 6))
        else:  # fricative: noise burst
            seg = rng.standard_normal(len(seg_t)) * 0.5
        seg = seg * np.hanning(len(seg_t)) * rng.uniform(0.4, 1.0)
        out[pos : pos + len(seg)] = seg
        pos += len(seg) + int(rng.uniform(0.02, 0.15) * rate)
    active = out[np.abs(out) > 1e-4]
    rms = np.sqrt(np.mean(active**2)) if active.size else 1.0
    return out * (10 ** (level_db / 20) / rms)


def write_chunk(path: Path, seconds: float, level_db: float, seed: int, rate: int = 22_050) -> Path:
    """A FLAC chunk as an engine writes it: speech padded with 0-300 ms of silence each side."""
    rng = np.random.default_rng(seed + 1_000_003)
    speech = speech_like(seconds, rate, level_db, seed)
    pad_a, pad_b = (int(rng.uniform(0.0, 0.3) * rate) for _ in range(2))
    data = np.concatenate([np.zeros(pad_a), speech, np.zeros(pad_b)])
    data = np.clip(data, -1.0, 1.0)
    sf.write(str(path), data.astype(np.float32), rate, format="FLAC", subtype="PCM_16")
    return path


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg_levels(path: Path) -> dict[str, float]:
    """Loudness figures measured by ffmpeg's own filters (astats, volumedetect, ebur128).

    `noise_floor` is the lowest RMS over consecutive 0.5 s windows (astats reset per window).
    """
    import re
    import subprocess

    exe = ffmpeg_exe()
    proc = subprocess.run(
        [
            exe,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "astats=measure_perchannel=none,volumedetect,ebur128=framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    err = proc.stderr

    def grab(pattern: str) -> float:
        found = re.findall(pattern, err)
        assert found, f"{pattern!r} not in ffmpeg output"
        return float(found[-1])

    out = {
        "rms": grab(r"RMS level dB: (-?[\d.]+|-inf)"),
        "peak": grab(r"Peak level dB: (-?[\d.]+)"),
        "mean_volume": grab(r"mean_volume: (-?[\d.]+) dB"),
        "max_volume": grab(r"max_volume: (-?[\d.]+) dB"),
        "lufs": grab(r"I:\s+(-?[\d.]+) LUFS"),
    }
    windows = subprocess.run(
        [
            exe,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "asetnsamples=n=22050:p=0,astats=metadata=1:reset=1:measure_perchannel=none,"
            "ametadata=print:key=lavfi.astats.Overall.RMS_level:file=-",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    levels = [float(v) for v in re.findall(r"RMS_level=(-?[\d.]+|-inf)", windows)]
    out["noise_floor"] = min(levels)
    return out


def build_chapter(
    folder: Path,
    n_chunks: int,
    level_db: float,
    seed: int,
    seconds: float = 6.0,
    heading: str = "Chapter One",
) -> list:
    """Segments for a chapter: a heading chunk then `n_chunks` sentences, written as FLAC."""
    from pipelines.audio.assemble import Segment

    folder.mkdir(parents=True, exist_ok=True)
    segs = [Segment(write_chunk(folder / "h.flac", 2.0, level_db, seed), 1.2, heading, "narrator")]
    for i in range(n_chunks):
        path = write_chunk(folder / f"c{i}.flac", seconds, level_db, seed + i + 1)
        text = f"Sentence {i + 1} of {heading.lower()}, long enough to need a second caption line."
        segs.append(Segment(path, 0.5 if i % 4 else 0.9, text, "narrator"))
    return segs


def streamed_master(d: Path, name: str, seed: int, aac_rate: int) -> tuple[Path, StagedDelivery]:
    """A chapter assembled from synthetic chunks (22.05 kHz) and mastered into a staged file
    under `d`, its delivery streams encoded as it was mastered, the AAC at `aac_rate`:
    (the staged master, its `StagedDelivery`)."""
    from pipelines.audio import delivery
    from pipelines.audio.assemble import assemble_chapter
    from pipelines.audio.master import master_chapter
    from pipelines.audio.profiles import ACX

    a = assemble_chapter(build_chapter(d / f"{name}-c", 2, -20.0, seed=seed), d / f"{name}.raw.wav")
    staged = d / f".{name}.abc.master.wav"
    report = master_chapter(
        a.path,
        staged,
        input_rms_db=a.highpass_rms_db,
        sink=lambda: delivery.StreamEncoder(staged, ACX, background=False, aac_rate=aac_rate),
    )
    assert report.acx is not None and report.sink is not None
    return staged, report.sink.finish(report.acx)
