"""How much of a cloud engine's allowed concurrency a book's render keeps busy.

Renders a few chapters of a real book through `RenderService` on the OpenAI engine against the
local stand-in (`tests/standins/openai_server.py`, Speech API model tts-1, every request
answered after `--latency` seconds), with the engine's concurrency at `--concurrency`. From the
stand-in's record of every synthesis request (monotonic start and end) it prints:

- requests, and the synthesis wall time (first request's start to the last one's end);
- the busy share: the requests' summed durations / (concurrency x synthesis wall time);
- per chapter, its tail: the slot-seconds that stood idle from the start of the chapter's last
  request until the next chapter's requests filled the slots, and how long the next chapter's
  first request started before (+) or after (-) this chapter's last request ended.

The goal: a share of at least 90% at latency 0.5 s and concurrency 4. Nothing reaches the
network: the key is a fake one and the SDK is pointed at the stand-in through the environment,
as the tests do.

    .venv/bin/python bench/cloud_concurrency_bench.py [--chapters 4] [--latency 0.5]
        [--concurrency 4] [--book ../shared/corpus/wells_the-time-machine.txt]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.app.imports import import_manuscript  # noqa: E402
from pipelines.core.model import VoiceRef  # noqa: E402
from pipelines.engines.base import text_to_speak  # noqa: E402
from pipelines.render.service import RenderService  # noqa: E402
from pipelines.store.settings import NARRATOR  # noqa: E402
from tests.standins.common import Span  # noqa: E402
from tests.standins.openai_server import OpenAIStandIn  # noqa: E402

VOICE = VoiceRef("openai", "alloy")
MODEL = "tts-1"  # the Speech API over plain HTTP (works until 2027-01-06)


def in_flight_idle(spans: list[Span], slots: int, start: float, end: float) -> float:
    """Slot-seconds in [start, end] during which fewer than `slots` requests were in flight."""
    if end <= start:
        return 0.0
    edges = sorted(
        [(max(s.start, start), 1) for s in spans if s.end > start and s.start < end]
        + [(min(s.end, end), -1) for s in spans if s.end > start and s.start < end]
    )
    idle, busy, at = 0.0, 0, start
    for t, step in edges:
        idle += max(0, slots - busy) * (t - at)
        busy += step
        at = t
    return idle + max(0, slots - busy) * (end - at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--book", type=Path, default=REPO.parent / "shared/corpus/wells_the-time-machine.txt"
    )
    parser.add_argument("--chapters", type=int, default=4, help="the first N chapters")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=4, help="the engine's concurrency")
    args = parser.parse_args()
    warnings.simplefilter("ignore", FutureWarning)  # tts-1's shutdown notice

    with (
        tempfile.TemporaryDirectory(prefix="bench-cloud-") as tmp,
        OpenAIStandIn(lifetime_s=3600, latency_s=args.latency) as server,
    ):
        os.environ["AUDIOBOOK_STUDIO_HOME"] = str(Path(tmp) / "home")
        # The engine's worker processes inherit these: the stand-in, a fake key, the model.
        os.environ["OPENAI_BASE_URL"] = server.base_url
        os.environ["OPENAI_API_KEY"] = server.api_key
        os.environ["AUDIOBOOK_STUDIO_OPENAI_REALTIME_BASE_URL"] = server.realtime_url
        os.environ["AUDIOBOOK_STUDIO_OPENAI_MODEL"] = MODEL
        os.environ["AUDIOBOOK_STUDIO_OPENAI_CONCURRENCY"] = str(args.concurrency)
        os.environ["PYTHONWARNINGS"] = "ignore::FutureWarning"

        project = import_manuscript(args.book, Path(tmp) / "project")
        everything = project.chapters(with_blocks=False)
        chapters = [c for c in everything if c.included][: args.chapters]
        chosen = {c.id for c in chapters}
        for number, c in enumerate(everything, 1):
            if c.included and c.id not in chosen:
                project.set_included(number, False)
        project.set_setting(NARRATOR, f"{VOICE.engine}:{VOICE.voice_id}")
        started = time.perf_counter()
        with RenderService(project) as service:
            service.enqueue([c.id for c in chapters if c.id], VOICE)
            service.run()
            render_s = time.perf_counter() - started
            stages = dict(service.stage_seconds)
            # Which chapter each request spoke (a sentence met again is spoken once: its first).
            owner: dict[str, int] = {}
            for index, c in enumerate(chapters):
                chapter = project.chapter_by_id(c.id or 0)
                for chunk in service.plan(chapter, VOICE, {}):
                    owner.setdefault(text_to_speak(chunk.utterance), index)
        states = sorted({r["state"] for r in project.query("SELECT state FROM jobs")})
        project.close()
        spans = sorted(server.spans, key=lambda s: s.start)

    if not spans:
        raise SystemExit("no synthesis requests reached the stand-in")
    slots = args.concurrency
    first, last = spans[0].start, max(s.end for s in spans)
    wall = last - first
    busy = sum(s.end - s.start for s in spans)
    share = busy / (slots * wall)
    print(
        f"book: {args.book.name}, {len(chapters)} chapters, latency {args.latency:g} s, "
        f"concurrency {slots}; jobs {', '.join(states)}; render {render_s:.1f} s "
        f"(script {stages.get('script', 0):.1f} s, mastering {stages.get('mastering', 0):.1f} s)"
    )
    unknown = sum(1 for s in spans if s.text not in owner)
    print(f"requests: {len(spans)}" + (f" ({unknown} not matched to a chapter)" if unknown else ""))
    print(f"synthesis wall time: {wall:.2f} s (first request start to last request end)")
    print(f"request time: {busy:.2f} s; idle slot time: {slots * wall - busy:.2f} slot-s")
    print(f"busy share: {100 * share:.1f}% of {slots} slots (goal >= 90%)")
    by_chapter: list[list[Span]] = [[] for _ in chapters]
    for s in spans:
        if s.text in owner:
            by_chapter[owner[s.text]].append(s)
    print("per chapter (tail: idle slot-s from its last request's start until the next fills the")
    print("slots; overlap: next chapter's first start before (+) / after (-) its last end):")
    for index, mine in enumerate(by_chapter):
        if not mine:
            print(f"  {index + 1:>2}. {chapters[index].title[:40]:<40} no requests")
            continue
        tail_from = max(s.start for s in mine)
        last_end = max(s.end for s in mine)
        following = next((c for c in by_chapter[index + 1 :] if c), None)
        if following:
            starts = sorted(s.start for s in following)
            filled = max(tail_from, starts[min(slots, len(starts)) - 1])
            overlap = f"{last_end - starts[0]:+6.2f} s"
        else:  # the book's end: the tail is its last requests draining
            filled, overlap = last_end, "   (end)"
        tail = in_flight_idle(spans, slots, tail_from, filled)
        print(
            f"  {index + 1:>2}. {chapters[index].title[:40]:<40} {len(mine):4d} requests, "
            f"tail idle {tail:5.2f} slot-s, overlap {overlap}"
        )


if __name__ == "__main__":
    main()
