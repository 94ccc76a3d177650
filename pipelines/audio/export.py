"""Export a mastered book: per-chapter MP3s, the M4B, captions, the retail sample, the
read-along EPUB (`readalong`), a manifest.

Every file is written under a hidden partial name and renamed when complete, so a killed export
leaves no half file under a final name; leftovers of an earlier killed run are swept first.
Files are named by `names`; `plan_files` lists them without writing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import soundfile as sf

from pipelines.audio import acx, delivery, names
from pipelines.audio.assemble import Span
from pipelines.audio.captions import to_srt, to_webvtt
from pipelines.audio.encode import (
    ChapterInput,
    Tags,
    encode_m4b,
    encode_mp3,
    m4b_groups,
    tag_mp3,
)
from pipelines.audio.profiles import ACX, DeliveryProfile
from pipelines.audio.readalong import (
    ReadAlongChapter,
    ReadAlongMeta,
    ReadAlongResult,
    WordTiming,
    build_readalong,
)
from pipelines.audio.sample import SampleResult, SampleSource, make_sample
from pipelines.audio.split import PartRange, mp3_part_count, plan_mp3_parts
from pipelines.core.errors import ManuscriptError
from pipelines.core.files import write_text_atomic
from pipelines.core.model import Block

_CAPTION_WRITERS = {".srt": to_srt, ".vtt": to_webvtt}
# The read-along's audio: speech read along on a phone or tablet needs no more, and the EPUB
# stays a third of the size it would be at the delivery rate.
READALONG_MP3_KBPS = 64
_READALONG_TEMP = ".readalong-"  # the folder its audio is encoded into, inside the export's


@dataclass(slots=True)
class ChapterAudio:
    title: str
    wav: Path  # mastered, at the profile's sample rate
    spans: list[Span] = field(default_factory=list)
    # The chapter as written (the read-along's text) and its id (how word timings are keyed).
    blocks: list[Block] = field(default_factory=list)
    key: int | None = None


@dataclass(slots=True)
class BookExport:
    title: str
    author: str = ""
    narrator: str = ""
    year: str = ""
    genre: str = "Audiobook"
    description: str = ""
    cover: Path | None = None
    chapters: list[ChapterAudio] = field(default_factory=list)
    opening_credits: Path | None = None
    closing_credits: Path | None = None
    # "Narrated by a digital voice (Piper, Joe)": the comment tag (and the description's end)
    disclosure: str = ""
    language: str = "en"  # the read-along's text


def _with_disclosure(description: str, disclosure: str) -> str:
    """The comment/description tag, ending with the synthetic-narration disclosure."""
    if not disclosure or disclosure in description:
        return description
    return f"{description.rstrip()}\n\n{disclosure}." if description.strip() else f"{disclosure}."


@dataclass(slots=True)
class ExportResult:
    files: list[Path]
    manifest: Path
    mp3: list[Path] = field(default_factory=list)
    m4b: list[Path] = field(default_factory=list)
    captions: list[Path] = field(default_factory=list)
    sample: Path | None = None
    readalong: Path | None = None
    checks: list[acx.AcxReport] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.checks)


@dataclass(frozen=True, slots=True)
class _Mp3Job:
    name: str
    wav: Path
    title: str
    part: PartRange | None
    seconds: float
    stream: delivery.Delivery | None = None  # the chapter's encoded MP3, to copy


def _seconds(wav: Path, profile: DeliveryProfile) -> tuple[int, float]:
    try:
        info = sf.info(str(wav))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ManuscriptError(
            wav, f"chapter audio cannot be read ({exc})", "master it again"
        ) from exc
    if info.samplerate != profile.sample_rate:
        raise ManuscriptError(
            wav,
            f"chapter audio is {info.samplerate} Hz, not {profile.sample_rate} Hz",
            "master the chapter before exporting",
        )
    return int(info.frames), info.frames / info.samplerate


@dataclass(frozen=True, slots=True)
class _Item:
    """One track in listening order, with its audio."""

    track: names.Track
    wav: Path
    spans: list[Span]
    key: int | None = None  # the chapter's key (its id), None for credits

    @property
    def title(self) -> str:
        return self.track.title


def _sequence(book: BookExport) -> list[_Item]:
    """Everything in listening order: credits, chapters, credits."""
    tracks = names.tracks(
        [ch.title for ch in book.chapters],
        opening_credits=bool(book.opening_credits),
        closing_credits=bool(book.closing_credits),
    )
    audio: list[tuple[Path, list[Span], int | None]] = []
    if book.opening_credits:
        audio.append((Path(book.opening_credits), [], None))
    audio += [(Path(ch.wav), list(ch.spans), ch.key) for ch in book.chapters]
    if book.closing_credits:
        audio.append((Path(book.closing_credits), [], None))
    return [_Item(t, wav, spans, key) for t, (wav, spans, key) in zip(tracks, audio, strict=True)]


def _written(result: object) -> list[Path]:
    """The files an export task's result names: a path, (path, …), or things with a `.path`."""
    if isinstance(result, Path):
        return [result]
    if isinstance(result, tuple) and result and isinstance(result[0], Path):
        return [result[0]]
    if isinstance(result, list):
        return [p for item in result for p in _written(item)]
    path = getattr(result, "path", None)
    return [Path(path)] if isinstance(path, str | Path) else []


def _plan_mp3(
    items: list[_Item], profile: DeliveryProfile, max_minutes: float | None
) -> list[_Mp3Job]:
    sizes = [_seconds(item.wav, profile) for item in items]
    cuts = [
        plan_mp3_parts(item.wav, profile.sample_rate, frames, profile, max_minutes)
        for item, (frames, _) in zip(items, sizes, strict=True)
    ]
    file_names = names.mp3_names([i.track for i in items], [len(parts) for parts in cuts])
    jobs: list[_Mp3Job] = []
    for item, (_, seconds), parts, files in zip(items, sizes, cuts, file_names, strict=True):
        if len(parts) == 1:
            encoded = delivery.current(item.wav, profile)
            jobs.append(_Mp3Job(files[0], item.wav, item.title, None, seconds, encoded))
            continue
        for k, (part, name) in enumerate(zip(parts, files, strict=True), start=1):
            jobs.append(
                _Mp3Job(
                    name,
                    item.wav,
                    names.part_title(item.title, k),
                    part,
                    (part.stop - part.start) / profile.sample_rate,
                )
            )
    return jobs


def _sample_stream(first: ChapterAudio, profile: DeliveryProfile) -> delivery.SampleStream | None:
    """The retail sample encoded with the book's first chapter, if its master is current."""
    encoded = delivery.current(Path(first.wav), profile)
    return encoded.sample if encoded is not None else None


def _m4b_input(item: _Item, profile: DeliveryProfile) -> ChapterInput:
    encoded = delivery.current(item.wav, profile)
    if encoded is None:
        return ChapterInput(item.title, item.wav)
    return ChapterInput(item.title, item.wav, encoded.aac, encoded.aac_frames, encoded.aac_rate)


def _sweep_partials(out_dir: Path) -> None:
    for stale in out_dir.glob(names.PARTIAL_GLOB):
        stale.unlink(missing_ok=True)
    for folder in out_dir.glob(f"{_READALONG_TEMP}*"):
        shutil.rmtree(folder, ignore_errors=True)


def plan_files(
    book_title: str,
    chapter_titles: Sequence[str],
    *,
    chapter_seconds: Sequence[float | None] | None = None,
    chapter_captioned: Sequence[bool] | None = None,
    opening_credits: bool = True,
    closing_credits: bool = True,
    m4b: bool = True,
    mp3: bool = True,
    sample: bool = True,
    captions: bool = True,
    readalong: bool = False,
    profile: DeliveryProfile = ACX,
    max_file_minutes: float | None = None,
) -> list[str]:
    """The names `export_book` will write for these chapters, in its order, before any audio.

    `chapter_seconds` (each chapter's length, None where not known yet) decides which chapters
    are split into MP3 parts and whether the M4B is; the credits, not rendered yet, count as
    nothing there. `chapter_captioned` says which chapters have timings for captions (all, when
    not given); the credits never do.
    """
    n = len(chapter_titles)
    seconds = list(chapter_seconds) if chapter_seconds is not None else [None] * n
    timed = list(chapter_captioned) if chapter_captioned is not None else [True] * n
    tracks = names.tracks(
        chapter_titles, opening_credits=opening_credits, closing_credits=closing_credits
    )
    # Per track in listening order: its length, and whether it has captions.
    lengths = [s or 0.0 for s in seconds]
    if opening_credits:
        lengths, timed = [0.0, *lengths], [False, *timed]
    if closing_credits:
        lengths, timed = [*lengths, 0.0], [*timed, False]
    return names.export_names(
        book_title,
        tracks,
        mp3_parts=[mp3_part_count(s, profile, max_file_minutes) for s in lengths] if mp3 else None,
        m4b_parts=len(m4b_groups(lengths, profile)) if m4b else 0,
        captioned=timed if captions else None,
        sample=sample,
        readalong=readalong,
    )


@contextmanager
def _scratch(out_dir: Path, wanted: bool) -> Iterator[Path | None]:
    """A hidden folder in `out_dir` for the read-along's audio, removed afterwards (or, after a
    kill, by the next export's sweep)."""
    if not wanted:
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix=_READALONG_TEMP, dir=out_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _readalong(
    book: BookExport,
    audio: list[Path],
    seconds: list[float],
    words: Mapping[int, Sequence[WordTiming]] | None,
    out_dir: Path,
) -> ReadAlongResult:
    meta = ReadAlongMeta(
        title=book.title,
        author=book.author,
        narrator=book.narrator,
        language=book.language,
        description=_with_disclosure(book.description, book.disclosure),
        year=book.year,
        cover=Path(book.cover) if book.cover else None,
    )
    chapters = [
        ReadAlongChapter(ch.title, ch.blocks, ch.spans, path, duration, ch.key)
        for ch, path, duration in zip(book.chapters, audio, seconds, strict=True)
    ]
    return build_readalong(meta, chapters, out_dir / names.readalong_name(book.title), words=words)


class _Progress:
    """Combines the progress of parts running on several threads into one fraction."""

    def __init__(self, total: float, callback: Callable[[float], None] | None) -> None:
        self.total = total
        self.callback = callback
        self.done: dict[str, float] = {}
        self.lock = threading.Lock()

    def part(self, name: str, weight: float) -> Callable[[float], None]:
        def report(fraction: float) -> None:
            with self.lock:
                self.done[name] = max(0.0, min(1.0, fraction)) * weight
                overall = sum(self.done.values()) / self.total if self.total else 0.0
            if self.callback:
                self.callback(min(1.0, overall))

        return report


def export_book(
    book: BookExport,
    out_dir: Path,
    *,
    m4b: bool = True,
    mp3: bool = True,
    sample: bool = True,
    captions: bool = True,
    check: bool = True,
    readalong: bool = False,
    words: Mapping[int, Sequence[WordTiming]] | None = None,
    profile: DeliveryProfile = ACX,
    max_file_minutes: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> ExportResult:
    """Write the finished audiobook for `profile` into `out_dir`; see the module docstring.

    `readalong` adds the read-along EPUB of the chapters (not the credits), which needs each
    chapter's blocks; `words` gives word timings by chapter key, for a word-level read-along
    and captions timed word by word.
    """
    if not book.chapters:
        raise ManuscriptError(out_dir, "the book has no mastered chapters", "render the book first")
    if readalong:
        for ch in book.chapters:
            if not ch.blocks:
                raise ManuscriptError(
                    ch.wav,
                    f"chapter '{ch.title}' has no text for the read-along book",
                    "give each ChapterAudio its blocks (app.export.export_project does)",
                )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _sweep_partials(out_dir)
    items = _sequence(book)
    jobs = _plan_mp3(items, profile, max_file_minutes) if mp3 else []
    book_s = sum(_seconds(item.wav, profile)[1] for item in items)
    # Progress weights: encoding is proportional to audio length; checks decode it again.
    chapter_s = [_seconds(Path(ch.wav), profile)[1] for ch in book.chapters] if readalong else []
    work = (
        (book_s * 1.3 if mp3 else 0)
        + (book_s if m4b else 0)
        + (profile.sample_target_s if sample else 0)
        + sum(chapter_s) * 0.5
    )
    tracker = _Progress(work, progress)
    abort = threading.Event()

    result = ExportResult(files=[], manifest=out_dir / names.MANIFEST)
    cover = Path(book.cover) if book.cover else None
    manifest_files: list[dict[str, object]] = []

    # The book's tags; each MP3 and the sample take their own title on top.
    book_tags = Tags(
        title=book.title,
        album=book.title,
        author=book.author,
        narrator=book.narrator,
        year=book.year,
        genre=book.genre,
        description=_with_disclosure(book.description, book.disclosure),
    )

    def guarded(report: Callable[[float], None]) -> Callable[[float], None]:
        def call(f: float) -> None:
            if abort.is_set():  # another file failed: stop this ffmpeg and drop its partial file
                raise ManuscriptError(
                    out_dir, "export stopped", "fix the error above and export again"
                )
            report(f)

        return call

    def mp3_file(track: int, job: _Mp3Job) -> tuple[Path, dict[str, object], acx.AcxReport | None]:
        path = out_dir / job.name
        tags = replace(book_tags, title=job.title, track=track, track_total=len(jobs))
        report_part = tracker.part(f"mp3-{track}", job.seconds)
        if job.stream is not None:
            tag_mp3(job.stream.mp3_stream, path, tags, cover)
            report_part(1.0)
        else:
            encode_mp3(
                job.wav, path, tags, cover, profile, part=job.part, progress=guarded(report_part)
            )
        entry: dict[str, object] = {"file": path.name, "kind": "mp3", "title": job.title}
        report = None
        if check:
            # A copied stream was measured when it was encoded (`audio.delivery`).
            report = (
                job.stream.mp3_report(path, profile)
                if job.stream is not None
                else acx.check(path, profile)
            )
            entry["acx"] = report.as_dict() | {"path": path.name}
        tracker.part(f"check-{track}", job.seconds * 0.3)(1.0)
        return path, entry, report

    readalong_profile = replace(profile, mp3_bitrate_kbps=READALONG_MP3_KBPS)

    def readalong_audio(folder: Path, n: int, ch: ChapterAudio) -> Path:
        return encode_mp3(
            Path(ch.wav),
            folder / f"ch{n:03d}.mp3",
            replace(book_tags, title=ch.title, description=""),
            None,
            readalong_profile,
            progress=guarded(tracker.part(f"readalong-{n}", chapter_s[n - 1] * 0.5)),
        )

    # Each file is one single-threaded ffmpeg: run as many side by side as there are cores, the
    # M4B (the longest) first. Synthesis has finished by now.
    workers = max(2, os.cpu_count() or 2)
    readalong_made: ReadAlongResult | None = None
    # The pool is shut down (its encoders finished) before the scratch folder goes.
    with (
        _scratch(out_dir, readalong) as scratch,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="export") as pool,
    ):
        m4b_future: Future[list[Any]] | None = None
        if m4b:
            m4b_future = pool.submit(
                encode_m4b,
                [_m4b_input(item, profile) for item in items],
                out_dir / names.m4b_name(book.title),
                book_tags,
                cover,
                profile,
                progress=guarded(tracker.part("m4b", book_s)),
            )
        mp3_futures = [pool.submit(mp3_file, t, job) for t, job in enumerate(jobs, start=1)]
        sample_future: Future[SampleResult] | None = None
        if sample:
            sample_future = pool.submit(
                make_sample,
                [SampleSource(Path(ch.wav), ch.spans) for ch in book.chapters],
                out_dir / names.SAMPLE,
                replace(book_tags, title=f"{book.title} (Sample)", description=""),
                cover,
                profile,
                progress=guarded(tracker.part("sample", profile.sample_target_s)),
                encoded=_sample_stream(book.chapters[0], profile),
            )
        readalong_futures = [
            pool.submit(readalong_audio, scratch, n, ch)
            for n, ch in enumerate(book.chapters, start=1)
            if scratch is not None
        ]
        try:
            for future in mp3_futures:
                path, entry, report = future.result()
                if report is not None:
                    result.checks.append(report)
                result.mp3.append(path)
                manifest_files.append(entry)
            parts = m4b_future.result() if m4b_future is not None else []
            made = sample_future.result() if sample_future is not None else None
            if readalong:
                readalong_made = _readalong(
                    book, [f.result() for f in readalong_futures], chapter_s, words, out_dir
                )
        except BaseException:
            abort.set()
            others: list[Future[Any] | None] = [
                *mp3_futures,
                m4b_future,
                sample_future,
                *readalong_futures,
            ]
            for other in others:
                if other is not None:
                    other.cancel()
            # An encoder past its last progress call still finishes and installs its file:
            # wait for them, then take back what they wrote, so a failed export leaves nothing.
            pool.shutdown(wait=True, cancel_futures=True)
            finished = [f for f in others if f is not None and f.done() and not f.cancelled()]
            for future in finished:
                if future.exception() is None:
                    for path in _written(future.result()):
                        path.unlink(missing_ok=True)
            raise

    if captions:
        caption_files = names.caption_names([item.track for item in items])
        for item, files in zip(items, caption_files, strict=True):
            if not item.spans:
                continue
            for name in files:
                timed = words.get(item.key) if words and item.key is not None else None
                text = _CAPTION_WRITERS[Path(name).suffix](item.spans, timed)
                path = write_text_atomic(out_dir / name, text)
                result.captions.append(path)
                kind = path.suffix[1:]
                manifest_files.append({"file": path.name, "kind": kind, "title": item.title})

    m4b_chapters: list[dict[str, object]] = []
    for part in parts:
        result.m4b.append(part.path)
        manifest_files.append(
            {"file": part.path.name, "kind": "m4b", "duration_s": round(part.duration_s, 3)}
        )
        m4b_chapters += [
            {
                "file": part.path.name,
                "title": m.title,
                "start_s": round(m.start_s, 3),
                "end_s": round(m.end_s, 3),
            }
            for m in part.chapters
        ]

    sample_info: dict[str, object] | None = None
    if made is not None:
        result.sample = made.path
        sample_info = {
            "file": made.path.name,
            "start_s": round(made.start_s, 3),
            "duration_s": round(made.duration_s, 3),
        }
        manifest_files.append({"file": made.path.name, "kind": "sample"})

    if readalong_made is not None:
        result.readalong = readalong_made.path
        levels = sorted({c.level for c in readalong_made.chapters})
        manifest_files.append(
            {
                "file": readalong_made.path.name,
                "kind": "readalong",
                "level": levels[0] if len(levels) == 1 else "mixed",
                "duration_s": round(readalong_made.duration_s, 3),
            }
        )

    result.files = [out_dir / str(f["file"]) for f in manifest_files]
    manifest = {
        "title": book.title,
        "author": book.author,
        "narrator": book.narrator,
        "disclosure": book.disclosure,
        "profile": profile.name,
        "files": manifest_files,
        "m4b_chapters": m4b_chapters,
        "sample": sample_info,
        "passed": result.passed,
    }
    write_text_atomic(result.manifest, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    result.files.append(result.manifest)
    if progress:
        progress(1.0)
    return result
