"""The ffmpeg binary (from imageio-ffmpeg): run it with progress, feed it PCM, decode, probe.

There is no ffprobe next to it, so media facts come from parsing `ffmpeg -i FILE`'s report.
"""

from __future__ import annotations

import queue
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO

import numpy as np

from pipelines.audio.dsp import Audio
from pipelines.core.errors import StudioError

Progress = Callable[[float], None]


@cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg  # lazy: resolving the binary touches the filesystem

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def pcm_input(rate: int, channels: int = 1) -> list[str]:
    """Input options for raw float PCM on stdin (what `run_ffmpeg(feed=...)` writes)."""
    return ["-f", "f32le", "-ar", str(rate), "-ac", str(channels), "-i", "pipe:0"]


def _watch_progress(
    stream: Iterable[bytes], duration_s: float | None, out: queue.Queue[float]
) -> None:
    """Turn ffmpeg's `-progress` lines into fractions done (read on a helper thread)."""
    for raw in stream:
        line = raw.decode("ascii", "replace").strip()
        if not duration_s:
            continue
        # out_time_us is microseconds (out_time_ms is too, despite its name).
        if line.startswith("out_time_us=") and line[12:].lstrip("-").isdigit():
            out.put(min(1.0, max(0.0, int(line[12:]) / 1e6 / duration_s)))
        elif line == "progress=end":
            out.put(1.0)


def run_ffmpeg(
    args: list[str],
    *,
    target: Path,
    feed: Iterable[Audio | bytes] | None = None,
    duration_s: float | None = None,
    progress: Progress | None = None,
) -> None:
    """Run ffmpeg with `args` (inputs and output); `feed` blocks go to stdin as f32le PCM
    (bytes go as they are: an encoded stream).

    `progress` is called on the calling thread, so it may raise to cancel: ffmpeg is then
    killed and the exception propagates.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostats", "-y"]
    cmd += ["-progress", "pipe:1", *args]
    fractions: queue.Queue[float] = queue.Queue()

    def report() -> None:
        while True:
            try:
                f = fractions.get_nowait()
            except queue.Empty:
                return
            if progress:
                progress(f)

    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        assert proc.stdout is not None
        watcher = threading.Thread(
            target=_watch_progress, args=(proc.stdout, duration_s, fractions), daemon=True
        )
        watcher.start()
        broken = False
        try:
            if feed is not None:
                assert proc.stdin is not None
                try:
                    for block in feed:
                        if isinstance(block, bytes):
                            proc.stdin.write(block)
                        else:
                            proc.stdin.write(np.asarray(block, dtype="<f4").tobytes())
                        report()
                except BrokenPipeError:
                    broken = True  # ffmpeg stopped reading; its error says why
                finally:
                    try:
                        proc.stdin.close()
                    except BrokenPipeError:
                        broken = True
            while True:
                try:
                    rc = proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    report()
            watcher.join(timeout=5)
            report()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if rc != 0 or broken:
            raise StudioError(
                target,
                f"ffmpeg could not write this file ({last_error(errors, rc)})",
                "check free disk space and that the input audio is intact",
            )


def last_error(errors: IO[bytes], rc: int | None) -> str:
    """The last line ffmpeg wrote to its error file (`errors`), or its exit status."""
    errors.seek(0)
    lines = errors.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else f"exit status {rc}"


def decode_blocks(path: Path, block: int = 65_536) -> Iterator[Audio]:
    """Any file ffmpeg reads, as mono float32 blocks at its own sample rate."""
    cmd = [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-vn"]
    cmd += ["-f", "f32le", "-ac", "1", "pipe:1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        leftover = b""
        while True:
            data = proc.stdout.read(block * 4)
            if not data:
                break
            data = leftover + data
            whole = len(data) - len(data) % 4
            leftover = data[whole:]
            if whole:
                yield np.frombuffer(data[:whole], dtype="<f4").astype(np.float32)
        err = proc.stderr.read().decode("utf-8", "replace").strip()
        if proc.wait() != 0:
            raise StudioError(
                path, f"audio cannot be decoded ({err or 'ffmpeg failed'})", "export it again"
            )
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


@dataclass(frozen=True, slots=True)
class ChapterMark:
    title: str
    start_s: float
    end_s: float


@dataclass(slots=True)
class MediaInfo:
    duration_s: float
    sample_rate: int
    channels: int
    codec: str
    bitrate_kbps: int | None
    chapters: list[ChapterMark] = field(default_factory=list)
    has_cover: bool = False


_DURATION = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO = re.compile(
    r"Stream #\S+.*?: Audio: (\w+).*?, (\d+) Hz, ([^,]+)(?:, [^,]+)?(?:, (\d+) kb/s)?"
)
_CHAPTER = re.compile(r"Chapter #\S+ start (-?\d+(?:\.\d+)?), end (-?\d+(?:\.\d+)?)")
_TITLE = re.compile(r"^\s+title\s*:\s?(.*)$")


def _channel_count(layout: str) -> int:
    layout = layout.strip()
    named = {"mono": 1, "stereo": 2}
    if layout in named:
        return named[layout]
    m = re.match(r"(\d+) channels", layout)
    return int(m.group(1)) if m else 2


def parse_probe(report: str) -> MediaInfo:
    """Media facts from the text `ffmpeg -i FILE` prints."""
    m = _DURATION.search(report)
    duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)) if m else 0.0
    a = _AUDIO.search(report)
    chapters: list[ChapterMark] = []
    current: tuple[float, float] | None = None
    for line in report.splitlines():
        c = _CHAPTER.search(line)
        if c:
            current = (float(c.group(1)), float(c.group(2)))
            chapters.append(ChapterMark("", *current))
            continue
        t = _TITLE.match(line)
        if t and current is not None and chapters and not chapters[-1].title:
            chapters[-1] = ChapterMark(t.group(1), *current)
            current = None
        elif line.strip().startswith(("Stream #", "Chapters:")) or "Chapter #" in line:
            current = None
    return MediaInfo(
        duration_s=duration,
        sample_rate=int(a.group(2)) if a else 0,
        channels=_channel_count(a.group(3)) if a else 0,
        codec=a.group(1) if a else "",
        bitrate_kbps=int(a.group(4)) if a and a.group(4) else None,
        chapters=chapters,
        has_cover="(attached pic)" in report,
    )


def probe(path: Path) -> MediaInfo:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        check=False,
    )
    report = proc.stderr.decode("utf-8", "replace")
    if "Duration:" not in report:
        raise StudioError(path, "not a readable audio file", "export it again")
    return parse_probe(report)
