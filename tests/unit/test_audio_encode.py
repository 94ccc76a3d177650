"""MP3 and M4B encoding: CBR mono MP3s with ID3 tags; M4B chapters, cover and tags read back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import soundfile as sf
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode
from mutagen.mp4 import MP4

from pipelines.audio.assemble import assemble_chapter
from pipelines.audio.encode import ChapterInput, Tags, encode_m4b, encode_mp3
from pipelines.audio.ffmpeg_io import probe
from pipelines.audio.master import master_chapter
from tests.audio_helpers import build_chapter, ffmpeg_exe, streamed_master

MP3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320]


def mpeg_frames(path: Path) -> list[tuple[int, int]]:
    """(bit rate kbit/s, channel mode) of every MPEG-1 Layer III frame, read from the bytes."""
    data = path.read_bytes()
    pos = 0
    if data[:3] == b"ID3":
        size = 0
        for b in data[6:10]:
            size = (size << 7) | b
        pos = 10 + size
    frames = []
    while pos + 4 <= len(data):
        h = int.from_bytes(data[pos : pos + 4], "big")
        assert h >> 21 == 0x7FF, f"lost frame sync at byte {pos}"
        kbps = MP3_KBPS[(h >> 12) & 0xF]
        rate = [44_100, 48_000, 32_000][(h >> 10) & 0x3]
        padding = (h >> 9) & 1
        frames.append((kbps, (h >> 6) & 0x3))
        pos += 144 * kbps * 1000 // rate + padding
    return frames


@pytest.fixture(scope="module")
def chapters(tmp_path_factory: pytest.TempPathFactory) -> list[ChapterInput]:
    d = tmp_path_factory.mktemp("enc")
    out = []
    for i, (n, level) in enumerate([(3, -30.0), (5, -10.0), (2, -20.0)]):
        a = assemble_chapter(build_chapter(d / f"c{i}", n, level, seed=10 * i), d / f"a{i}.wav")
        out.append(
            ChapterInput(
                f"Chapter {i + 1}: Ünïcode = ok; #{i}", master_chapter(a.path, d / f"m{i}.wav").path
            )
        )
    return out


@pytest.fixture(scope="module")
def cover(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cover") / "cover.jpg"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=navy:s=600x600",
            "-frames:v",
            "1",
            str(path),
        ],
        check=True,
    )
    return path


def test_mp3_is_cbr_192k_mono_44k_with_tags(
    chapters: list[ChapterInput], cover: Path, tmp_path: Path
) -> None:
    tags = Tags(
        "Chapter 1", "The Book", "Ann Author", "Ned Narrator", "2026", "Fiction", "About it.", 1, 3
    )
    seen: list[float] = []
    out = encode_mp3(chapters[0].wav, tmp_path / "01.mp3", tags, cover, progress=seen.append)
    info = MP3(str(out)).info
    assert info.bitrate == 192_000 and info.sample_rate == 44_100 and info.channels == 1
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    frames = mpeg_frames(out)
    assert len(frames) > 100
    assert {f[0] for f in frames} == {192}  # every frame, not just the first
    assert {f[1] for f in frames} == {3}  # mono, never joint stereo
    assert info.length == pytest.approx(sf.info(str(chapters[0].wav)).duration, abs=0.06)
    id3 = ID3(str(out))
    assert str(id3["TIT2"]) == "Chapter 1" and str(id3["TALB"]) == "The Book"
    assert str(id3["TPE1"]) == "Ann Author" and str(id3["TPE2"]) == "Ann Author"
    assert str(id3["TXXX:NARRATOR"]) == "Ned Narrator" and str(id3["TCOM"]) == "Ned Narrator"
    assert str(id3["TRCK"]) == "1/3" and str(id3["TCON"]) == "Fiction"
    apic = id3.getall("APIC")[0]
    assert apic.mime == "image/jpeg" and apic.data == cover.read_bytes()
    assert seen and seen == sorted(seen) and seen[-1] == 1.0


def test_m4b_chapters_cover_and_tags(
    chapters: list[ChapterInput], cover: Path, tmp_path: Path
) -> None:
    tags = Tags(
        "The Book", "The Book", "Ann Author", "Ned Narrator", "2026", "Fiction", "About it."
    )
    seen: list[float] = []
    parts = encode_m4b(chapters, tmp_path / "The Book.m4b", tags, cover, progress=seen.append)
    assert len(parts) == 1
    m4b = parts[0].path
    report = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(m4b)], capture_output=True, text=True
    ).stderr
    for ch in chapters:
        assert ch.title in report
    info = probe(m4b)
    assert (
        info.codec == "aac" and info.channels == 1 and info.sample_rate == 44_100 and info.has_cover
    )
    expected, pos = [], 0
    for ch in chapters:
        expected.append(pos / 44_100)
        pos += sf.info(str(ch.wav)).frames
    assert [c.title for c in info.chapters] == [c.title for c in chapters]
    for mark, start in zip(info.chapters, expected, strict=True):
        assert abs(mark.start_s - start) < 0.030
    assert info.duration_s == pytest.approx(pos / 44_100, abs=0.05)
    mp4 = MP4(str(m4b))
    t = mp4.tags
    assert t is not None
    assert t["stik"] == [2] and t["©nam"] == ["The Book"] and t["©wrt"] == ["Ned Narrator"]
    assert t["aART"] == ["Ann Author"] and t["©day"] == ["2026"] and t["desc"] == ["About it."]
    assert bytes(t["----:com.apple.iTunes:NARRATOR"][0]) == b"Ned Narrator"
    assert bytes(t["covr"][0]) == cover.read_bytes()
    # 64 kbit/s AAC asked; the fast coder's rate control runs a little over on short noise-like
    # signals (about 66 kbit/s on real Piper speech), far under the 128k stereo default.
    assert mp4.info.bitrate < 96_000
    data = m4b.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # faststart
    assert seen[-1] == 1.0
    assert not list(tmp_path.glob(".*"))  # no partial or metadata files left behind


def test_long_book_splits_into_m4b_parts_at_chapters(
    chapters: list[ChapterInput], tmp_path: Path
) -> None:
    total = sum(sf.info(str(c.wav)).duration for c in chapters)
    parts = encode_m4b(
        chapters, tmp_path / "Book.m4b", Tags("Book", "Book"), max_hours=total * 0.8 / 3600
    )
    assert len(parts) == 2
    assert [p.path.name for p in parts] == ["Book - Part 1.m4b", "Book - Part 2.m4b"]
    titles = [m.title for p in parts for m in p.chapters]
    assert titles == [c.title for c in chapters]  # every chapter once, in order
    for p in parts:
        info = probe(p.path)
        assert [c.title for c in info.chapters] == [m.title for m in p.chapters]
        assert info.chapters[0].start_s == pytest.approx(0.0, abs=0.03)
        assert MP4(str(p.path)).tags["trkn"][0][1] == 2  # type: ignore[index]


def _streamed(d: Path, i: int, rate: int) -> ChapterInput:
    """A mastered chapter with its AAC stream encoded at `rate` as it was mastered."""
    staged, streams = streamed_master(d, f"chapter-{i}", 30 + i, rate)
    return ChapterInput(f"Part {i}", staged, streams.aac, streams.aac_frames, streams.aac_rate)


def test_m4b_joins_streams_of_one_rate_and_encodes_mixed_ones_again(tmp_path: Path) -> None:
    tags = Tags("The Book", "The Book")
    narrow = [_streamed(tmp_path, i, 24_000) for i in range(2)]
    joined = encode_m4b(narrow, tmp_path / "joined.m4b", tags, None)[0]
    info = probe(joined.path)
    assert info.sample_rate == 24_000
    # Marks at the streams' frame counts: 1,024 samples each at 24 kHz.
    assert info.chapters[1].start_s == pytest.approx(narrow[0].aac_frames * 1024 / 24_000, abs=1e-3)
    mixed = [narrow[0], _streamed(tmp_path, 2, 44_100)]
    again = encode_m4b(mixed, tmp_path / "mixed.m4b", tags, None)[0]
    info = probe(again.path)
    assert info.sample_rate == 44_100  # frames of two rates cannot join: encoded from the WAVs
    first = sf.info(str(mixed[0].wav)).frames / 44_100
    assert info.chapters[1].start_s == pytest.approx(first, abs=0.03)
