"""A cloud book keeps its engine's request slots busy across chapters: the next chapter's requests
start while the last ones of the chapter before are still being answered, and never more than
the engine's concurrency are in flight at once. Against the OpenAI stand-in, each request held
a fixed latency; only the order and overlap of the requests are checked, not their speed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.app.imports import import_manuscript
from pipelines.core.model import VoiceRef
from pipelines.engines.base import text_to_speak
from pipelines.render.service import RenderService
from pipelines.store import Project
from tests.standins.common import Span
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

ALLOY = VoiceRef("openai", "alloy")
CONCURRENCY = 4
LATENCY_S = 0.3


def _chapter(title: str, n: int) -> str:
    paragraphs = [
        f"{title} paragraph {i}: the ferry crossed the grey water while the gulls wheeled "
        f"overhead, and Martha counted crate number {i} for the ledger once more."
        for i in range(n)
    ]
    return f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(lifetime_s=300, latency_s=LATENCY_S) as s:
        announce_openai(monkeypatch, s)
        monkeypatch.setenv("AUDIOBOOK_STUDIO_OPENAI_CONCURRENCY", str(CONCURRENCY))
        yield s


@pytest.fixture
def book(tmp_path: Path) -> Iterator[Project]:
    source = tmp_path / "crossing.md"
    source.write_text(_chapter("Outward", 16) + "\n" + _chapter("Homeward", 16), encoding="utf-8")
    root = tmp_path / "project"
    import_manuscript(source, root).close()
    with Project.open(root) as project:
        yield project


def _most_in_flight(spans: list[Span]) -> int:
    edges = sorted([(s.start, 1) for s in spans] + [(s.end, -1) for s in spans])
    now = most = 0
    for _, step in edges:  # at equal times an end (-1) sorts before a start
        now += step
        most = max(most, now)
    return most


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_the_next_chapter_is_requested_while_the_last_chunks_are_in_flight(
    server: OpenAIStandIn, book: Project
) -> None:
    chapters = book.chapters(with_blocks=False)
    assert len(chapters) == 2
    # The engine's own concurrency: one worker process per request slot.
    with RenderService(book) as service:
        service.enqueue([c.id or 0 for c in chapters], ALLOY)
        assert service.run() == 2
        owner: dict[str, int] = {}
        for index, c in enumerate(chapters):
            for chunk in service.plan(book.chapter_by_id(c.id or 0), ALLOY, {}):
                owner.setdefault(text_to_speak(chunk.utterance), index)
    assert {r["state"] for r in book.query("SELECT state FROM jobs")} == {"done"}

    spans = list(server.spans)
    texts = [s.text for s in spans]
    assert sorted(texts) == sorted(owner)  # every chunk asked for once, nothing else
    first = [s for s in spans if owner[s.text] == 0]
    second = [s for s in spans if owner[s.text] == 1]
    assert len(first) > 2 * CONCURRENCY and len(second) > 2 * CONCURRENCY
    # The second chapter's first request started before the first chapter's last one ended ...
    assert min(s.start for s in second) < max(s.end for s in first)
    # ... and the slots were never overbooked.
    assert _most_in_flight(spans) <= CONCURRENCY
