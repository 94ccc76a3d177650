"""Finishing a synthesized chapter: assemble its chunks, master it for the delivery profile
(measuring it for ACX and encoding its delivery streams on the way, `audio.delivery`) and
describe the render (spans, duration, check, the script hash).

Every intermediate has a name of its own (two processes may finish chapters of one project at
once), and a chapter's mastered file waits under a hidden name until the render service records
it (`FinishedChapter.install`), so the file under the chapter's name always matches its render
row. `sweep` removes what a killed process left in `renders/`.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.audio.assemble import Assembly, Segment, assemble_chapter
from pipelines.audio.delivery import StagedDelivery, StreamEncoder, aac_rate, forget
from pipelines.audio.profiles import DeliveryProfile
from pipelines.core.model import Chapter
from pipelines.render.assembler import StreamingAssembly
from pipelines.render.cache import is_temp_name, temp_stem
from pipelines.render.planner import PlannedChunk, Planner, script_hash
from pipelines.store import Project
from pipelines.store.jobs import Job
from pipelines.store.renders import RenderRow

# A temporary file not named for a chapter (credits) is left alone this long: no lease says
# whether its writer still lives, but writing one takes seconds.
UNLEASED_TEMP_AGE_S = 600.0
_CHAPTER = re.compile(r"chapter-(\d+)")


def chapter_name(chapter: Chapter) -> str:
    """The stem of a chapter's files in `renders/`."""
    return f"chapter-{chapter.id}"


@dataclass(slots=True)
class FinishedChapter:
    """A mastered chapter, waiting under `staged` to replace `final` when its render is
    recorded."""

    render: RenderRow
    staged: Path
    final: Path
    delivery: StagedDelivery | None = None

    @property
    def duration_s(self) -> float:
        return self.render.duration_s

    @property
    def passed(self) -> bool:
        return self.render.acx_passed

    def install(self) -> None:
        # Streams first: their sidecar names the staged master, so it matches nothing here
        # until the master is in place.
        if self.delivery is not None:
            self.delivery.install(self.final, master=self.staged)
        else:
            forget(self.final)
        os.replace(self.staged, self.final)

    def discard(self) -> None:
        self.staged.unlink(missing_ok=True)
        if self.delivery is not None:
            self.delivery.discard()


class Finisher:
    """Assembles, masters and checks planned chapters into the project's `renders/` folder.

    `profile` gives the delivery profile to master for, read when each chapter is mastered;
    `stage` times a stage by name (the render service's stage clock); `background` says
    whether synthesis still has work, when encoders give it the cores first; `encode` whether
    to encode delivery streams at all.
    """

    def __init__(
        self,
        project: Project,
        planner: Planner,
        profile: Callable[[], DeliveryProfile],
        stage: Callable[[str], AbstractContextManager[None]],
        background: Callable[[], bool] = lambda: False,
        *,
        encode: bool = True,
    ) -> None:
        self.project = project
        self.planner = planner
        self._profile = profile
        self._stage = stage
        self._background = background
        self.encode = encode

    @property
    def out_dir(self) -> Path:
        return self.project.root / "renders"

    def _segments(self, plan: list[PlannedChunk]) -> list[Segment]:
        pauses = self.planner.pauses
        return [
            Segment(
                path=p.path,
                pause_after_s=0.0
                if i == len(plan) - 1
                else pauses.seconds(p.utterance.pause_after),
                text=p.utterance.text,
                voice=str(p.utterance.voice or ""),
            )
            for i, p in enumerate(plan)
        ]

    def _raw(self, name: str) -> Path:
        self.out_dir.mkdir(exist_ok=True)
        return self.out_dir / f".{name}.{uuid.uuid4().hex[:12]}.raw.wav"

    def start_assembly(self, name: str, plan: list[PlannedChunk]) -> StreamingAssembly:
        """Begin assembling `renders/NAME`'s chunks as they arrive in the cache (the caller
        tells it of each, `StreamingAssembly.arrived`); `assemble_and_master` takes it."""
        return StreamingAssembly(
            plan, self._segments(plan), self._raw(name), self._profile(), highpass=True
        )

    def assemble_and_master(
        self,
        name: str,
        plan: list[PlannedChunk],
        *,
        staged: bool = False,
        assembling: StreamingAssembly | None = None,
        sample: bool = False,
    ) -> tuple[Path, Assembly, Any, StagedDelivery | None]:
        """Assemble and master `plan` into `renders/NAME.wav` (with `staged`, into a hidden
        name beside it, which is returned); (the mastered file, assembly, ACX report, delivery
        streams: staged beside a staged master, installed beside a final one). `assembling`
        is the chapter's assembly already under way (`start_assembly`); else it is assembled
        here. `sample`: the chapter opens the book, so its streams include the retail sample
        when it holds all of it."""
        from pipelines.audio.master import master_chapter
        from pipelines.audio.sample import chapter_cut

        out_dir = self.out_dir
        raw = assembling.path if assembling is not None else self._raw(name)
        unique = raw.name.removeprefix(f".{name}.").removesuffix(".raw.wav")
        final = out_dir / (f".{name}.{unique}.master.wav" if staged else f"{name}.wav")
        profile = assembling.profile if assembling is not None else self._profile()
        background = self._background()
        encoder_at = final if staged else out_dir / f".{name}.{unique}.master.wav"

        cut: tuple[int, int] | None = None
        source_rate = 0  # the chapter's widest voice, known once it is assembled

        def sink() -> StreamEncoder:
            rate = aac_rate(profile, source_rate)
            return StreamEncoder(
                encoder_at, profile, background=background, sample=cut, aac_rate=rate
            )

        delivery: StagedDelivery | None = None
        try:
            if assembling is not None:
                with self._stage("assembly"):  # what is left: the last chunks, the tail
                    assembly = assembling.result()
            else:
                with self._stage("assembly"):
                    assembly = assemble_chapter(self._segments(plan), raw, profile, highpass=True)
            source_rate = assembly.source_rate
            if sample and assembly.sample_rate == profile.sample_rate:
                cut = chapter_cut(assembly.frames, assembly.spans, profile)
            with self._stage("mastering"):
                mastered = master_chapter(
                    raw,
                    final,
                    profile,
                    input_rms_db=assembly.highpass_rms_db,
                    highpassed=assembly.highpassed,
                    sink=sink if self.encode else None,
                )
            report = mastered.acx
            if mastered.sink is not None:
                with self._stage("encoding"):
                    delivery = mastered.sink.finish(report)
            if not staged:
                if delivery is not None:
                    delivery.install(final, master=final)
                    delivery = None
                else:
                    forget(final)
        except BaseException:
            if staged:
                final.unlink(missing_ok=True)
            if delivery is not None:
                delivery.discard()
            raise
        finally:
            if assembling is not None:
                assembling.abort()
            raw.unlink(missing_ok=True)
        return final, assembly, report, delivery

    def finish_chapter(
        self,
        job: Job,
        chapter: Chapter,
        plan: list[PlannedChunk],
        assembling: StreamingAssembly | None = None,
    ) -> FinishedChapter:
        """Master the chapter (assembled by `assembling` when given) and describe its render;
        the caller records it (and installs the staged file) or discards it."""
        name = chapter_name(chapter)
        staged, assembly, report, delivery = self.assemble_and_master(
            name, plan, staged=True, assembling=assembling, sample=self._opens_book(chapter)
        )
        final = self.out_dir / f"{name}.wav"
        report.path = str(final)
        spans = [
            {"start": s.start_s, "end": s.end_s, "text": s.text, "voice": s.voice}
            for s in assembly.spans
        ]
        row = RenderRow(
            chapter_id=chapter.id or 0,
            job_id=job.id,
            script_hash=script_hash(plan, self.planner.pauses),
            wav=str(final.relative_to(self.project.root)),
            spans=spans,
            duration_s=report.duration_s,
            acx=report.as_dict(),
            acx_passed=report.passed,
            rendered_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        return FinishedChapter(row, staged, final, delivery)

    def _opens_book(self, chapter: Chapter) -> bool:
        """Whether the chapter is the first one read, where the export's retail sample starts."""
        first = next((c for c in self.project.chapters(with_blocks=False) if c.included), None)
        return first is not None and first.id == chapter.id

    def sweep(self, leased: Callable[[], set[int]]) -> int:
        """Remove the temporary files killed processes left in `renders/`: a chapter's when no
        live process holds its job (`leased` gives those chapters, asked after the folder is
        listed, so a file listed belongs to a job already leased if its writer lives), other
        ones once they are old. Returns the files removed."""
        out_dir = self.out_dir
        if not out_dir.is_dir():
            return 0
        temps = [e for e in os.scandir(out_dir) if e.is_file() and is_temp_name(e.name)]
        if not temps:
            return 0
        busy = leased()
        now = time.time()
        removed = 0
        for entry in temps:
            match = _CHAPTER.fullmatch(temp_stem(entry.name))
            if match is not None:
                if int(match.group(1)) in busy:
                    continue
            else:
                with contextlib.suppress(OSError):
                    if now - entry.stat().st_mtime < UNLEASED_TEMP_AGE_S:
                        continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
        return removed
