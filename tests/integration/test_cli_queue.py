"""A cloud error pauses the book's jobs; the command line shows why and has a way forward: `queue`
lists the jobs with the reason, `render` and `make` exit 3 naming the command that carries on,
`resume`, `retry`, `cancel` and `render --force` (or another voice) carry on."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.app.imports import import_manuscript
from pipelines.cli.main import main
from pipelines.core.model import VoiceRef
from pipelines.store import Project
from pipelines.store.jobs import JobQueue, JobState
from tests.standins.fixtures import announce_openai
from tests.standins.openai_server import OpenAIStandIn

BOOK = """# The Harbour

The ferry left the harbour an hour before dawn.

# The Ledger

Martha counted the crates twice.
"""
WRONG_KEY = "sk-wrong-0000000000000000"
SILENCE = "silence:default"


@pytest.fixture
def manuscript(tmp_path: Path) -> Path:
    path = tmp_path / "harbour.md"
    path.write_text(BOOK, encoding="utf-8")
    return path


@pytest.fixture
def project_dir(tmp_path: Path, manuscript: Path) -> Path:
    root = tmp_path / "project"
    import_manuscript(manuscript, root).close()
    return root


@pytest.fixture
def openai(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn(lifetime_s=300) as server:
        announce_openai(monkeypatch, server)
        monkeypatch.setenv("OPENAI_API_KEY", WRONG_KEY)  # every request: 401, key refused
        yield server


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), " ".join(err.getvalue().split())


def states(root: Path) -> list[str]:
    code, out, _ = cli("queue", str(root), "--json")
    assert code == 0
    return [row["state"] for row in json.loads(out)]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_a_refused_key_pauses_and_the_cli_says_why_and_carries_on(
    openai: OpenAIStandIn, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(project_dir)
    code, _, err = cli("render", root, "--voice", "openai:alloy", "--workers", "1")
    assert code == 3, err
    assert "chapters 1 and 2 are paused" in err and "API key was refused" in err
    assert "audiobook-studio keys set openai" in err
    assert f"then run `audiobook-studio resume {root}`" in err

    code, out, _ = cli("queue", root, "--json")
    rows = json.loads(out)
    assert [(r["chapter"], r["title"], r["state"]) for r in rows] == [
        (1, "The Harbour", "paused"),
        (2, "The Ledger", "paused"),
    ]
    assert all("key was refused" in r["reason"] for r in rows)
    code, out, _ = cli("queue", root)
    assert code == 0 and "paused" in out and "key was refused" in out

    # Plain render leaves them paused (they wait for the fix), and says so again: exit 3.
    code, _, err = cli("render", root, "--workers", "1")
    assert code == 3 and "are paused" in err
    # --force queues them once more; the key is still wrong, so they pause again.
    code, _, err = cli("render", root, "--force", "--workers", "1")
    assert code == 3 and "key was refused" in err

    monkeypatch.setenv("OPENAI_API_KEY", openai.api_key)  # the author fixes the key
    code, _, err = cli("resume", root, "--workers", "1")
    assert code == 0, err
    assert states(project_dir) == ["done", "done"]
    assert cli("render", root)[0] == 0  # everything current now


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_another_voice_or_force_requeues_paused_jobs(
    openai: OpenAIStandIn, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = str(project_dir)
    assert cli("render", root, "--voice", "openai:alloy", "--workers", "1")[0] == 3
    assert states(project_dir) == ["paused", "paused"]
    # Another engine's voice: the account problem no longer applies, the jobs go ahead.
    code, _, err = cli("render", root, "--voice", SILENCE)
    assert code == 0, err
    assert states(project_dir) == ["done", "done"]

    assert cli("render", root, "--voice", "openai:alloy", "--workers", "1")[0] == 3
    monkeypatch.setenv("OPENAI_API_KEY", openai.api_key)
    code, _, err = cli("render", root, "--force", "--workers", "1")
    assert code == 0, err
    assert states(project_dir) == ["done", "done"]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_make_exits_3_with_the_reason_and_carries_on_when_run_again(
    openai: OpenAIStandIn, manuscript: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    argv = ["make", str(manuscript), "--voice", "openai:alloy", "--out", str(out)]
    argv += ["--project", str(tmp_path / "made"), "--workers", "1"]
    code, _, err = cli(*argv)
    assert code == 3
    assert "key was refused" in err and "run the same `audiobook-studio make` command again" in err
    assert "was not exported" in err and not out.exists()

    monkeypatch.setenv("OPENAI_API_KEY", openai.api_key)
    code, stdout, err = cli(*argv)
    assert code == 0, err
    assert (out / "harbour.m4b").is_file() and str(out / "harbour.m4b") in stdout


def test_retry_and_cancel(project_dir: Path) -> None:
    root = str(project_dir)
    assert cli("queue", root) == (
        0,
        f"no jobs: render the book with `audiobook-studio render {root}`\n",
        "",
    )
    with Project.open(project_dir) as project:
        queue = JobQueue(project)
        ids = [c.id or 0 for c in project.chapters(with_blocks=False)]
        first = queue.enqueue(ids[0], VoiceRef.parse(SILENCE))
        queue.transition(first, JobState.RUNNING)
        queue.transition(first, JobState.FAILED, error="the voice model could not be read")
        second = queue.enqueue(ids[1], VoiceRef.parse(SILENCE))

    code, out, _ = cli("queue", root)
    assert "failed" in out and "the voice model could not be read" in out
    assert f"then run `audiobook-studio retry {root}`" in out

    code, _, err = cli("cancel", root)  # cancel names what it cancels
    assert code == 2 and "--all" in err
    code, _, err = cli("cancel", root, "2")
    assert code == 0 and "1 job(s) cancelled" in err
    assert states(project_dir) == ["failed", "cancelled"]
    code, _, err = cli("resume", root, "2")  # nothing paused there: said, not ignored
    assert code == 2 and "chapter 2 is cancelled" in err

    code, _, err = cli("retry", root)  # every failed job, then the queue renders
    assert code == 0, err
    assert states(project_dir) == ["done", "cancelled"]
    code, _, err = cli("retry", root, "2")  # a cancelled chapter, named, is retried too
    assert code == 0, err
    assert states(project_dir) == ["done", "done"]
    with Project.open(project_dir) as project:
        assert JobQueue(project).get(second).state is JobState.DONE


def test_the_queue_commands_are_in_the_help() -> None:
    with contextlib.redirect_stdout(io.StringIO()) as out, pytest.raises(SystemExit):
        main(["--help"])
    for name in ("queue", "resume", "retry", "cancel"):
        assert f"    {name} " in out.getvalue()
