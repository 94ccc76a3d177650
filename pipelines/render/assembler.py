"""A chapter assembled while it synthesizes: each chunk is written as soon as it and every chunk
before it are in the cache, on a thread of its own, so that after the last chunk only that
chunk and the tail remain to assemble (`ChapterWriter` does the writing).

Chunks arrive out of order (several workers); the thread waits for the next one in reading
order and is told of arrivals by `arrived`. A stopped or failed job calls `abort`, which ends
the thread and leaves no file.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from pipelines.audio.assemble import Assembly, ChapterWriter, Segment
from pipelines.audio.profiles import DeliveryProfile
from pipelines.render.planner import PlannedChunk

POLL_S = 0.5  # a missed wake-up costs at most this; arrivals normally wake the thread at once


class StreamingAssembly:
    """Writes `segments` (one per planned chunk, in order) into `out_wav` for `profile` as
    `items` turn up in the cache (`PlannedChunk.cached`); `result` waits for the whole
    chapter."""

    def __init__(
        self,
        items: Sequence[PlannedChunk],
        segments: Sequence[Segment],
        out_wav: Path,
        profile: DeliveryProfile,
        *,
        highpass: bool = False,
    ) -> None:
        if len(items) != len(segments):
            raise ValueError("one segment per planned chunk")
        self._items = list(items)
        self._segments = list(segments)
        self.path = out_wav
        self.profile = profile
        self._highpass = highpass
        self._wake = threading.Condition()
        self._aborted = False
        self._assembly: Assembly | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="assembly", daemon=True)
        self._thread.start()

    def arrived(self) -> None:
        """A chunk is in the cache (any chunk: the thread looks at the next it needs)."""
        with self._wake:
            self._wake.notify_all()

    def _next_ready(self, item: PlannedChunk) -> bool:
        """Wait until `item` is in the cache; False once aborted."""
        with self._wake:
            while not item.cached and not self._aborted:
                self._wake.wait(POLL_S)
            return not self._aborted

    def _run(self) -> None:
        writer: ChapterWriter | None = None
        try:
            for item, seg in zip(self._items, self._segments, strict=True):
                if not self._next_ready(item):
                    break
                if writer is None:
                    writer = self._writer()
                writer.add(seg)
            else:
                if writer is None:
                    writer = self._writer()
                self._assembly = writer.finish()
                writer = None
        except BaseException as exc:  # handed to whoever waits for the result
            self._error = exc
        finally:
            if writer is not None:
                writer.abort()

    def _writer(self) -> ChapterWriter:
        return ChapterWriter(self.path, self.profile, highpass=self._highpass)

    def result(self) -> Assembly:
        """The assembled chapter, once every chunk is in (they must all arrive: call this
        after synthesis has finished)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._assembly is None:
            raise RuntimeError("the assembly was aborted")
        return self._assembly

    def abort(self) -> None:
        """Stop writing and remove what was written; harmless after `result`."""
        with self._wake:
            self._aborted = True
            self._wake.notify_all()
        self._thread.join()
        self.path.unlink(missing_ok=True)
