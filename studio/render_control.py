"""Runs the project's render queue on a worker thread and forwards the author's queue actions.

The render service is synchronous; it runs under `asyncio.to_thread` so the window stays live.
Pause and cancel only change a job's state in the queue: the running service looks at that
state after every chunk and stops there. Closing the project cancels the run through a token,
which puts the job in flight back in the queue, so the queue survives a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal

from pipelines.app.render import prepare_render, queue_render
from pipelines.engines.base import CancelToken
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.jobs import Job, JobState
from studio.bridge import RenderBridge
from studio.tasks import TaskKeeper


class RenderController(QObject):
    running_changed = Signal(bool)
    jobs_changed = Signal()  # the set of jobs or their states changed outside the service
    notice = Signal(str)  # a one-time notice the plan carried (a cloud model's successor...)

    def __init__(
        self,
        project: Project,
        bridge: RenderBridge,
        tasks: TaskKeeper,
        workers: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.bridge = bridge
        self.tasks = tasks
        self.service = RenderService(project, bridge, workers=workers)
        self._token: CancelToken | None = None
        self._run_task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._run_task is not None and not self._run_task.done()

    # -- reading ---------------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """The newest job of each chapter, in reading order."""
        latest: dict[int, Job] = {}
        for job in self.service.queue.all():
            latest[job.chapter_id] = job
        return list(latest.values())

    # -- actions ---------------------------------------------------------------------------------

    async def enqueue(self, chapter_ids: Iterable[int]) -> list[int]:
        """Queue the chapters with the cast's voices, by the same checks as the command line
        (the cost cap first); a refusal queues nothing and reaches the window as an error."""
        chosen = list(chapter_ids)

        notices: list[str] = []

        def work() -> list[int]:
            plan = prepare_render(self.project, self.service, chapter_ids=chosen, force=True)
            notices.extend(plan.notices)
            return queue_render(self.service, plan)

        ids = await asyncio.to_thread(work)
        self.jobs_changed.emit()
        for text in notices:
            self.notice.emit(text)
        return ids

    def start(self) -> None:
        """Render every queued job, one after another, until the queue is empty."""
        if self.running:
            return
        self._token = CancelToken()
        self._run_task = self.tasks.spawn(self._run(self._token))
        self.running_changed.emit(True)

    async def _run(self, token: CancelToken) -> None:
        try:
            while not token.cancelled:
                await asyncio.to_thread(self.service.run, token)
                # A job queued while the last one finished would otherwise wait for a click.
                if token.cancelled or not await asyncio.to_thread(self._has_queued):
                    break
        finally:
            self._run_task = None
            self.running_changed.emit(False)
            self.jobs_changed.emit()

    def _has_queued(self) -> bool:
        return any(j.state is JobState.QUEUED for j in self.service.queue.all())

    async def _each(self, job_ids: Iterable[int], action: str, allowed: set[JobState]) -> int:
        def work() -> int:
            changed = 0
            for job_id in job_ids:
                if self.service.queue.state(job_id) in allowed:
                    getattr(self.service, action)(job_id)
                    changed += 1
            return changed

        changed = await asyncio.to_thread(work)
        self.jobs_changed.emit()
        return changed

    async def pause(self, job_ids: Iterable[int]) -> int:
        return await self._each(job_ids, "pause", {JobState.QUEUED, JobState.RUNNING})

    async def resume(self, job_ids: Iterable[int]) -> int:
        n = await self._each(job_ids, "resume", {JobState.PAUSED})
        if n:
            self.start()
        return n

    async def cancel(self, job_ids: Iterable[int]) -> int:
        return await self._each(
            job_ids, "cancel", {JobState.QUEUED, JobState.RUNNING, JobState.PAUSED}
        )

    async def retry(self, job_ids: Iterable[int]) -> int:
        n = await self._each(job_ids, "retry", {JobState.FAILED, JobState.CANCELLED})
        if n:
            self.start()
        return n

    async def rerender(self, chapter_ids: Iterable[int]) -> list[int]:
        """Queue finished chapters again with the current cast (cached chunks are reused)."""
        ids = await self.enqueue(chapter_ids)
        self.start()
        return ids

    async def stop(self) -> None:
        """Stop after the chunk in flight; the job goes back to the queue for next time."""
        if self._token is not None:
            self._token.cancel()
        task = self._run_task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def close(self) -> None:
        await self.stop()
        await asyncio.to_thread(self.service.close)
