"""Encoder settings by measurement: LAME quality levels, AAC coders, peak checks, ADTS joins.

The input is mastered speech (24-bit mono 44.1 kHz WAVs), looped in numpy to about ten minutes
so timings are stable. Side by side in one run, with the settings interleaved (and rotated)
within each round, it measures:

1. MP3 192 kbit/s CBR mono with libmp3lame, LAME's default and `-compression_level Q` for Q in
   0, 2, 3, 5, 7, 9: wall and CPU time, speed (x real time), and quality of the decoded MP3
   against the source: lag found by cross-correlation (ffmpeg's gapless trimming should make it
   0), SNR, the noise-to-signal ratio within 100 Hz-8 kHz (median over 20 ms speech frames and
   overall), and the sample-peak overshoot (ACX wants peaks <= -3 dBFS on the delivered MP3).
2. AAC 64 kbit/s mono with ffmpeg's native encoder into an M4B (`-f ipod`), coders fast,
   twoloop and anmr (skipped where this ffmpeg lacks it), fast at 24 kHz (the studio's rate for
   voices of 24 kHz or less; decoded and resampled back to 44.1 kHz for the comparison), plus
   twoloop without PNS as a diagnostic: the same figures.
3. Peak/RMS of a finished MP3: decoding through a pipe into numpy, against ffmpeg's `astats`
   and `volumedetect` alone, and whether those agree with numpy to within 0.01 dB.
4. ADTS joins (correctness): two pieces encoded separately to ADTS, byte-concatenated and
   stream-copied into an M4B; decoded length against the frame counts, and where each piece's
   audio starts against frames_before * 1024 + encoder delay (1024).

Quality figures are deterministic, so they come from the first round; times are medians.

    .venv/bin/python bench/encoder_bench.py [--runs 3] [--minutes 10] [--wav PATH ...]

Without --wav it uses the sample project's mastered chapters, or failing those renders a few
sentences with the embedded Piper voice. It never touches the network.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf
from scipy.signal import correlate, resample_poly

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as main.py does; keeps the 2 cores fair

RATE = 44100
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SAMPLE_RENDERS = (
    Path.home() / ".local/share/audiobook-studio/projects/the-lamplighter-of-harrow-street/renders"
)
AAC_FRAME = 1024
AAC_DELAY = 1024  # ffmpeg's native AAC encoder primes with one frame of silence
FRAME = 882  # 20 ms at 44.1 kHz, the frame of the segmental noise measure
SPEECH_FLOOR_DB = -40.0  # frames quieter than this (pauses, room tone) are not speech

# Arguments as in pipelines/audio/encode.py, output format included.
MP3_ARGS = ["-map_metadata", "-1", "-c:a", "libmp3lame", "-b:a", "192k", "-ar", str(RATE)]
MP3_ARGS += ["-ac", "1", "-id3v2_version", "0", "-write_id3v1", "0"]
AAC_ARGS = ["-c:a", "aac", "-b:a", "64k", "-ar", str(RATE), "-ac", "1"]

Floats = np.ndarray

LEGEND = """\
columns: times are medians; x RT = audio s / wall s; vs = wall time against the baseline
  lag = decoded minus source index (0 = gapless trimming exact); drift = lag at end minus start
  len Δ = decoded minus source samples after the lag; gain = least-squares gain of decoded, dB
  SNR = whole-file waveform SNR as decoded, dB; SNRg and all NSR figures: after matching that gain
  segNSR = median over 20 ms speech frames of noise/signal in 100 Hz-8 kHz (lower is better)
  bandNSR = the same with all speech frames pooled; magNSR = segNSR on magnitudes (phase ignored)
  peak = decoded sample peak dBFS; over = decoded minus source sample peak, dB
  same as = settings producing byte-identical encoded audio"""


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    args: list[str]  # codec arguments, output format included
    suffix: str
    rate: int = RATE  # the encoded stream's sample rate


@dataclass(frozen=True, slots=True)
class Quality:
    lag_start: int  # decoded index minus source index, near the start
    lag_end: int  # the same near the end: a difference means drift
    len_delta: int  # decoded samples minus source samples (after removing the lag)
    gain_db: float  # least-squares gain of decoded against source
    snr_db: float  # as decoded
    snr_matched_db: float  # after the gain match; the NSR figures are too
    seg_nsr_db: float  # median over speech frames, 100 Hz-8 kHz
    band_nsr_db: float  # all speech frames together, 100 Hz-8 kHz
    mag_nsr_db: float  # as seg_nsr_db, magnitudes only
    peak_dbfs: float
    overshoot_db: float  # decoded sample peak minus the source's


@dataclass(slots=True)
class Timings:
    wall: list[float]
    cpu: list[float]


def db(ratio: float) -> float:
    return 10.0 * float(np.log10(max(ratio, 1e-30)))


def amp_db(x: float) -> float:
    return 20.0 * float(np.log10(max(x, 1e-30)))


def timed(cmd: Sequence[str], **kwargs: object) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run a command; (wall s, CPU s of the child, the result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, check=False, **kwargs)  # type: ignore[call-overload]
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def ffmpeg(*args: str) -> list[str]:
    return [FFMPEG, "-hide_banner", "-nostats", "-y", *args]


def decode(path: Path, input_format: str | None = None) -> Floats:
    """Decode to mono float32 through a pipe (ffmpeg's own trimming applied)."""
    fmt = ["-f", input_format] if input_format else []
    cmd = ffmpeg("-loglevel", "error", *fmt, "-i", str(path), "-f", "f32le", "-ac", "1", "-")
    proc = subprocess.run(cmd, capture_output=True, check=True)
    return np.frombuffer(proc.stdout, dtype=np.float32)


# --- input -------------------------------------------------------------------------------


def render_with_piper(out: Path) -> list[Path]:
    """A few sentences in the embedded Piper voice, levelled roughly like a master."""
    from pipelines.engines.pool import SynthPool, SynthTask

    sentences = [
        "The clock in the hall had stopped at a quarter past four, and nobody had wound it.",
        "Outside, the rain came sideways off the moor and rattled the loose panes.",
        "Eliza set the kettle on the range and listened for the cart that never came.",
        "She lit the lamp, trimmed the wick, and carried it to the window.",
    ]
    with SynthPool("piper", 1) as pool:
        paths = [out / f"piper-{i}.flac" for i in range(len(sentences))]
        futures = [
            pool.submit(SynthTask(t, "joe-us", {}, p))
            for t, p in zip(sentences, paths, strict=True)
        ]
        for f in futures:
            f.result()
    parts = [read_mono(p) for p in paths]
    pause = np.zeros(RATE // 2, dtype=np.float32)
    audio = np.concatenate([x for p in parts for x in (p, pause)])
    # RMS -20 dBFS unless that would push the sample peak past -3.5 dBFS (no limiter here).
    gain = min(0.1 / float(np.sqrt(np.mean(audio**2))), 10 ** (-3.5 / 20) / np.abs(audio).max())
    wav = out / "piper-speech.wav"
    sf.write(str(wav), audio * gain, RATE, subtype="PCM_24")
    return [wav]


def read_mono(path: Path) -> Floats:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1).astype(np.float32)
    if rate != RATE:
        g = np.gcd(rate, RATE)
        mono = resample_poly(mono, RATE // g, rate // g).astype(np.float32)
    return mono


def input_wavs(given: list[Path], tmp: Path) -> list[Path]:
    if given:
        return given
    found = sorted(SAMPLE_RENDERS.glob("chapter-*.wav"))
    return found or render_with_piper(tmp)


def looped_source(wavs: list[Path], minutes: float, out: Path) -> Floats:
    """Concatenate and loop the inputs to `minutes`, write a 24-bit WAV, return what it holds."""
    one = np.concatenate([read_mono(w) for w in wavs])
    want = int(minutes * 60 * RATE)
    audio = np.tile(one, -(-want // len(one)))[:want]
    sf.write(str(out), audio, RATE, subtype="PCM_24")
    return sf.read(str(out), dtype="float32")[0]  # the 24-bit samples the encoder reads


# --- quality -----------------------------------------------------------------------------


def loudest_window(x: Floats, start: int, stop: int, length: int) -> int:
    """Start of the loudest `length` window in x[start:stop] (a clear correlation target)."""
    starts = range(max(start, 0), max(min(stop, len(x)) - length, start + 1), length // 2)
    return max(starts, key=lambda s: float(np.dot(x[s : s + length], x[s : s + length])))


def find_lag(ref: Floats, dec: Floats, at: int, predicted: int, search: int = 8192) -> int:
    """Decoded index minus source index of the 0.5 s of `ref` at `at`, near `predicted`."""
    length = RATE // 2
    target = ref[at : at + length].astype(np.float64)
    lo = max(at + predicted - search, 0)
    hay = dec[lo : at + predicted + search + length].astype(np.float64)
    corr = correlate(hay, target, mode="valid", method="fft")
    return lo + int(np.argmax(corr)) - at


def band_noise(ref: Floats, dec: Floats) -> tuple[float, float, float]:
    """Noise-to-signal in dB, 100 Hz-8 kHz, over 20 ms speech frames: (median per frame,
    all frames pooled, median per frame of magnitudes only).

    The magnitude-only figure ignores phase, so noise substitution (AAC's PNS), which keeps
    the spectrum but not the waveform, is not counted as noise there."""
    hop = FRAME // 2
    win = np.hanning(FRAME)
    freqs = np.fft.rfftfreq(FRAME, 1 / RATE)
    band = (freqs >= 100) & (freqs <= 8000)
    n_frames = (len(ref) - FRAME) // hop + 1
    ratios: list[Floats] = []
    mag_ratios: list[Floats] = []
    sig_total = noise_total = 0.0
    for first in range(0, n_frames, 20000):  # chunks keep the FFT arrays small
        idx = (np.arange(first, min(first + 20000, n_frames)) * hop)[:, None] + np.arange(FRAME)
        r, d = ref[idx].astype(np.float64), dec[idx].astype(np.float64)
        speech = 10 * np.log10(np.mean(r**2, axis=1) + 1e-30) >= SPEECH_FLOOR_DB
        spec_r = np.fft.rfft(r[speech] * win, axis=1)[:, band]
        spec_d = np.fft.rfft(d[speech] * win, axis=1)[:, band]
        sig = np.sum(np.abs(spec_r) ** 2, axis=1)
        noise = np.sum(np.abs(spec_d - spec_r) ** 2, axis=1)
        ratios.append(10 * np.log10((noise + 1e-30) / (sig + 1e-30)))
        mag = np.sum((np.abs(spec_d) - np.abs(spec_r)) ** 2, axis=1)
        mag_ratios.append(10 * np.log10((mag + 1e-30) / (sig + 1e-30)))
        sig_total += float(sig.sum())
        noise_total += float(noise.sum())
    seg = float(np.median(np.concatenate(ratios)))
    return seg, db(noise_total / sig_total), float(np.median(np.concatenate(mag_ratios)))


def quality(ref: Floats, dec: Floats) -> Quality:
    n = len(ref)
    lag0 = find_lag(ref, dec, loudest_window(ref, RATE, 20 * RATE, RATE // 2), 0)
    lag1 = find_lag(ref, dec, loudest_window(ref, n - 30 * RATE, n - RATE, RATE // 2), lag0)
    aligned = dec[max(lag0, 0) :]
    src = ref[max(-lag0, 0) :]
    m = min(len(aligned), len(src))
    a, s = aligned[:m].astype(np.float64), src[:m].astype(np.float64)
    # LAME scales its input at some bitrates (0.97 at 192k, none at 320k, as measured here):
    # a gain error alone would swamp the coding noise, so the noise figures are taken after a
    # least-squares gain match and the gain is reported on its own.
    gain = float(np.dot(a, s)) / float(np.dot(s, s))
    matched = a / gain
    seg, band, mag = band_noise(s.astype(np.float32), matched.astype(np.float32))
    src_peak = float(np.abs(ref).max())
    dec_peak = float(np.abs(dec).max())
    return Quality(
        lag_start=lag0,
        lag_end=lag1,
        len_delta=len(dec) - lag0 - n,
        gain_db=amp_db(gain),
        snr_db=db(float(np.dot(s, s)) / float(np.dot(a - s, a - s))),
        snr_matched_db=db(float(np.dot(s, s)) / float(np.dot(matched - s, matched - s))),
        seg_nsr_db=seg,
        band_nsr_db=band,
        mag_nsr_db=mag,
        peak_dbfs=amp_db(dec_peak),
        overshoot_db=amp_db(dec_peak) - amp_db(src_peak),
    )


# --- 1 and 2: encoders -------------------------------------------------------------------


def mp3_settings() -> list[Setting]:
    out = [Setting("default", [*MP3_ARGS, "-f", "mp3"], ".mp3")]
    for q in (0, 2, 3, 5, 7, 9):
        out.append(Setting(f"q{q}", [*MP3_ARGS, "-compression_level", str(q), "-f", "mp3"], ".mp3"))
    return out


def aac_settings(probe_wav: Path, tmp: Path) -> tuple[list[Setting], list[str]]:
    """The coders this ffmpeg accepts (a 1 s trial encode each), and notes on the others."""
    ok: list[Setting] = []
    notes: list[str] = []
    # twoloop without PNS is a diagnostic: does noise substitution explain its waveform SNR?
    # and "fast 24k": the rate the studio uses for voices of 24 kHz or less (Piper's, here).
    for name, coder, extra, rate in (
        ("fast", "fast", [], RATE),
        ("fast 24k", "fast", [], 24_000),
        ("twoloop", "twoloop", [], RATE),
        ("twoloop nopns", "twoloop", ["-aac_pns", "0"], RATE),
        ("anmr", "anmr", [], RATE),
    ):
        args = [*AAC_ARGS, "-aac_coder", coder, *extra, "-ar", str(rate)]
        args += ["-movflags", "+faststart", "-f", "ipod"]
        probe = ffmpeg("-loglevel", "error", "-t", "1", "-i", str(probe_wav), *args)
        proc = subprocess.run([*probe, str(tmp / "probe.m4b")], capture_output=True, check=False)
        if proc.returncode == 0:
            ok.append(Setting(f"aac {name}", args, ".m4b", rate))
        else:
            last = proc.stderr.decode(errors="replace").strip().splitlines()[:2]
            notes.append(f"aac {name}: skipped, ffmpeg refuses it ({' / '.join(last)})")
    return ok, notes


def audio_digest(path: Path) -> str:
    """Hash of the encoded audio packets, to spot settings that produce identical streams."""
    cmd = ffmpeg("-loglevel", "error", "-i", str(path), "-map", "0:a", "-c", "copy")
    proc = subprocess.run([*cmd, "-f", "md5", "-"], capture_output=True, check=True)
    return hashlib.sha1(proc.stdout).hexdigest()[:8]


def bench_encoders(
    settings: list[Setting], wav: Path, ref: Floats, runs: int, tmp: Path
) -> tuple[dict[str, Timings], dict[str, Quality], dict[str, str]]:
    times = {s.name: Timings([], []) for s in settings}
    qualities: dict[str, Quality] = {}
    digests: dict[str, str] = {}
    for r in range(runs):
        k = r % len(settings)
        for s in settings[k:] + settings[:k]:  # rotate so no setting always runs first
            out = tmp / f"{s.name.replace(' ', '-')}{s.suffix}"
            cmd = ffmpeg("-loglevel", "error", "-i", str(wav), *s.args, str(out))
            wall, cpu, proc = timed(cmd)
            if proc.returncode != 0:
                raise RuntimeError(f"{s.name}: {proc.stderr.decode(errors='replace')}")
            times[s.name].wall.append(wall)
            times[s.name].cpu.append(cpu)
            if r == 0:  # the output is deterministic: measure its quality once
                heard = decode(out)
                if s.rate != RATE:  # compared with the source at its rate
                    heard = resample_poly(heard, RATE, s.rate).astype(np.float32)
                qualities[s.name] = quality(ref, heard)
                digests[s.name] = audio_digest(out)
    return times, qualities, digests


def print_encoders(
    title: str,
    settings: list[Setting],
    times: dict[str, Timings],
    qualities: dict[str, Quality],
    digests: dict[str, str],
    duration: float,
    baseline: str,
) -> None:
    print(f"\n{title}")
    head = (
        f"{'setting':<18}{'wall s':>7}{'cpu s':>7}{'x RT':>7}{'vs ' + baseline:>13}"
        f"{'lag':>6}{'drift':>6}{'len Δ':>7}{'gain':>7}{'SNR':>7}{'SNRg':>7}"
        f"{'segNSR':>8}{'bandNSR':>8}{'magNSR':>8}"
        f"{'peak':>7}{'over':>7}  same as"
    )
    print(head)
    print("-" * len(head))
    base_wall = statistics.median(times[baseline].wall)
    for s in settings:
        wall = statistics.median(times[s.name].wall)
        cpu = statistics.median(times[s.name].cpu)
        q = qualities[s.name]
        twins = [
            o.name for o in settings if o.name != s.name and digests[o.name] == digests[s.name]
        ]
        print(
            f"{s.name:<18}{wall:7.2f}{cpu:7.2f}{duration / wall:7.0f}{wall / base_wall:12.2f}x"
            f"{q.lag_start:6d}{q.lag_end - q.lag_start:6d}{q.len_delta:7d}"
            f"{q.gain_db:+7.2f}{q.snr_db:7.2f}{q.snr_matched_db:7.2f}"
            f"{q.seg_nsr_db:8.2f}{q.band_nsr_db:8.2f}{q.mag_nsr_db:8.2f}{q.peak_dbfs:7.2f}{q.overshoot_db:+7.2f}"
            f"  {','.join(twins) or '-'}"
        )


# --- 3: peak checks ----------------------------------------------------------------------


def peak_numpy(mp3: Path) -> tuple[float, float]:
    x = decode(mp3).astype(np.float64)
    return amp_db(float(np.abs(x).max())), db(float(np.mean(x**2)))


def parse_astats(err: str) -> tuple[float, float]:
    peak = re.findall(r"Peak level dB:\s*(-?[\d.]+|-inf)", err)
    rms = re.findall(r"RMS level dB:\s*(-?[\d.]+|-inf)", err)
    return float(peak[-1]), float(rms[-1])


def parse_volumedetect(err: str) -> tuple[float, float]:
    peak = re.findall(r"max_volume:\s*(-?[\d.]+) dB", err)
    mean = re.findall(r"mean_volume:\s*(-?[\d.]+) dB", err)
    return float(peak[-1]), float(mean[-1])


def ffmpeg_stats(
    mp3: Path, af: str, parse: Callable[[str], tuple[float, float]]
) -> tuple[float, float]:
    cmd = ffmpeg("-loglevel", "info", "-i", str(mp3), "-af", af, "-f", "null", "-")
    proc = subprocess.run(cmd, capture_output=True, check=True)
    return parse(proc.stderr.decode(errors="replace"))


def bench_peaks(mp3: Path, runs: int) -> None:
    astats = "astats=measure_perchannel=none:measure_overall=Peak_level+RMS_level"
    methods: list[tuple[str, Callable[[], tuple[float, float]]]] = [
        ("(a) pipe+numpy", lambda: peak_numpy(mp3)),
        ("(b) astats", lambda: ffmpeg_stats(mp3, astats, parse_astats)),
        ("(c) volumedetect", lambda: ffmpeg_stats(mp3, "volumedetect", parse_volumedetect)),
    ]
    walls: dict[str, list[float]] = {m: [] for m, _ in methods}
    cpus: dict[str, list[float]] = {m: [] for m, _ in methods}
    values: dict[str, tuple[float, float]] = {}
    for r in range(runs):
        k = r % len(methods)
        for name, fn in methods[k:] + methods[:k]:
            child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            own0 = time.process_time()  # numpy's work in this process counts too
            started = time.perf_counter()
            values[name] = fn()
            walls[name].append(time.perf_counter() - started)
            child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = child1.ru_utime - child0.ru_utime + child1.ru_stime - child0.ru_stime
            cpus[name].append(cpu + time.process_time() - own0)
    ref_peak, ref_rms = values["(a) pipe+numpy"]
    print(f"\n3. Peak/RMS of a finished MP3 ({mp3.name}), medians of {runs}")
    head = f"{'method':<18}{'wall s':>7}{'cpu s':>7}{'peak dB':>11}{'RMS dB':>11}"
    head += f"{'Δpeak':>9}{'ΔRMS':>9}  ≤0.01 dB"
    print(head)
    print("-" * len(head))
    for name, _ in methods:
        peak, rms = values[name]
        dp, dr = peak - ref_peak, rms - ref_rms
        agree = "yes" if abs(dp) <= 0.01 and abs(dr) <= 0.01 else "NO"
        print(
            f"{name:<18}{statistics.median(walls[name]):7.2f}{statistics.median(cpus[name]):7.2f}"
            f"{peak:11.4f}{rms:11.4f}{dp:+9.4f}{dr:+9.4f}  {agree if name[1] != 'a' else '-'}"
        )


# --- 4: ADTS joins -----------------------------------------------------------------------


def adts_frames(data: bytes) -> int:
    """AAC frames in an ADTS stream (raw data blocks, each 1024 samples)."""
    i = frames = 0
    while i + 7 <= len(data):
        if data[i] != 0xFF or data[i + 1] & 0xF0 != 0xF0:
            raise ValueError(f"lost ADTS sync at byte {i}")
        length = ((data[i + 3] & 0x03) << 11) | (data[i + 4] << 3) | (data[i + 5] >> 5)
        frames += (data[i + 6] & 0x03) + 1
        i += length
    return frames


def encode_adts(piece: Floats, name: str, tmp: Path) -> Path:
    wav, out = tmp / f"{name}.wav", tmp / f"{name}.aac"
    sf.write(str(wav), piece, RATE, subtype="PCM_24")
    args = [*AAC_ARGS, "-aac_coder", "fast", "-f", "adts", str(out)]
    subprocess.run(ffmpeg("-loglevel", "error", "-i", str(wav), *args), check=True)
    return out


def piece_lags(piece: Floats, dec: Floats, predicted: int) -> tuple[int, int]:
    """Lag of a piece's loudest 0.5 s near its start and near its end, in the decoded stream."""
    n = len(piece)
    head = find_lag(piece, dec, loudest_window(piece, 0, 10 * RATE, RATE // 2), predicted)
    tail = find_lag(piece, dec, loudest_window(piece, n - 10 * RATE, n, RATE // 2), predicted)
    return head, tail


def check_adts(ref: Floats, tmp: Path) -> None:
    # Odd lengths, so neither piece ends on a frame boundary; different speech in each.
    pieces = [ref[: 30 * RATE + 333], ref[len(ref) // 2 : len(ref) // 2 + 30 * RATE + 777]]
    streams = [encode_adts(p, f"piece{i}", tmp) for i, p in enumerate(pieces)]
    frames = [adts_frames(s.read_bytes()) for s in streams]
    joined = tmp / "joined.aac"
    joined.write_bytes(b"".join(s.read_bytes() for s in streams))
    m4b = tmp / "joined.m4b"
    mux = ffmpeg("-loglevel", "error", "-f", "aac", "-i", str(joined), "-c:a", "copy")
    subprocess.run([*mux, "-f", "ipod", str(m4b)], check=True)

    print("\n4. ADTS stream copy (aac fast 64k), offsets in samples; predicted start of a piece")
    print(f"   = frames before it * {AAC_FRAME} + delay {AAC_DELAY}")
    head = (
        f"{'decoded':<22}{'piece':>6}{'src len':>9}{'frames':>7}{'samples':>10}{'frames*1024':>12}"
        f"{'Δ':>6}{'start':>9}{'predicted':>10}{'Δ':>5}{'tail Δ':>7}"
    )
    print(head)
    print("-" * len(head))
    rows: list[tuple[str, Floats, list[int]]] = [
        (f"{s.name} alone", decode(s, "aac"), [i]) for i, s in enumerate(streams)
    ]
    rows.append(("joined.aac (ADTS)", decode(joined, "aac"), [0, 1]))
    rows.append(("joined.m4b (copy)", decode(m4b), [0, 1]))
    for label, dec, members in rows:
        total_frames = sum(frames[i] for i in members)
        before = 0
        for i in members:
            predicted = before * AAC_FRAME + AAC_DELAY
            start, tail = piece_lags(pieces[i], dec, predicted)
            samples = f"{len(dec):10d}{total_frames * AAC_FRAME:12d}"
            samples += f"{len(dec) - total_frames * AAC_FRAME:6d}"
            first = i == members[0]
            print(
                f"{label if first else '':<22}{i:>6}{len(pieces[i]):9d}{frames[i]:7d}"
                f"{samples if first else ' ' * 28}{start:9d}{predicted:10d}{start - predicted:5d}"
                f"{tail - start:7d}"
            )
            before += frames[i]
    for i, p in enumerate(pieces):
        expected = -(-(len(p) + AAC_DELAY) // AAC_FRAME)
        formula = f"ceil((len + {AAC_DELAY}) / {AAC_FRAME})"
        print(f"   piece{i}: {formula} = {expected}, encoded {frames[i]}")


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--wav", type=Path, action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="encoder-bench-") as name:
        tmp = Path(name)
        wavs = input_wavs(args.wav, tmp)
        wav = tmp / "source.wav"
        ref = looped_source(wavs, args.minutes, wav)
        duration = len(ref) / RATE
        version = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout
        print(f"ffmpeg: {FFMPEG} ({version.split()[2]})")
        print(f"input: {', '.join(w.name for w in wavs)} looped to {duration:.0f} s")
        print(
            f"source: sample peak {amp_db(float(np.abs(ref).max())):.2f} dBFS, "
            f"RMS {db(float(np.mean(ref.astype(np.float64) ** 2))):.2f} dBFS; runs {args.runs}"
        )
        print(LEGEND)

        mp3 = mp3_settings()
        times, qual, digests = bench_encoders(mp3, wav, ref, args.runs, tmp)
        print_encoders(
            "1. MP3 192k CBR mono (libmp3lame)", mp3, times, qual, digests, duration, "default"
        )

        aac, notes = aac_settings(wav, tmp)
        times, qual, digests = bench_encoders(aac, wav, ref, args.runs, tmp)
        print_encoders(
            "2. AAC 64k mono (native), M4B", aac, times, qual, digests, duration, "aac fast"
        )
        for note in notes:
            print(f"   {note}")

        bench_peaks(tmp / "default.mp3", args.runs)
        check_adts(ref, tmp)


if __name__ == "__main__":
    main()
