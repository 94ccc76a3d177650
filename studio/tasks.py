"""Background work for the GUI: asyncio tasks kept referenced until done, failures reported.

A task that nobody references can be garbage-collected mid-flight, so every task the window
starts lives in `TaskKeeper` until it ends. A named slot holds one task at a time: starting a new
"preview" cancels the one before it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pipelines.core.errors import StudioError

log = logging.getLogger(__name__)
T = TypeVar("T")
ErrorHandler = Callable[[str], None]


def describe_error(exc: BaseException) -> str:
    """One line for the author: a StudioError says what and how to fix; anything else is named
    without a traceback (the traceback goes to the log)."""
    if isinstance(exc, StudioError):
        return exc.message
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    text = str(exc) or type(exc).__name__
    return f"Something went wrong: {text}"


class TaskKeeper:
    def __init__(self, on_error: ErrorHandler) -> None:
        self._on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()
        self._slots: dict[str, asyncio.Task[Any]] = {}

    def spawn(self, coro: Coroutine[Any, Any, T], *, slot: str | None = None) -> asyncio.Task[T]:
        if slot is not None:
            previous = self._slots.get(slot)
            if previous is not None and not previous.done():
                previous.cancel()
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        if slot is not None:
            self._slots[slot] = task
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        for name, held in list(self._slots.items()):
            if held is task:
                del self._slots[name]
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            if not isinstance(exc, StudioError):
                log.error("background task failed", exc_info=exc)
            self._on_error(describe_error(exc))

    def current(self, slot: str) -> asyncio.Task[Any] | None:
        return self._slots.get(slot)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait for every task still running (used when a project closes)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def cancel_others(self) -> None:
        """Cancel every task but the one calling (which is closing what the others work on)."""
        me = asyncio.current_task()
        for task in list(self._tasks):
            if task is not me:
                task.cancel()
