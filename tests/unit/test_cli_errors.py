"""Every error the command line meets ends as one line and an exit status, never a traceback: a
bug (1, with a log file), a closed pipe (141, quietly), a bogus keyring, paths that are files, a
full disk (never called a damaged project), bad --workers and --set values, and `inspect`
numbering chapters as `chapters` does."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pipelines.cli.main as cli_module
from pipelines.app.imports import import_manuscript
from pipelines.cli import crash
from pipelines.cli.jobs import stuck_lines
from pipelines.cli.main import main
from pipelines.cli.make_start import max_workers
from pipelines.core import diskspace, paths
from pipelines.core.model import VoiceRef
from pipelines.store import Project
from pipelines.store.database import Database
from pipelines.store.jobs import JobQueue, JobState
from pipelines.store.settings import NARRATOR, VOICE_SETTINGS

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"
SILENCE = "silence:default"
MB = diskspace.MB


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    import_manuscript(SAMPLE, root).close()
    return root


# -- bugs, studio errors, closed pipes -------------------------------------------------------------


def test_an_unexpected_error_is_one_line_naming_a_log_with_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(args: Any) -> int:
        raise RuntimeError("the frobnicator\nbroke")

    monkeypatch.setattr(cli_module, "cmd_inspect", broken)
    code, out, err = cli("inspect", str(SAMPLE))
    assert code == 1 and out == ""
    line = one_line(err)
    assert line.startswith("unexpected error: RuntimeError: the frobnicator broke; details in ")
    log = Path(line.rsplit("details in ", 1)[1])
    assert log.parent == paths.log_dir() and log.is_file()
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "in broken" in text
    assert f"inspect {SAMPLE}" in text


def test_a_studio_error_keeps_its_line_and_exit_2(tmp_path: Path) -> None:
    code, _, err = cli("chapters", str(tmp_path / "nowhere"))
    assert code == 2
    assert "not an Audiobook Studio project" in one_line(err)


@pytest.mark.parametrize("command", ["chapters", "inspect"])
def test_a_closed_pipe_ends_quietly(command: str, project_dir: Path) -> None:
    """`audiobook-studio chapters P | head`: the reader goes away before the listing is out."""
    target = str(project_dir) if command == "chapters" else str(SAMPLE)
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), command, target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    _, err = proc.communicate(timeout=120)
    assert err.decode() == ""
    assert proc.returncode == crash.BROKEN_PIPE


def test_a_bogus_keyring_backend_is_a_message_not_a_traceback(project_dir: Path) -> None:
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "bogus.Thing",
        "SUPABASE_URL": "http://127.0.0.1:9",  # nothing listens: offline
        "SUPABASE_ANON_KEY": "eyJhbGciOiJIUzI1NiJ9.e30.x",
    }
    for env_var in ("OPENAI_API_KEY", "ELEVENLABS_API_KEY", "SUPABASE_PASSWORD"):
        env.pop(env_var, None)
    shown = run("keys", "show", env=env)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr
    assert "cannot load it: No module named 'bogus'" in shown.stderr
    for args in (["sync", str(project_dir)], ["logout"]):
        result = run(*args, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 1), result.stderr  # offline is exit 1


# -- paths that are files --------------------------------------------------------------------


def test_paths_that_are_files_are_refused_before_any_work(
    project_dir: Path, tmp_path: Path
) -> None:
    taken = tmp_path / "taken.txt"
    taken.write_text("not a folder", encoding="utf-8")

    code, _, err = cli("import", str(SAMPLE), "--project", str(taken))
    assert code == 2 and str(taken) in one_line(err) and "not a folder" in err
    code, _, err = cli("import", str(SAMPLE), "--project", str(taken / "inside"))
    assert code == 2 and str(taken) in one_line(err)

    assert cli("render", str(project_dir), "--voice", SILENCE)[0] == 0
    code, _, err = cli("export", str(project_dir), "--out", str(taken))
    assert code == 2 and str(taken) in one_line(err) and "--out" in err

    fresh = tmp_path / "fresh"
    code, _, err = cli("make", str(SAMPLE), "--voice", SILENCE, "--out", str(taken),
                       "--project", str(fresh))  # fmt: skip
    assert code == 2 and str(taken) in one_line(err)
    assert not fresh.exists()  # refused before the import, let alone the render
    assert taken.read_text(encoding="utf-8") == "not a folder"


# -- a full disk -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message", ["disk I/O error", "database or disk is full", "unable to open database file"]
)
def test_a_full_disk_at_open_is_said_as_such_never_as_damage(
    message: str, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        raise sqlite3.OperationalError(message)

    monkeypatch.setattr(sqlite3, "connect", full)
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 0)
    for args in (["chapters"], ["render"], ["queue"], ["export", "--out", "x"]):
        code, _, err = cli(args[0], str(project_dir), *args[1:])
        line = one_line(err)
        assert code == 2
        assert f"the disk holding {project_dir} is full (0.0 MB free)" in line
        assert "the project is intact" in line and "backup" not in line


def test_a_damaged_database_is_still_called_damaged(project_dir: Path) -> None:
    (project_dir / "project.sqlite").write_bytes(b"this is no database " * 200)
    for name in ("project.sqlite-wal", "project.sqlite-shm"):
        (project_dir / name).unlink(missing_ok=True)
    code, _, err = cli("chapters", str(project_dir))
    assert code == 2 and "damaged" in one_line(err) and "backup" in err


def test_a_database_that_cannot_grow_reports_a_full_disk(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real SQLite: `max_page_count` at the database's size makes every growing write fail with
    exactly "database or disk is full", as a full disk does."""
    before = cli("chapters", str(project_dir), "--json")[1]
    opened = Database.open.__func__  # type: ignore[attr-defined]

    def cannot_grow(cls: type[Database], root: Path, *, create: bool = False) -> Database:
        db = opened(cls, root, create=create)
        pages = db.query("PRAGMA page_count")[0][0]
        db.query(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(Database, "open", classmethod(cannot_grow))
    code, _, err = cli("chapters", str(project_dir), "rename", "2", "A long title " * 5000)
    line = one_line(err)
    assert code == 2
    assert f"the disk holding {project_dir} is full" in line and "the project is intact" in line
    monkeypatch.undo()
    assert cli("chapters", str(project_dir), "--json")[1] == before  # intact indeed


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device", "/tmp/some/chapter.wav"),
        RuntimeError("System error."),  # what libsndfile says when a write fails for want of room
    ],
)
def test_a_write_failing_on_a_full_disk_names_the_disk(
    error: Exception, project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(args: Any) -> int:
        raise error

    monkeypatch.setattr(cli_module, "cmd_chapters", full)
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 1 * MB)
    code, _, err = cli("chapters", str(project_dir))
    line = one_line(err)
    assert code == 2 and "the disk holding /tmp" in line and "is full (1.0 MB free)" in line


def test_render_and_export_check_the_disk_before_starting(
    project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 5 * MB)
    code, _, err = cli("render", str(project_dir), "--voice", SILENCE)
    line = one_line(err)
    assert code == 2
    assert f"not enough disk space in {project_dir}" in line and "5.0 MB free" in line
    assert "rendering 3 chapter(s)" in line
    assert json.loads(cli("queue", str(project_dir), "--json")[1]) == []  # nothing queued

    monkeypatch.undo()
    assert cli("render", str(project_dir), "--voice", SILENCE)[0] == 0
    monkeypatch.setattr(diskspace, "free_bytes", lambda path: 5 * MB)
    out = tmp_path / "out"
    code, _, err = cli("export", str(project_dir), "--out", str(out))
    assert code == 2
    assert f"not enough disk space in {tmp_path}" in one_line(err) and "exporting" in err
    assert not out.exists()


def test_a_chapter_that_failed_on_a_full_disk_is_said_to_have(
    project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Project.open(project_dir) as project:
        queue = JobQueue(project)
        chapter = project.chapters(with_blocks=False)[1]
        job = queue.enqueue(chapter.id or 0, VoiceRef.parse(SILENCE))
        queue.transition(job, JobState.RUNNING)
        queue.transition(job, JobState.FAILED, error="System error.")  # libsndfile's words
        monkeypatch.setattr(diskspace, "free_bytes", lambda path: 1 * MB)
        (line,) = stuck_lines(project, [chapter.id or 0])
    assert line.startswith(f"chapter 2 ({chapter.title}) failed: the disk holding {project_dir}")
    assert "is full (1.0 MB free)" in line and "audiobook-studio retry" in line


# -- bad values, up front --------------------------------------------------------------------------


@pytest.mark.parametrize("workers", ["0", "-5", "lots", str(max_workers() + 1)])
def test_workers_are_bounded(workers: str, project_dir: Path) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_:
        main(["render", str(project_dir), "--workers", workers])
    assert exit_.value.code == 2
    assert f"use 1 to {max_workers()}" in " ".join(err.getvalue().split())


@pytest.mark.parametrize(
    ("setting", "voice", "words"),
    [
        ("speed=abc", SILENCE, "silence's 'speed' must be a number"),
        ("spede=1.1", SILENCE, "silence has no setting 'spede'"),
        ("speed=9", "piper:joe-us", "must be a number from 0.25 to 4.0"),
        ("noise_scale=true", "piper:joe-us", "'noise_scale' must be a number"),
    ],
)
def test_set_is_checked_before_any_work(
    setting: str, voice: str, words: str, project_dir: Path, tmp_path: Path
) -> None:
    code, _, err = cli("render", str(project_dir), "--voice", voice, "--set", setting)
    assert code == 2 and words in one_line(err)
    with Project.open(project_dir) as project:
        assert JobQueue(project).all() == []
        assert project.get_setting(VOICE_SETTINGS) == {}  # the bad value was not remembered
        assert project.get_setting(NARRATOR) is None
    fresh = tmp_path / "fresh"
    argv = ["make", str(SAMPLE), "--voice", voice, "--set", setting]
    code, _, err = cli(*argv, "--out", str(tmp_path / "out"), "--project", str(fresh))
    assert code == 2 and words in one_line(err) and not fresh.exists()


def test_good_settings_pass(project_dir: Path) -> None:
    code, _, err = cli("render", str(project_dir), "--voice", SILENCE, "--set", "speed=2",
                       "--set", "rtf=0", "--workers", "1")  # fmt: skip
    assert code == 0, err


def test_inspect_and_chapters_number_chapters_alike(project_dir: Path) -> None:
    inspected = json.loads(cli("inspect", str(SAMPLE), "--json")[1])
    listed = {
        r["number"]: r["title"] for r in json.loads(cli("chapters", str(project_dir), "--json")[1])
    }
    numbered = inspected["chapters"] + inspected["excluded"]
    assert numbered and {c["number"]: c["title"] for c in numbered}.items() <= listed.items()
    assert inspected["excluded"][0]["number"] == 1  # the title page, set aside, is counted

    def table(text: str) -> list[tuple[str, str]]:
        rows = [line.split(maxsplit=1) for line in text.splitlines() if line[:4].strip().isdigit()]
        return [(n, rest) for n, rest in rows]

    assert table(cli("inspect", str(SAMPLE))[1]) == table(cli("chapters", str(project_dir))[1])
