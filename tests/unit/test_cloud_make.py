"""A whole book through each cloud voice, headless, against the stand-in servers; the cost
estimate and cap; a re-run that costs nothing."""

from __future__ import annotations

import argparse
import contextlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.app.cost import check_cost_cap, estimate_cost, set_cost_cap
from pipelines.app.imports import import_manuscript
from pipelines.cli.keys import add_key_commands
from pipelines.cli.main import main
from pipelines.core.model import VoiceRef
from pipelines.engines.cloud.common import CostCapExceeded
from tests.standins.common import StandIn
from tests.standins.elevenlabs_server import ElevenLabsStandIn
from tests.standins.fixtures import announce_elevenlabs, announce_openai
from tests.standins.openai_server import OpenAIStandIn

BOOK = """# The Harbour

The ferry left the harbour an hour before dawn. Nobody on the quay had expected the fog to
lift so quickly.

By noon the islands were plain against a hard blue sky.

# The Ledger

Martha counted the crates twice and wrote the total in her book. Her brother laughed and said
the sea would not care about her sums.
"""
VOICES = {"openai": "openai:alloy", "elevenlabs": "elevenlabs:21m00Tcm4TlvDq8ikWAM"}


@pytest.fixture(params=sorted(VOICES))
def provider(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server: StandIn
    if request.param == "openai":
        server = OpenAIStandIn(lifetime_s=300)
        announce_openai(monkeypatch, server)
    else:
        server = ElevenLabsStandIn(lifetime_s=300)
        announce_elevenlabs(monkeypatch, server)
    monkeypatch.setattr(request.node, "standin", server, raising=False)
    with server:
        yield request.param


@pytest.fixture
def manuscript(tmp_path: Path) -> Path:
    path = tmp_path / "harbour.md"
    path.write_text(BOOK, encoding="utf-8")
    return path


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_make_renders_a_whole_book_through_the_cloud_voice_and_a_rerun_is_free(
    provider: str, manuscript: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    server: StandIn = request.node.standin
    out, project = tmp_path / "out", tmp_path / "project"
    argv = ["make", str(manuscript), "--voice", VOICES[provider], "--out", str(out)]
    argv += ["--project", str(project), "--workers", "1"]
    assert main(argv) == 0
    names = sorted(p.name for p in out.iterdir())
    assert "harbour.m4b" in names
    assert {"01 - The Harbour.mp3", "02 - The Ledger.mp3"} <= set(names)
    spoken = " ".join(str(r.get("input") or r.get("text")) for r in server.requests)
    assert "Martha counted the crates twice" in spoken
    sent = len(server.requests)

    assert main(argv) == 0  # everything is in the chunk cache now
    assert len(server.requests) == sent


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_the_estimate_counts_what_is_not_cached_and_the_cap_refuses(
    provider: str, manuscript: Path, tmp_path: Path
) -> None:
    project = import_manuscript(manuscript, str(tmp_path / "project"))
    voice = VoiceRef.parse(VOICES[provider])
    with project:
        estimate = estimate_cost(project, voice)
        assert estimate.chars_total > len("Martha counted the crates twice")
        assert estimate.chars_cached == 0 and estimate.cap_usd is None
        assert estimate.usd == pytest.approx(
            estimate.chars_billed * estimate.price_per_million / 1e6, abs=1e-4
        )
        if provider == "openai":
            assert estimate.chars_billed == estimate.chars_total
            assert estimate.notice == ""  # the default: the Realtime successor
            old = estimate_cost(project, voice, settings={"model": "gpt-4o-mini-tts"})
            assert "2027-01-06" in old.notice and "gpt-realtime-2.1-mini" in old.notice
        check_cost_cap(estimate)  # no cap: fine
        set_cost_cap(project, estimate.usd / 2)
        capped = estimate_cost(project, voice)
        with pytest.raises(CostCapExceeded, match="over this book's cap"):
            check_cost_cap(capped)

    parser = argparse.ArgumentParser()
    add_key_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["cost", str(tmp_path / "project"), "--voice", VOICES[provider]])
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert args.handler(args) == 3  # over the cap
    assert "OVER THE CAP" in printed.getvalue()


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_a_sentence_repeated_in_a_chapter_is_billed_once(provider: str, tmp_path: Path) -> None:
    line = "The bell rang again over the empty harbour."
    book = tmp_path / "refrain.md"
    book.write_text("# The Refrain\n\n" + "\n\n".join([line] * 12) + "\n", encoding="utf-8")
    project = import_manuscript(book, str(tmp_path / "project"))
    with project:
        estimate = estimate_cost(project, VoiceRef.parse(VOICES[provider]))
    assert estimate.chars_total >= 12 * len(line)
    # the eleven repeats are synthesized from the first one's chunk, so only it is billed
    assert estimate.chars_total - estimate.chars_cached <= 2 * len(line)
