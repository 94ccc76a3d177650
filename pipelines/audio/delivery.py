"""A mastered chapter's delivery streams, encoded while it is mastered.

Mastering hands each block it writes to two ffmpeg, one for each retail stream, side by side: the
CBR MP3 (untagged: the export tags its copy) and the AAC the M4B is built from (raw ADTS, so a
book's chapters join by copying their frames, with chapter marks at exact frame counts).

Measured as encoded (the encoder moves levels, not only peaks: LAME at 192 kbit/s plays these
masters about 0.26 dB quieter, evenly across the spectrum): the MP3's ffmpeg decodes its
packets again as it writes them (a loopback decoder) for its peak and RMS, its noise floor is the
master's moved by that measured change (within 0.03 dB of a full measurement on real chapters),
head and tail room tone the master's (10 ms frames: a fraction of a dB moves no edge).

A book's first chapter gets a third: the retail sample's MP3 (`audio.sample`), cut and faded from
the same blocks, so that the export only tags it (`chapter-4.sample.mp3`; only when that chapter
holds the whole sample).

The streams sit beside the master (`chapter-4.wav` -> `chapter-4.mp3`, `chapter-4.aac`) with a
sidecar (`chapter-4.delivery.json`) naming the master's size and modification time and the
encoder settings; the export uses them only while all of those still match, and encodes from
the WAV otherwise (a master from another machine, a changed profile).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from pipelines.audio.acx import AcxReport, judge
from pipelines.audio.dsp import Audio, db, power_db
from pipelines.audio.ffmpeg_io import ffmpeg_exe, last_error
from pipelines.audio.profiles import DeliveryProfile
from pipelines.audio.sample_fades import FADE_IN_S, FADE_OUT_S, Fades
from pipelines.core.errors import StudioError

VERSION = 2  # 2: the AAC at `aac_rate`
AAC_FRAME = 1024  # samples per AAC frame
# Encoders started while synthesis still has work run this much nicer: synthesis first.
BACKGROUND_NICE = 10
# Mastered blocks (about 1.5 s of audio each, 265 kB) queued for each encoder: enough that the
# mastering runs ahead and an encoder never waits on it while the other one is behind (4 left
# 0.1 s more of the cores idle in one `make` of a 12-minute chapter; 64 gained nothing more).
FEED_BLOCKS = 24


def mp3_args(profile: DeliveryProfile, kbps: int | None = None) -> list[str]:
    """ffmpeg output options of the retail MP3: CBR mono, no tags (mutagen writes them)."""
    args = ["-c:a", "libmp3lame", "-b:a", f"{kbps or profile.mp3_bitrate_kbps}k"]
    if profile.mp3_quality is not None:
        args += ["-compression_level", str(profile.mp3_quality)]  # LAME's -q
    args += ["-ar", str(profile.sample_rate), "-ac", str(profile.channels)]
    return [*args, "-map_metadata", "-1", "-id3v2_version", "0", "-write_id3v1", "0"]


def aac_rate(profile: DeliveryProfile, source_rate: int) -> int:
    """The AAC's rate for a chapter whose widest voice speaks at `source_rate` (0: unknown)."""
    return (
        profile.aac_speech_rate
        if 0 < source_rate <= profile.aac_speech_rate
        else profile.sample_rate
    )


def aac_args(
    profile: DeliveryProfile, kbps: int | None = None, rate: int | None = None
) -> list[str]:
    """ffmpeg output options of the M4B's AAC stream (at the master's rate unless `rate`)."""
    args = ["-c:a", "aac", "-aac_coder", profile.aac_coder]
    args += ["-b:a", f"{kbps or profile.aac_bitrate_kbps}k"]
    return [*args, "-ar", str(rate or profile.sample_rate), "-ac", str(profile.channels)]


def settings_key(profile: DeliveryProfile) -> dict[str, Any]:
    """What the encoded streams depend on besides the audio."""
    return {
        "version": VERSION,
        "rate": profile.sample_rate,
        "channels": profile.channels,
        "mp3": mp3_args(profile),
        "aac": aac_args(profile),
        "aac_speech_rate": profile.aac_speech_rate,
    }


def sample_path(wav: Path) -> Path:
    """Where the retail sample encoded with the master `wav` sits: `chapter-4.sample.mp3`."""
    return wav.with_suffix(".sample.mp3")


def sidecar_path(wav: Path) -> Path:
    return wav.with_name(f"{wav.stem}.delivery.json")


def adts_frames(path: Path) -> int:
    """AAC frames in a raw ADTS file, counted from the frame headers."""
    data = path.read_bytes()
    count, pos = 0, 0
    while pos + 7 <= len(data):
        if data[pos] != 0xFF or data[pos + 1] & 0xF0 != 0xF0:
            raise StudioError(path, "the AAC stream is damaged", "render the chapter again")
        length = ((data[pos + 3] & 0x03) << 11) | (data[pos + 4] << 3) | (data[pos + 5] >> 5)
        if length < 7:
            raise StudioError(path, "the AAC stream is damaged", "render the chapter again")
        # One header may carry several raw data blocks (never from ffmpeg's encoder).
        count += (data[pos + 6] & 0x03) + 1
        pos += length
    return count


@dataclass(frozen=True, slots=True)
class Levels:
    peak_db: float
    rms_db: float
    noise_floor_db: float


class _DecodedMeter:
    """Peak and energy of the MP3 as ffmpeg decodes it back (its loopback decoder, fed the
    encoder's own packets), read from ffmpeg's stdout on a thread of its own."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.total = 0.0
        self.count = 0
        self.peak = 0.0
        self._stream = stream
        self._thread = threading.Thread(target=self._read, name="mp3-meter", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        leftover = b""
        while data := self._stream.read(1 << 18):
            data = leftover + data
            whole = len(data) - len(data) % 4
            leftover = data[whole:]
            x = np.frombuffer(data[:whole], dtype="<f4").astype(np.float64)
            if len(x):
                self.total += float(np.dot(x, x))
                self.count += len(x)
                self.peak = max(self.peak, float(np.max(np.abs(x))))

    def close(self) -> None:
        """Wait for the decoded stream's end (ffmpeg has exited or been killed)."""
        self._thread.join()
        self._stream.close()

    def levels(self, master: AcxReport) -> Levels:
        """The MP3's peak and RMS; its noise floor is the master's moved by the level change
        measured between the two (the encoder's change is one gain across the spectrum)."""
        self.close()
        rms = power_db(self.total / self.count) if self.count else db(0.0)
        return Levels(db(self.peak), rms, master.noise_floor_db + (rms - master.rms_db))


@dataclass(frozen=True, slots=True)
class SampleStream:
    """The retail sample encoded with its chapter: frames [start, stop) of the master, faded
    in and out by `fades` seconds."""

    path: Path
    start: int
    stop: int
    fades: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Delivery:
    """A master's current delivery streams."""

    wav: Path
    mp3_stream: Path
    aac: Path
    aac_frames: int
    aac_rate: int
    mp3: Levels
    master: AcxReport  # the master's measurement
    sample: SampleStream | None = None

    def mp3_report(self, path: Path, profile: DeliveryProfile) -> AcxReport:
        """The ACX report of the MP3: its decoded levels, the master's room tone edges."""
        measured = replace(
            self.master,
            path=str(path),
            peak_db=self.mp3.peak_db,
            rms_db=self.mp3.rms_db,
            noise_floor_db=self.mp3.noise_floor_db,
        )
        return judge(measured, profile)


def _stat(wav: Path) -> dict[str, int]:
    st = wav.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def current(wav: Path, profile: DeliveryProfile) -> Delivery | None:
    """The delivery streams of `wav` for `profile`, if they were encoded from this very file
    with these settings; None otherwise (the export then encodes)."""
    wav = Path(wav)
    try:
        meta = json.loads(sidecar_path(wav).read_text(encoding="utf-8"))
        if meta.get("wav") != _stat(wav) or meta.get("settings") != json.loads(
            json.dumps(settings_key(profile))
        ):
            return None
        mp3, aac = wav.with_name(meta["mp3"]), wav.with_name(meta["aac"])
        if not (mp3.is_file() and aac.is_file()):
            return None
        master = AcxReport(**meta["master"])
        levels = Levels(**meta["mp3_levels"])
        sample = None
        if (cut := meta.get("sample")) is not None and wav.with_name(cut["file"]).is_file():
            fades = (float(cut["fade_in_s"]), float(cut["fade_out_s"]))
            sample = SampleStream(wav.with_name(cut["file"]), cut["start"], cut["stop"], fades)
        frames, rate = int(meta["aac_frames"]), int(meta["aac_rate"])
        return Delivery(wav, mp3, aac, frames, rate, levels, master, sample)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pcm(block: Audio) -> memoryview:
    """The bytes ffmpeg reads of a block, without a copy when it is float32 already: mastering
    hands on fresh blocks and writes to none of them afterwards."""
    return np.ascontiguousarray(block, dtype="<f4").data.cast("B")


class _Ffmpeg:
    """One ffmpeg reading mastered f32 PCM on its stdin; its errors kept for the message."""

    def __init__(self, profile: DeliveryProfile, outputs: list[str], *, stdout: bool) -> None:
        # Lives as long as the process; closed by close().
        self.errors: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostats", "-y"]
        cmd += ["-f", "f32le", "-ar", str(profile.sample_rate), "-ac", "1", "-i", "pipe:0"]
        self.proc = subprocess.Popen(
            [*cmd, *outputs],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
            stderr=self.errors,
        )
        self.broken = False
        self._ended = False
        # Blocks reach ffmpeg from a thread of its own: written inline, the mastering thread
        # would wait on each encoder's pipe in turn and the two would take turns, not run
        # side by side.
        self._blocks: queue.Queue[memoryview | None] = queue.Queue(maxsize=FEED_BLOCKS)
        self._feeder = threading.Thread(target=self._feed, name="encoder-feed", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        assert self.proc.stdin is not None
        while (data := self._blocks.get()) is not None:
            if self.broken:
                continue  # drain, so push() never blocks on a dead encoder
            try:
                self.proc.stdin.write(data)
            except (BrokenPipeError, ValueError):
                self.broken = True  # ffmpeg stopped; finish() reports its error
        with contextlib.suppress(BrokenPipeError, ValueError):
            self.proc.stdin.close()

    def push(self, data: memoryview) -> None:
        if not self.broken:
            self._blocks.put(data)

    def end(self) -> None:
        """No more blocks: the encoder finishes what it has (`wait` waits for it)."""
        if not self._ended:
            self._ended = True
            self._blocks.put(None)

    def wait(self) -> int:
        if self._feeder.is_alive():
            self.end()
            self._feeder.join()
        return self.proc.wait()

    def failure(self, rc: int) -> str | None:
        return last_error(self.errors, rc) if rc != 0 or self.broken else None

    def kill(self) -> None:
        self.broken = True
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(OSError, ValueError):
            self.wait()

    def close(self) -> None:
        self.errors.close()


class StreamEncoder:
    """Two ffmpeg encoding the mastered PCM they are fed: the MP3 (decoded again as it is
    written, for its levels) and the ADTS stream; with `sample` (a range of frames, from
    `audio.sample.chapter_cut`), a third encoding the retail sample.

    Two processes, not one with two outputs: ffmpeg runs one input's outputs nearly in step, so
    the encoders took turns on one core (4.2 s for a 12-minute chapter) where apart they take
    the two cores (about 2.5 s each). Outputs go to hidden names beside `staged_wav` (the
    master being written); `finish` measures the MP3 and returns a `StagedDelivery` to install
    with the master, `abort` removes them.
    """

    def __init__(
        self,
        staged_wav: Path,
        profile: DeliveryProfile,
        *,
        background: bool,
        sample: tuple[int, int] | None = None,
        aac_rate: int | None = None,
    ) -> None:
        self.profile = profile
        self.aac_rate = aac_rate or profile.sample_rate
        base = staged_wav.with_suffix("")  # .chapter-4.<hex>.master
        self.mp3 = base.with_name(f"{base.name}.delivery.mp3")
        self.aac = base.with_name(f"{base.name}.delivery.aac")
        self.sample = base.with_name(f"{base.name}.delivery.sample.mp3")
        self._cut = sample
        self._fades = Fades(sample[1] - sample[0], profile.sample_rate) if sample else None
        self._pos = 0  # frames pushed so far
        mp3 = ["-map", "0:a", *mp3_args(profile), "-f", "mp3", str(self.mp3)]
        # The MP3 decoded again as it is encoded, for its measurement: no reading the file back.
        # In blocks of 32,768 samples, not the decoder's 1,152: ffmpeg's threads hand each frame
        # on, and fewer frames is a third fewer of those hand-offs (unpadded: the same samples).
        heard = "[dec:0]asetnsamples=n=32768:p=0[heard]"
        mp3 += ["-dec", "0:0", "-filter_complex", heard, "-map", "[heard]"]
        mp3 += ["-f", "f32le", "-ac", "1", "pipe:1"]
        aac = ["-map", "0:a", *aac_args(profile, rate=self.aac_rate), "-f", "adts", str(self.aac)]
        self._encoders: list[_Ffmpeg] = []
        try:
            self._encoders.append(_Ffmpeg(profile, mp3, stdout=True))
            self._encoders.append(_Ffmpeg(profile, aac, stdout=False))
            if sample is not None:
                cut = ["-map", "0:a", *mp3_args(profile), "-f", "mp3", str(self.sample)]
                self._sampler: _Ffmpeg | None = _Ffmpeg(profile, cut, stdout=False)
                self._encoders.append(self._sampler)
            else:
                self._sampler = None
        except BaseException:
            self.abort()
            raise
        stdout = self._encoders[0].proc.stdout
        assert stdout is not None
        self._meter = _DecodedMeter(stdout)
        if background:
            for e in self._encoders:
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, e.proc.pid, BACKGROUND_NICE)

    def push(self, block: Audio) -> None:
        if not len(block):
            return
        data = _pcm(block)
        for e in self._encoders:
            if e is not self._sampler:
                e.push(data)
        pos, self._pos = self._pos, self._pos + len(block)
        if self._sampler is not None and self._cut is not None and self._fades is not None:
            a, b = max(self._cut[0], pos), min(self._cut[1], self._pos)
            if a < b:
                part = self._fades.apply(block[a - pos : b - pos], a - self._cut[0])
                self._sampler.push(_pcm(part))
            if self._pos >= self._cut[1]:
                self._sampler.end()  # the sample's last frame is in: it finishes meanwhile

    def finish(self, master: AcxReport) -> StagedDelivery:
        """Wait for the encoders, count the AAC frames and measure the MP3."""
        try:
            for e in self._encoders:
                failure = e.failure(e.wait())
                if failure is not None:
                    raise StudioError(
                        self.mp3,
                        f"ffmpeg could not encode the chapter ({failure})",
                        "check free disk space and render it again",
                    )
            sample = None
            if self._cut is not None and self._pos >= self._cut[1]:
                sample = SampleStream(self.sample, *self._cut, (FADE_IN_S, FADE_OUT_S))
            else:
                self.sample.unlink(missing_ok=True)  # the chapter ended before the cut did
            return StagedDelivery(
                self.mp3,
                self.aac,
                adts_frames(self.aac),
                self.aac_rate,
                self._meter.levels(master),
                master,
                self.profile,
                sample,
            )
        except BaseException:
            self.abort()
            raise
        finally:
            self._close()

    def _close(self) -> None:
        if hasattr(self, "_meter"):
            self._meter.close()
        for e in self._encoders:
            e.close()

    def abort(self) -> None:
        for e in self._encoders:
            e.kill()
        self._close()
        self.mp3.unlink(missing_ok=True)
        self.aac.unlink(missing_ok=True)
        self.sample.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class StagedDelivery:
    """Encoded streams under hidden names, waiting for their master to be installed."""

    mp3: Path
    aac: Path
    aac_frames: int
    aac_rate: int
    mp3_levels: Levels
    master: AcxReport
    profile: DeliveryProfile  # what the streams were encoded for
    sample: SampleStream | None = None

    def install(self, final_wav: Path, master: Path) -> None:
        """Move the streams beside `final_wav` and write their sidecar, naming `master` (the
        staged file about to become `final_wav`, or `final_wav` itself): until it is in place,
        the sidecar matches no file there."""
        mp3 = final_wav.with_suffix(".mp3")
        aac = final_wav.with_suffix(".aac")
        os.replace(self.mp3, mp3)
        os.replace(self.aac, aac)
        sample: dict[str, object] | None = None
        path = sample_path(final_wav)
        if self.sample is None:
            path.unlink(missing_ok=True)  # an earlier master's, which this one replaces
        else:
            os.replace(self.sample.path, path)
            fade_in, fade_out = self.sample.fades
            sample = {"file": path.name, "start": self.sample.start, "stop": self.sample.stop}
            sample |= {"fade_in_s": fade_in, "fade_out_s": fade_out}
        meta = {
            "wav": _stat(master),
            "settings": settings_key(self.profile),
            "mp3": mp3.name,
            "aac": aac.name,
            "aac_frames": self.aac_frames,
            "aac_rate": self.aac_rate,
            "mp3_levels": asdict(self.mp3_levels),
            "master": self.master.as_dict() | {"path": final_wav.name},
            "sample": sample,
        }
        target = sidecar_path(final_wav)
        tmp = target.with_name(f".{target.name}.part")
        tmp.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, target)

    def discard(self) -> None:
        self.mp3.unlink(missing_ok=True)
        self.aac.unlink(missing_ok=True)
        if self.sample is not None:
            self.sample.path.unlink(missing_ok=True)


def forget(final_wav: Path) -> None:
    """Drop the sidecar of a master about to be replaced without new streams."""
    sidecar_path(final_wav).unlink(missing_ok=True)
