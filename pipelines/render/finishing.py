"""Finishing a synthesized chapter: assemble its chunks, master it for the delivery profile,
check it against ACX and record the render (spans, duration, check, the script hash)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.audio.profiles import DeliveryProfile
from pipelines.core.model import Chapter
from pipelines.render.planner import PlannedChunk, Planner, script_hash
from pipelines.store import Project
from pipelines.store.jobs import Job
from pipelines.store.renders import RenderRow, save_render


class Finisher:
    """Assembles, masters and checks planned chapters into the project's `renders/` folder.

    `profile` gives the delivery profile to master for, read when each chapter is mastered;
    `stage` times a stage by name (the render service's stage clock).
    """

    def __init__(
        self,
        project: Project,
        planner: Planner,
        profile: Callable[[], DeliveryProfile],
        stage: Callable[[str], AbstractContextManager[None]],
    ) -> None:
        self.project = project
        self.planner = planner
        self._profile = profile
        self._stage = stage

    def assemble_and_master(self, name: str, plan: list[PlannedChunk]) -> tuple[Path, Any, Any]:
        from pipelines.audio.acx import check
        from pipelines.audio.assemble import Segment, assemble_chapter
        from pipelines.audio.master import master_chapter

        pauses = self.planner.pauses
        segments = [
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
        out_dir = self.project.root / "renders"
        out_dir.mkdir(exist_ok=True)
        raw = out_dir / f".{name}.raw.wav"
        final = out_dir / f"{name}.wav"
        profile = self._profile()
        with self._stage("assembly"):
            assembly = assemble_chapter(segments, raw, profile)
        with self._stage("mastering"):
            master_chapter(raw, final, profile)
        raw.unlink(missing_ok=True)
        with self._stage("acx check"):
            report = check(final, profile)
        return final, assembly, report

    def finish_chapter(
        self, job: Job, chapter: Chapter, plan: list[PlannedChunk]
    ) -> tuple[float, bool]:
        """Master the chapter and record its render; (duration in seconds, ACX check passed)."""
        final, assembly, report = self.assemble_and_master(f"chapter-{chapter.id}", plan)
        spans = [
            {"start": s.start_s, "end": s.end_s, "text": s.text, "voice": s.voice}
            for s in assembly.spans
        ]
        save_render(
            self.project,
            RenderRow(
                chapter_id=chapter.id or 0,
                job_id=job.id,
                script_hash=script_hash(plan, self.planner.pauses),
                wav=str(final.relative_to(self.project.root)),
                spans=spans,
                duration_s=report.duration_s,
                acx=report.as_dict(),
                acx_passed=report.passed,
                rendered_at=datetime.now(UTC).isoformat(timespec="seconds"),
            ),
        )
        return report.duration_s, report.passed
