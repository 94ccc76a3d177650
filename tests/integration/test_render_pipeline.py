"""Manuscript to finished audiobook with the real embedded voice, checked by ffmpeg itself."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import soundfile as sf
from mutagen.mp3 import MP3, BitrateMode
from scipy.signal import resample_poly

from pipelines.app.imports import import_manuscript
from pipelines.cli.main import main as cli_main
from pipelines.core.model import VoiceRef
from pipelines.render.cache import is_temp_name
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.jobs import JobQueue, JobState

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"
FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
PIPER = VoiceRef("piper", "joe-us")
# Without its noise terms Piper is deterministic, so runs can be compared sample for sample.
STEADY = {"noise_scale": 0.0, "noise_w_scale": 0.0}


def ffmpeg_info(path: Path) -> str:
    result = subprocess.run(
        [FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False
    )
    return result.stderr


def astats(path: Path) -> dict[str, float]:
    """ACX's numbers as ffmpeg's own astats filter measures them (independent of our code)."""
    out = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "astats=measure_overall=RMS_level+Peak_level+Noise_floor:measure_perchannel=none"
            ":reset=0",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    values = {}
    for name, key in (
        ("RMS level dB", "rms"),
        ("Peak level dB", "peak"),
        ("Noise floor dB", "noise"),
    ):
        found = re.findall(rf"{name}: (-?[\d.]+|-inf)", out)
        values[key] = float(found[-1])
    return values


@pytest.fixture(scope="module")
def made_book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    home = tmp_path_factory.mktemp("home")
    os.environ["AUDIOBOOK_STUDIO_HOME"] = str(home)
    out = tmp_path_factory.mktemp("out")
    project_dir = tmp_path_factory.mktemp("proj") / "lamplighter"
    args = ["make", str(SAMPLE), "--out", str(out), "--project", str(project_dir)]
    args += [f"--set={k}={v}" for k, v in STEADY.items()]
    assert cli_main(args) == 0
    return {"out": out, "project": project_dir}


def test_m4b_has_a_mark_per_chapter_with_titles_and_durations(made_book: dict[str, Path]) -> None:
    m4b = made_book["out"] / "The Lamplighter of Harrow Street.m4b"
    info = ffmpeg_info(m4b)
    marks = re.findall(
        r"Chapter #0:\d+: start ([\d.]+), end ([\d.]+)\s+Metadata:\s+title\s+: (.+)", info
    )
    titles = [t.strip() for _, _, t in marks]
    assert titles == [
        "Opening Credits",
        "Chapter 1. The Last Lamp",
        "Chapter 2. The Letter",
        "Chapter 3. The First of December",
        "Closing Credits",
    ]
    with Project.open(made_book["project"]) as project:
        rendered = {
            r["chapter_id"]: r["duration_s"]
            for r in project.query("SELECT chapter_id, duration_s FROM renders")
        }
        body = [c for c in project.chapters(with_blocks=False) if c.included]
    # Piper speaks at 22.05 kHz, so the AAC runs at 24 kHz; each chapter's mark spans its AAC
    # frames: its audio, one frame of priming and the last frame's padding.
    rate = int(re.findall(r"Audio: aac.*?, (\d+) Hz", info)[0])
    assert rate == 24_000
    for (start, end, _), chapter in zip(marks[1:4], body, strict=True):
        span = float(end) - float(start)
        assert span == pytest.approx(rendered[chapter.id] + 1024 / rate, abs=1024 / rate)
    assert "covr" in info or "stik" in info or "media_type      : 2" in info


def test_chapter_mp3s_pass_acx_when_measured_by_ffmpeg(made_book: dict[str, Path]) -> None:
    mp3s = sorted(made_book["out"].glob("0[1-3] - *.mp3"))
    assert len(mp3s) == 3
    for path in mp3s:
        info = MP3(path).info
        assert info.bitrate == 192_000 and info.sample_rate == 44_100 and info.channels == 1
        assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
        stats = astats(path)
        assert -23.0 <= stats["rms"] <= -18.0, (path.name, stats)
        assert stats["peak"] <= -3.0, (path.name, stats)
        assert stats["noise"] <= -60.0, (path.name, stats)


def test_the_export_copies_the_streams_mastering_encoded(made_book: dict[str, Path]) -> None:
    """Each chapter's MP3 is the stream encoded while it was mastered, tagged; its ACX figures
    in the manifest agree with a full measurement of the exported file."""
    from mutagen.id3 import ID3

    from pipelines.audio import acx, delivery, names
    from pipelines.audio.profiles import ACX

    renders = made_book["project"] / "renders"
    manifest = json.loads((made_book["out"] / "export.json").read_text())
    mp3s = [f for f in manifest["files"] if f["kind"] == "mp3"]
    wavs = sorted(renders.glob("chapter-*.wav"))
    assert len(wavs) == 3
    for wav in wavs:
        assert delivery.current(wav, ACX) is not None, wav
    for entry in mp3s:
        exported = made_book["out"] / entry["file"]
        checked = acx.check(exported).as_dict()
        for key in ("rms_db", "peak_db", "noise_floor_db", "head_s", "tail_s", "duration_s"):
            assert entry["acx"][key] == pytest.approx(checked[key], abs=0.05), (entry, key)
        assert entry["acx"]["passed"] == checked["passed"]
    # The audio frames of chapter 1's MP3 are its delivery stream, byte for byte.
    first = made_book["out"] / next(f["file"] for f in mp3s if f["file"].startswith("01"))
    data = first.read_bytes()
    stream = delivery.current(wavs[0], ACX)
    assert stream is not None
    assert data[ID3(str(first)).size :] == stream.mp3_stream.read_bytes()
    # Chapter 1 is shorter than a retail sample may run, so the sample is cut at the export
    # (a first chapter that holds it encodes it while mastered: tests/unit/test_audio_sample.py).
    assert stream.sample is None and (made_book["out"] / names.SAMPLE).is_file()


def test_m4b_chapters_start_where_their_audio_does(made_book: dict[str, Path]) -> None:
    """The M4B joins the chapters' AAC frames: each chapter's audio begins 1,024 priming
    samples after its mark, found by cross-correlating the master with the decoded book."""
    rate = 24_000  # the AAC's rate for a voice of 24 kHz or less (Piper's is 22.05 kHz)
    manifest = json.loads((made_book["out"] / "export.json").read_text())
    marks = manifest["m4b_chapters"]
    m4b = made_book["out"] / marks[0]["file"]
    pcm = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(m4b), "-f", "f32le", "-ac", "1", "-"],
        capture_output=True,
        check=True,
    ).stdout
    book = np.frombuffer(pcm, dtype="<f4").astype(np.float64)
    renders = made_book["project"] / "renders"
    with Project.open(made_book["project"]) as project:
        body = [c for c in project.chapters(with_blocks=False) if c.included]
    for mark, chapter in zip(marks[1:4], body, strict=True):
        master, master_rate = sf.read(str(renders / f"chapter-{chapter.id}.wav"), dtype="float64")
        master = resample_poly(master, rate, master_rate)  # the 44.1 kHz master at the AAC rate
        loud = int(np.flatnonzero(np.abs(master) > 0.1)[0])
        probe_x = master[loud : loud + 4096]
        expected = round(mark["start_s"] * rate) + 1024 + loud
        window = book[expected - 512 : expected + 4096 + 512]
        corr = np.correlate(window, probe_x, mode="valid")
        lag = int(np.argmax(corr)) - 512
        assert abs(lag) <= 30, (chapter.title, lag)  # marks are written in whole milliseconds


def test_the_export_plan_names_what_the_export_wrote(made_book: dict[str, Path]) -> None:
    """The export dialog's list (built without audio) is exactly what `make` wrote, in order."""
    from studio.dialogs.export_plan import planned_files

    out = made_book["out"]
    manifest = json.loads((out / "export.json").read_text(encoding="utf-8"))
    with Project.open(made_book["project"]) as project:
        planned = planned_files(project, m4b=True, mp3=True)
    assert planned == [f["file"] for f in manifest["files"]] + ["export.json"]
    assert sorted(planned) == sorted(p.name for p in out.iterdir())


def test_durations_follow_the_text(made_book: dict[str, Path]) -> None:
    with Project.open(made_book["project"]) as project:
        rows = project.query("SELECT spans FROM renders")
    for row in rows:
        for span in json.loads(row["spans"]):
            seconds = span["end"] - span["start"]
            chars = len(span["text"])
            # Speech runs at roughly 8-25 characters a second; a dropped or doubled sentence
            # would fall far outside, a cut one too when it is long enough to measure.
            if chars >= 25:
                assert 6 <= chars / seconds <= 30, span


def test_one_paragraph_edit_renders_only_that_paragraph(made_book: dict[str, Path]) -> None:
    with Project.open(made_book["project"]) as project:
        chapter = project.chapter(2)
        block_ids = project.block_ids(chapter.id or 0)
        paragraph = next(i for i, b in enumerate(chapter.blocks) if b.kind.value == "paragraph")
        project.update_block_text(
            block_ids[paragraph], chapter.blocks[paragraph].text + " He said it twice, to be sure."
        )
        with RenderService(project) as service:
            job_id = service.enqueue([chapter.id or 0], PIPER, STEADY)[0]
            service.run()
        job = JobQueue(project).get(job_id)
    assert job.state is JobState.DONE
    edited_paragraph_chars = len(chapter.blocks[paragraph].text) + 40
    assert 0 < job.chars_synthesized <= edited_paragraph_chars
    assert job.chars_synthesized < job.chars_total / 3


def test_kill_during_render_then_resume_equals_an_uninterrupted_run(
    made_book: dict[str, Path], tmp_path: Path
) -> None:
    project_dir = tmp_path / "killed"
    import_manuscript(SAMPLE, project_dir).close()
    cmd = [
        sys.executable,
        str(REPO / "main.py"),
        "render",
        str(project_dir),
        "--chapters",
        "3",
        "--workers",
        "1",
        *[f"--set={k}={v}" for k, v in STEADY.items()],
    ]
    proc = subprocess.Popen(
        cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    chunks = project_dir / "cache" / "chunks"

    def cached() -> list[Path]:
        """Chunks under their final names (a kill may leave one hidden temporary file)."""
        return [f for f in chunks.rglob("*.flac") if not is_temp_name(f.name)]

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(cached()) < 4:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(cached()) >= 4
    # A chunk the kill interrupted never appears under its final name: every cached file is
    # complete, readable audio.
    assert all(sf.info(str(f)).frames > 0 for f in cached())

    assert cli_main(["render", str(project_dir), "--chapters", "3"]) == 0
    # What the kill left half-written is swept away by the next render.
    assert not [f for f in chunks.rglob("*") if f.is_file() and is_temp_name(f.name)]
    with Project.open(project_dir) as project:
        job = JobQueue(project).all()[0]
        assert job.state is JobState.DONE
        # Everything synthesized before the kill was reused.
        assert job.chars_synthesized < job.chars_total
        resumed = project.root / project.query("SELECT wav FROM renders")[0]["wav"]
        chapter3 = [c for c in project.chapters(with_blocks=False)][2].title
    with Project.open(made_book["project"]) as project:
        row = next(
            r
            for r in project.query(
                "SELECT renders.wav, chapters.title FROM renders JOIN chapters"
                " ON chapters.id = renders.chapter_id"
            )
            if r["title"] == chapter3
        )
        reference = project.root / row["wav"]
    a, _ = sf.read(resumed, dtype="float32")
    b, _ = sf.read(reference, dtype="float32")
    assert a.shape == b.shape
    assert np.array_equal(a, b)
