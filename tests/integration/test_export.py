"""End to end: chunks -> assembled -> mastered -> exported book, checked with ffmpeg and mutagen."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4

from pipelines.audio.assemble import Segment, assemble_chapter
from pipelines.audio.export import BookExport, ChapterAudio, export_book, plan_files
from pipelines.audio.ffmpeg_io import probe
from pipelines.audio.master import master_chapter
from pipelines.audio.names import safe_filename
from pipelines.audio.profiles import ACX
from tests.audio_helpers import build_chapter, ffmpeg_exe, ffmpeg_levels, write_chunk


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> BookExport:
    d = tmp_path_factory.mktemp("book")
    chapters = []
    titles = ["Chapter 1: Arrival", 'Chapter 2: "What?" / Why', "Chapter 3 — Ends."]
    for i, (title, level) in enumerate(zip(titles, [-35.0, -6.0, -18.0], strict=True)):
        segs = build_chapter(d / f"c{i}", 12 if i == 0 else 4, level, seed=7 * i, heading=title)
        a = assemble_chapter(segs, d / f"a{i}.wav")
        chapters.append(ChapterAudio(title, master_chapter(a.path, d / f"m{i}.wav").path, a.spans))
    credits = []
    for name in ("open", "close"):
        a = assemble_chapter(
            [Segment(write_chunk(d / f"{name}.flac", 4.0, -20.0, seed=99), 0.5)], d / f"{name}.wav"
        )
        credits.append(master_chapter(a.path, d / f"{name}-m.wav").path)
    cover = d / "cover.png"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=green:s=500x500",
            "-frames:v",
            "1",
            str(cover),
        ],
        check=True,
    )
    return BookExport(
        "The Book: A Test?",
        "Ann Author",
        "Ned Narrator",
        "2026",
        "Fiction",
        "A book about tests.",
        cover,
        chapters,
        credits[0],
        credits[1],
    )


@pytest.fixture(scope="module")
def exported(
    book: BookExport, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, object, list[float]]:
    out = tmp_path_factory.mktemp("out")
    seen: list[float] = []
    result = export_book(book, out, progress=seen.append)
    return out, result, seen


def test_files_names_and_manifest(exported: tuple[Path, object, list[float]]) -> None:
    out, result, seen = exported
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "00 - Opening Credits.mp3",
            "01 - Chapter 1 Arrival.mp3",
            "02 - Chapter 2 What Why.mp3",
            "03 - Chapter 3 — Ends.mp3",
            "04 - Closing Credits.mp3",
            "01 - Chapter 1 Arrival.srt",
            "01 - Chapter 1 Arrival.vtt",
            "02 - Chapter 2 What Why.srt",
            "02 - Chapter 2 What Why.vtt",
            "03 - Chapter 3 — Ends.srt",
            "03 - Chapter 3 — Ends.vtt",
            "The Book A Test.m4b",
            "sample.mp3",
            "export.json",
        ]
    )
    manifest = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert sorted(f["file"] for f in manifest["files"]) == sorted(
        n for n in names if n != "export.json"
    )
    assert sorted(p.name for p in result.files) == names  # type: ignore[attr-defined]
    assert manifest["passed"] is True and manifest["profile"] == "acx"
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_the_plan_names_every_file_the_export_wrote_in_its_order(
    exported: tuple[Path, object, list[float]], book: BookExport
) -> None:
    _, result, _ = exported
    planned = plan_files(
        book.title,
        [c.title for c in book.chapters],
        chapter_seconds=[sf.info(str(c.wav)).duration for c in book.chapters],
        chapter_captioned=[bool(c.spans) for c in book.chapters],
    )
    assert planned == [p.name for p in result.files]  # type: ignore[attr-defined]


def test_every_mp3_meets_acx_measured_by_ffmpeg(exported: tuple[Path, object, list[float]]) -> None:
    out, _, _ = exported
    mp3s = sorted(p for p in out.glob("[0-9]*.mp3"))
    assert len(mp3s) == 5
    for n, path in enumerate(mp3s):
        info = MP3(str(path)).info
        assert (info.bitrate, info.sample_rate, info.channels) == (192_000, 44_100, 1)
        lv = ffmpeg_levels(path)
        assert ACX.rms_min_db <= lv["rms"] <= ACX.rms_max_db, path.name
        assert lv["peak"] <= ACX.peak_max_db, path.name
        assert lv["noise_floor"] <= ACX.noise_floor_max_db, path.name
        tags = ID3(str(path))
        assert str(tags["TRCK"]) == f"{n + 1}/5" and str(tags["TALB"]) == "The Book: A Test?"


def test_m4b_has_credits_and_chapters_in_order(
    exported: tuple[Path, object, list[float]], book: BookExport
) -> None:
    out, _, _ = exported
    m4b = out / "The Book A Test.m4b"
    info = probe(m4b)
    assert [c.title for c in info.chapters] == (
        ["Opening Credits"] + [c.title for c in book.chapters] + ["Closing Credits"]
    )
    assert info.has_cover
    tags = MP4(str(m4b)).tags
    assert tags is not None and tags["stik"] == [2] and tags["©ART"] == ["Ann Author"]
    assert tags["covr"][0].imageformat == tags["covr"][0].FORMAT_PNG
    mp3_total = sum(MP3(str(p)).info.length for p in out.glob("[0-9]*.mp3"))
    assert info.duration_s == pytest.approx(mp3_total, abs=0.3)


def test_failed_export_leaves_no_half_file(book: BookExport, tmp_path: Path) -> None:
    import threading

    def explode(_: float) -> None:
        # As if the user killed it mid-encode: a report from the encoding thread (a count of
        # reports could land on the export's last one, made once every file is written).
        if threading.current_thread() is not threading.main_thread():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_book(book, tmp_path, mp3=False, sample=False, captions=False, progress=explode)
    assert not (tmp_path / "The Book A Test.m4b").exists()
    assert not (tmp_path / "export.json").exists()
    assert not list(tmp_path.glob(".*partial*"))  # the temp file is removed too
    assert not [
        p for p in tmp_path.iterdir() if p.suffix in {".m4b", ".mp3"} and not p.name.startswith(".")
    ]


def test_a_file_finished_while_another_fails_is_taken_back(
    book: BookExport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The M4B's encoder ends (and installs its file) while an MP3 fails: the failed export
    still leaves no finished file behind."""
    import threading

    from pipelines.audio import export as export_module
    from pipelines.audio.encode import M4bPart

    m4b_done = threading.Event()

    def quick_m4b(_chapters: object, path: Path, *_a: object, **_k: object) -> list[M4bPart]:
        path.write_bytes(b"finished")
        m4b_done.set()
        return [M4bPart(path)]

    def failing_mp3(*_a: object, **_k: object) -> Path:
        m4b_done.wait(10)
        raise OSError("the disk went away")

    monkeypatch.setattr(export_module, "encode_m4b", quick_m4b)
    monkeypatch.setattr(export_module, "encode_mp3", failing_mp3)
    with pytest.raises(OSError, match="disk went away"):
        export_book(book, tmp_path, sample=False, captions=False)
    assert m4b_done.is_set()
    assert not [p for p in tmp_path.iterdir() if p.suffix in {".m4b", ".mp3", ".json"}]


def test_safe_filenames() -> None:
    assert safe_filename('a<b>c:d"e/f\\g|h?i*j') == "a b c d e f g h i j"
    assert safe_filename("CON") == "CON_" and safe_filename("aux.txt") == "aux.txt_"
    assert safe_filename("  Ends...  ") == "Ends"
    assert safe_filename("") == "Untitled"
    assert len(safe_filename("x" * 500)) <= 120
