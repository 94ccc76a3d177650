"""The optional model pass over speakers, through the CLI and the real `openai` SDK over HTTP to
the local stand-in (`/v1/chat/completions`), which answers each quotation id of the request's
schema by a rule the test sets and records what it was sent. These tests check what is sent,
when, and what becomes of the answers; they say nothing of how often a real model is right."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.cli.main import main
from pipelines.script.attribution import LOW_CONFIDENCE
from tests.standins.openai_server import OpenAIStandIn
from tests.standins.quay import quay_project, serving_openai


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    yield from serving_openai(monkeypatch)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return quay_project(tmp_path)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def quotes(capsys: pytest.CaptureFixture[str], project: Path) -> list[dict[str, Any]]:
    code, out, _ = cli(capsys, "cast", str(project), "--json", "quotes")
    assert code == 0
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


def opt_in(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, out, _ = cli(capsys, "cast", str(project), "model-pass", "--opt-in")
    assert code == 0 and "on for this book" in out


def _user(request: dict[str, Any]) -> dict[str, Any]:
    message = next(m for m in request["messages"] if m["role"] == "user")
    data: dict[str, Any] = json.loads(message["content"])
    return data


def new_for_the_first(qid: str, offered: list[str], request: dict[str, Any]) -> str:
    """The stand-in's rule: a newcomer for the opening cry, else the last name offered."""
    text = next(q["text"] for q in _user(request)["quotations"] if q["id"] == qid)
    return "new:The Harbour Master" if "anybody" in text else offered[-2]  # [-1] is "unknown"


def test_nothing_is_sent_without_the_opt_in(
    server: OpenAIStandIn, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "cast", str(project), "model-pass", "--yes")
    assert code == 2 and "off for this book" in err and "--opt-in" in err
    assert server.chats == []
    opt_in(capsys, project)
    code, _, _ = cli(capsys, "cast", str(project), "model-pass", "--opt-out")
    code, _, err = cli(capsys, "cast", str(project), "model-pass", "--yes")
    assert code == 2 and "off for this book" in err
    assert server.chats == []


def test_nothing_is_sent_without_a_key(
    server: OpenAIStandIn,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipelines.core import secrets

    opt_in(capsys, project)
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setattr(secrets, "_keyring_get", lambda provider: None)
    code, _, err = cli(capsys, "cast", str(project), "model-pass", "--yes")
    assert code == 2 and "keys set openai" in err and "OPENAI_API_KEY" in err
    assert server.chats == []


def test_a_dry_run_tells_what_would_go_and_sends_nothing(
    server: OpenAIStandIn, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    low = [q for q in quotes(capsys, project) if q["confidence"] < LOW_CONFIDENCE]
    assert low, "the story should leave some quotations unsettled"
    code, out, _ = cli(capsys, "cast", str(project), "model-pass", "--dry-run")  # no opt-in
    assert code == 0 and "nothing was sent" in out and "characters" in out and "$" in out
    code, out, _ = cli(capsys, "cast", str(project), "--json", "model-pass", "--dry-run")
    plan = json.loads(out)
    assert plan["quotations"] == len(low) and plan["to_send"]["characters"] > 0
    assert 0 < plan["to_send"]["usd"] < plan["cap_usd"] == 1.0 and plan["opted_in"] is False
    assert server.chats == []


def test_a_pass_over_the_cap_is_refused_before_anything_is_sent(
    server: OpenAIStandIn, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opt_in(capsys, project)
    cli(capsys, "cast", str(project), "model-pass", "--cap", "0.000001")
    code, _, err = cli(capsys, "cast", str(project), "model-pass", "--yes")
    assert code == 2 and "over this book's cap of $0.0000010" in err and "would cost about $" in err
    assert server.chats == []


def test_a_pass_sends_the_unsettled_quotes_and_its_answers_stay_cached(
    server: OpenAIStandIn, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = quotes(capsys, project)
    low = [q for q in before if q["confidence"] < LOW_CONFIDENCE]
    settled = [q for q in before if q["confidence"] >= LOW_CONFIDENCE]
    assert low and settled
    opt_in(capsys, project)
    server.chat_rule = new_for_the_first
    server.fail("rate_limit", retry_after=0.01)  # tried again, as every cloud call is
    code, out, _ = cli(capsys, "cast", str(project), "model-pass", "--yes")
    assert code == 0, out
    assert len(server.chats) == 2  # the 429, then the answer
    request = server.chats[-1]
    assert request["model"] == "gpt-4o-mini"
    assert request["response_format"]["type"] == "json_schema"
    user = _user(request)
    # Only the unsettled quotations, in reading order, with their paragraphs and the cast.
    assert [q["text"] for q in user["quotations"]] == [q["text"] for q in low]
    sent = " ".join(p["text"] for p in user["paragraphs"])
    assert "harbour master had run out of patience" in sent
    names = {c["name"] for c in user["cast"]}
    assert any("Martha" in n for n in names) and any("Tom" in n for n in names)
    offered = request["response_format"]["json_schema"]["schema"]["properties"]["answers"]["items"][
        "properties"
    ]["speaker"]["anyOf"][0]["enum"]
    after = quotes(capsys, project)
    assert [q["text"] for q in after] == [q["text"] for q in before]  # same list, same order
    by_text = {q["text"]: q for q in after}
    for q in low:
        want = "The Harbour Master" if "anybody" in q["text"] else offered[-2]
        assert by_text[q["text"]]["speaker"] == want
        assert by_text[q["text"]]["method"] == "model"
        assert by_text[q["text"]]["confidence"] < LOW_CONFIDENCE  # unmeasured: still to check
    for q in settled:
        assert by_text[q["text"]] == q
    # Again: every request is answered from the project's cache, nothing is sent.
    code, out, _ = cli(capsys, "cast", str(project), "--json", "model-pass", "--yes")
    assert code == 0 and len(server.chats) == 2
    result = json.loads(out)["result"]
    assert result["sent"] == 0 and result["from_cache"] == 1 and result["named"] == len(low)
    assert quotes(capsys, project) == after
    # Forgetting them goes back to the rules' speakers.
    code, _, _ = cli(capsys, "cast", str(project), "model-pass", "--forget")
    assert code == 0 and quotes(capsys, project) == before


def test_a_malformed_answer_leaves_the_quotes_as_they_were(
    server: OpenAIStandIn, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = quotes(capsys, project)
    opt_in(capsys, project)
    server.chat_content = lambda body: "Sorry, I cannot tell who speaks."
    code, _out, err = cli(capsys, "cast", str(project), "model-pass", "--yes")
    assert code == 0 and "not JSON" in err and "keep the speakers the rules gave them" in err
    assert len(server.chats) == 1
    assert quotes(capsys, project) == before
    # Nothing unusable was cached: the next pass asks again.
    server.chat_content = None
    code, _, _ = cli(capsys, "cast", str(project), "model-pass", "--yes")
    assert code == 0 and len(server.chats) == 2
    assert quotes(capsys, project) != before
