"""Encoders: CBR MP3 per chapter (ID3 tags) and one AAC M4B per book (chapters, cover, tags).

Where mastering already encoded a chapter's delivery streams (`audio.delivery`), an MP3 is a
tagged copy of its stream and an M4B joins its chapters' ADTS frames without encoding again:
chapter marks then sit at the frame counts, where each chapter's frames begin (its encoder's
1,024 priming samples fall in the head's room tone). Otherwise each file is encoded once from
PCM, with marks from sample counts: mastered WAVs at the profile's rate go to ffmpeg as files
(the M4B's through the concat demuxer, sample-exact for PCM), and anything to resample, cut or
pad is streamed into its stdin. Tags are written with mutagen afterwards, and each file is
renamed to its final name only once it is complete.
"""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import soundfile as sf
from mutagen.id3 import (
    APIC,
    COMM,
    ID3,
    TALB,
    TCOM,
    TCON,
    TDRC,
    TIT2,
    TPE1,
    TPE2,
    TRCK,
    TXXX,
)
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

from pipelines.audio.delivery import AAC_FRAME, aac_args, mp3_args
from pipelines.audio.dsp import Audio, RoomTone, StreamResampler, read_blocks
from pipelines.audio.ffmpeg_io import ChapterMark, Progress, pcm_input, run_ffmpeg
from pipelines.audio.names import m4b_part_path, part_title
from pipelines.audio.profiles import ACX, DeliveryProfile
from pipelines.audio.split import PartRange, plan_m4b_parts
from pipelines.core.errors import ManuscriptError
from pipelines.core.files import atomic_path


@dataclass(slots=True)
class Tags:
    title: str  # the file's own title: a chapter's, or the book's for an M4B
    album: str  # the book's title
    author: str = ""
    narrator: str = ""
    year: str = ""
    genre: str = "Audiobook"
    description: str = ""
    track: int | None = None
    track_total: int | None = None


@dataclass(frozen=True, slots=True)
class ChapterInput:
    title: str
    wav: Path
    aac: Path | None = None  # its ADTS stream, when mastering encoded one
    aac_frames: int = 0
    aac_rate: int = 0  # that stream's sample rate


@dataclass(slots=True)
class M4bPart:
    path: Path
    chapters: list[ChapterMark] = field(default_factory=list)
    duration_s: float = 0.0


def _cover_mime(cover: Path) -> str:
    head = cover.read_bytes()[:8]
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    raise ManuscriptError(cover, "cover is neither JPEG nor PNG", "use a JPEG or PNG image")


def _frames_at(path: Path, rate_out: int) -> tuple[int, int]:
    """(frames once resampled to rate_out, source rate) of a WAV."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ManuscriptError(
            path, f"chapter audio cannot be read ({exc})", "master the chapter again"
        ) from exc
    rate_in = int(info.samplerate)
    if rate_in == rate_out:
        return int(info.frames), rate_in
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    return -(-int(info.frames) * up // down), rate_in


def _pcm(path: Path, rate_out: int, part: PartRange | None = None) -> Iterator[Audio]:
    """A WAV (or a range of it) at rate_out, with room tone padding at a split's edges."""
    rate_in = int(sf.info(str(path)).samplerate)
    tone = RoomTone(rate_out, part.room_tone_db) if part else None
    if part and tone and part.pad_head_s > 0:
        yield tone.take(round(part.pad_head_s * rate_out))
    resampler = StreamResampler(rate_in, rate_out)
    start, stop = (part.start, part.stop) if part else (0, None)
    for block in read_blocks(path, start, stop):
        out = resampler.push(block)
        if len(out):
            yield out
    yield resampler.flush()
    if part and tone and part.pad_tail_s > 0:
        yield tone.take(round(part.pad_tail_s * rate_out))


def _id3_tags(path: Path, tags: Tags, cover: Path | None) -> None:
    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TALB(encoding=3, text=tags.album))
    if tags.author:
        id3.add(TPE1(encoding=3, text=tags.author))
        id3.add(TPE2(encoding=3, text=tags.author))  # album artist keeps the files together
    if tags.narrator:
        # Audiobook players read the narrator from the composer field; keep an explicit one too.
        id3.add(TCOM(encoding=3, text=tags.narrator))
        id3.add(TXXX(encoding=3, desc="NARRATOR", text=tags.narrator))
    if tags.track:
        total = f"/{tags.track_total}" if tags.track_total else ""
        id3.add(TRCK(encoding=3, text=f"{tags.track}{total}"))
    if tags.year:
        id3.add(TDRC(encoding=3, text=tags.year))
    if tags.genre:
        id3.add(TCON(encoding=3, text=tags.genre))
    if tags.description:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.description))
    if cover:
        id3.add(
            APIC(encoding=3, mime=_cover_mime(cover), type=3, desc="Cover", data=cover.read_bytes())
        )
    id3.save(str(path), v2_version=3)  # ID3v2.3: read by every player, Windows included


def encode_mp3_stream(
    feed: Iterable[Audio] | Path,
    frames: int,
    out_mp3: Path,
    tags: Tags,
    cover: Path | None = None,
    profile: DeliveryProfile = ACX,
    *,
    progress: Progress | None = None,
) -> Path:
    """Encode mono float PCM blocks at the profile's rate (or a WAV file at that rate) into a
    tagged CBR MP3."""
    out_mp3 = Path(out_mp3)
    source = ["-i", str(feed)] if isinstance(feed, Path) else pcm_input(profile.sample_rate)
    # CBR, no joint stereo: a mono CBR stream, as ACX asks; tags come from mutagen afterwards.
    args = [*source, *mp3_args(profile)]
    with atomic_path(out_mp3) as tmp:
        args += ["-f", "mp3", str(tmp)]
        run_ffmpeg(
            args,
            target=out_mp3,
            feed=None if isinstance(feed, Path) else feed,
            duration_s=frames / profile.sample_rate,
            progress=progress,
        )
        _id3_tags(tmp, tags, cover)
    return out_mp3


def tag_mp3(stream: Path, out_mp3: Path, tags: Tags, cover: Path | None = None) -> Path:
    """A tagged copy of an already encoded MP3 stream (a chapter's delivery stream)."""
    out_mp3 = Path(out_mp3)
    with atomic_path(out_mp3) as tmp:
        shutil.copyfile(stream, tmp)
        _id3_tags(tmp, tags, cover)
    return out_mp3


def encode_mp3(
    wav: Path,
    out_mp3: Path,
    tags: Tags,
    cover: Path | None = None,
    profile: DeliveryProfile = ACX,
    *,
    part: PartRange | None = None,
    progress: Progress | None = None,
) -> Path:
    """One CBR MP3 at the profile's bit rate, 44.1 kHz mono, tagged; `part` cuts a range."""
    wav = Path(wav)
    frames, rate_in = _frames_at(wav, profile.sample_rate)
    if part is None and rate_in == profile.sample_rate:
        return encode_mp3_stream(wav, frames, out_mp3, tags, cover, profile, progress=progress)
    if part is not None:
        # Parts are planned on the mastered (profile-rate) file.
        frames = (
            part.stop
            - part.start
            + round((part.pad_head_s + part.pad_tail_s) * profile.sample_rate)
        )
    return encode_mp3_stream(
        _pcm(wav, profile.sample_rate, part),
        frames,
        out_mp3,
        tags,
        cover,
        profile,
        progress=progress,
    )


def _ffmeta_escape(text: str) -> str:
    out = text.replace("\\", "\\\\")
    for ch in "=;#":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", "\\\n")


def _write_ffmetadata(path: Path, marks: list[ChapterMark]) -> None:
    lines = [";FFMETADATA1"]
    for m in marks:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",  # without it START/END are read as nanoseconds
            f"START={round(m.start_s * 1000)}",
            f"END={round(m.end_s * 1000)}",
            f"title={_ffmeta_escape(m.title)}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_concat_list(path: Path, files: list[Path]) -> None:
    """An ffconcat list; quotes in a path are closed, escaped and reopened."""
    lines = ["ffconcat version 1.0"]
    for f in files:
        quoted = str(Path(f).resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _mp4_tags(path: Path, tags: Tags, cover: Path | None) -> None:
    mp4 = MP4(str(path))
    if mp4.tags is None:
        mp4.add_tags()
    t = mp4.tags
    assert t is not None
    t["©nam"] = [tags.title]
    t["©alb"] = [tags.album]
    if tags.author:
        t["©ART"] = [tags.author]
        t["aART"] = [tags.author]
    if tags.narrator:
        t["©wrt"] = [tags.narrator]
        t["----:com.apple.iTunes:NARRATOR"] = [MP4FreeForm(tags.narrator.encode("utf-8"))]
    if tags.genre:
        t["©gen"] = [tags.genre]
    if tags.year:
        t["©day"] = [tags.year]
    if tags.description:
        t["desc"] = [tags.description]
    if tags.track:
        t["trkn"] = [(tags.track, tags.track_total or 0)]
    t["stik"] = [2]  # audiobook
    if cover:
        fmt = MP4Cover.FORMAT_PNG if _cover_mime(cover) == "image/png" else MP4Cover.FORMAT_JPEG
        t["covr"] = [MP4Cover(cover.read_bytes(), imageformat=fmt)]
    mp4.save()


def _encode_one_m4b(
    chapters: list[ChapterInput],
    out_m4b: Path,
    tags: Tags,
    cover: Path | None,
    profile: DeliveryProfile,
    bitrate_kbps: int,
    progress: Progress | None,
) -> M4bPart:
    rate = profile.sample_rate
    marks: list[ChapterMark] = []
    pos = 0
    direct = True
    # Encoded streams join only at the bit rate and sample rate they were encoded at.
    joined = bitrate_kbps == profile.aac_bitrate_kbps and all(ch.aac for ch in chapters)
    joined = joined and len({ch.aac_rate for ch in chapters}) == 1
    if joined:
        rate = chapters[0].aac_rate
    for ch in chapters:
        if joined:
            frames = ch.aac_frames * AAC_FRAME
        else:
            frames, rate_in = _frames_at(ch.wav, rate)
            direct = direct and rate_in == rate
        marks.append(ChapterMark(ch.title, pos / rate, (pos + frames) / rate))
        pos += frames
    token = uuid.uuid4().hex[:12]  # two exports into one folder never share these
    meta = out_m4b.with_name(f".{out_m4b.stem}.{token}.chapters.txt")
    listing = out_m4b.with_name(f".{out_m4b.stem}.{token}.inputs.txt")
    _write_ffmetadata(meta, marks)

    def feed() -> Iterator[Audio]:
        for ch in chapters:
            yield from _pcm(ch.wav, rate)

    def frames_of() -> Iterator[bytes]:
        for ch in chapters:
            assert ch.aac is not None
            with ch.aac.open("rb") as f:
                while data := f.read(1 << 20):
                    yield data

    encoded: Iterator[Audio | bytes] | None = None
    if joined:
        source = ["-f", "aac", "-i", "pipe:0"]
        encoded = frames_of()
    elif direct:
        # Every chapter is mastered at the profile's rate: ffmpeg reads the WAVs itself, which
        # spares the CPU of passing the PCM through this process.
        _write_concat_list(listing, [ch.wav for ch in chapters])
        source = ["-f", "concat", "-safe", "0", "-i", str(listing)]
    else:
        source = pcm_input(rate)
        encoded = feed()
    args = [*source, "-i", str(meta)]
    if cover:
        args += ["-i", str(cover)]
    args += ["-map", "0:a"]
    if cover:
        args += ["-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
    # Chapter titles travel as metadata: "-map_metadata -1" would drop them too.
    args += ["-map_metadata", "1", "-map_chapters", "1"]
    args += ["-c:a", "copy"] if joined else aac_args(profile, bitrate_kbps)
    args += ["-movflags", "+faststart", "-f", "ipod"]
    try:
        with atomic_path(out_m4b) as tmp:
            run_ffmpeg(
                [*args, str(tmp)],
                target=out_m4b,
                feed=encoded,
                duration_s=pos / rate,
                progress=progress,
            )
            _mp4_tags(tmp, tags, cover)
    finally:
        meta.unlink(missing_ok=True)
        listing.unlink(missing_ok=True)
    return M4bPart(out_m4b, marks, pos / rate)


def m4b_groups(
    durations_s: list[float],
    profile: DeliveryProfile = ACX,
    *,
    bitrate_kbps: int | None = None,
    max_hours: float | None = None,
) -> list[list[int]]:
    """Which chapters go into which M4B: one group per file (see `plan_m4b_parts`)."""
    kbps = bitrate_kbps or profile.aac_bitrate_kbps
    max_s = (max_hours if max_hours is not None else profile.m4b_max_hours) * 3600
    max_s = min(max_s, profile.m4b_max_bytes * 8 / (kbps * 1000) * 0.97)  # container overhead
    return plan_m4b_parts(durations_s, max_s, profile.m4b_min_part_minutes * 60)


def encode_m4b(
    chapters: list[ChapterInput],
    out_m4b: Path,
    tags: Tags,
    cover: Path | None = None,
    profile: DeliveryProfile = ACX,
    *,
    bitrate_kbps: int | None = None,
    max_hours: float | None = None,
    progress: Progress | None = None,
) -> list[M4bPart]:
    """Encode the chapters into one M4B, or several parts (`NAME - Part N.m4b`) when too long.

    A part is cut only between chapters, stays under the profile's hours and about 4 GB, and
    lasts at least the profile's minimum (60 min) where the book allows.
    """
    if not chapters:
        raise ManuscriptError(out_m4b, "no chapters to encode", "master the chapters first")
    out_m4b = Path(out_m4b)
    out_m4b.parent.mkdir(parents=True, exist_ok=True)
    kbps = bitrate_kbps or profile.aac_bitrate_kbps
    durations = [_frames_at(c.wav, profile.sample_rate)[0] / profile.sample_rate for c in chapters]
    groups = m4b_groups(durations, profile, bitrate_kbps=kbps, max_hours=max_hours)
    total = sum(durations) or 1.0
    done = 0.0
    parts: list[M4bPart] = []
    for n, group in enumerate(groups, start=1):
        share = sum(durations[i] for i in group) / total
        base = done

        def step(f: float, base: float = base, share: float = share) -> None:
            if progress:
                progress(min(1.0, base + f * share))

        if len(groups) == 1:
            path, part_tags = out_m4b, tags
        else:
            path = m4b_part_path(out_m4b, n)
            part_tags = replace(
                tags, title=part_title(tags.title, n), track=n, track_total=len(groups)
            )
        parts.append(
            _encode_one_m4b(
                [chapters[i] for i in group], path, part_tags, cover, profile, kbps, step
            )
        )
        done += share
    return parts
