"""What the command line does with an error: one line on stderr, never a traceback.

A `StudioError` keeps its message (exit status 2); a full disk, a disk error or a database SQLite
cannot use is said as such, naming the folder (2); a closed pipe (`… | head`) ends quietly (141,
as a shell reports a program stopped by SIGPIPE); anything else is a bug: one line that names the
log file holding the traceback (1).
"""

from __future__ import annotations

import argparse
import errno
import os
import platform
import sqlite3
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pipelines import __version__
from pipelines.core import paths
from pipelines.core.diskspace import disk_full, is_nearly_full, looks_like_full_disk
from pipelines.core.errors import StudioError

UNEXPECTED = 1
INTERRUPTED = 130
BROKEN_PIPE = 141
KEEP_LOGS = 20
_DENIED = {errno.EACCES, errno.EPERM}


def write_crash_log(exc: BaseException, argv: Sequence[str]) -> Path:
    """The traceback and what led to it, in a new file in `paths.log_dir()`; API keys scrubbed."""
    from pipelines.core.secrets import PROVIDERS, scrub

    folder = paths.log_dir()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"crash-{stamp}-{os.getpid()}.log"
    text = "".join(
        [
            f"audiobook-studio {__version__}, Python {platform.python_version()}, "
            f"{platform.platform()}\n",
            f"command: audiobook-studio {' '.join(argv)}\n\n",
            *traceback.format_exception(exc),
        ]
    )
    path.write_text(scrub(text, *(os.environ.get(v) for v in PROVIDERS.values())), "utf-8")
    for old in sorted(folder.glob("crash-*.log"))[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)
    return path


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _project_root(args: argparse.Namespace) -> Path:
    """The folder the command works in, for a message about its disk."""
    project = getattr(args, "project", None)
    if project:
        return Path(project)
    try:
        return paths.data_dir()
    except OSError:  # the disk may be why we are here
        return Path.cwd()


def _full_folder(args: argparse.Namespace) -> Path | None:
    """The folder the command writes to (the project, `--out`) whose disk is nearly full."""
    out = getattr(args, "out", None)
    for folder in (_project_root(args), *([Path(out)] if out else [])):
        if is_nearly_full(folder):
            return folder
    return None


def _stdout_is_broken() -> bool:
    """Whether stdout is a pipe whose reader has gone (`… | head`), rather than a pipe of our
    own (a worker's, an encoder's) that broke."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return False  # not a file (redirected in a test, say): not the reader going away
    try:
        import select

        poller = select.poll()
    except (ImportError, AttributeError):  # no poll (Windows): a broken stdout is likeliest
        return True
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def explain(exc: BaseException, args: argparse.Namespace) -> StudioError | None:
    """The author's one-line message for an error that is not a bug; None for a bug."""
    from pipelines.store.database import storage_error

    if isinstance(exc, StudioError):
        return exc
    if isinstance(exc, sqlite3.DatabaseError):
        return storage_error(_project_root(args), exc)
    if looks_like_full_disk(exc):
        where = (exc.filename if isinstance(exc, OSError) else None) or _project_root(args)
        return disk_full(where, "what was saved before is intact")
    if isinstance(exc, OSError | RuntimeError) and (full := _full_folder(args)) is not None:
        # A write that failed on a disk with next to nothing free (libsndfile says only
        # "System error."): the disk, not a bug.
        return disk_full(full, "what was saved before is intact")
    if isinstance(exc, OSError):
        where = exc.filename or _project_root(args)
        if exc.errno in _DENIED:
            return StudioError(
                where, "permission denied", "Choose a file or folder you may read and write"
            )
        if exc.errno == errno.EROFS:
            return StudioError(where, "the disk is read-only", "Choose a folder on another disk")
    return None


def run_guarded(
    handler: Callable[[argparse.Namespace], int], args: argparse.Namespace, argv: Sequence[str]
) -> int:
    """Run one command; every error ends as one line and an exit status (see the module)."""
    try:
        code = handler(args)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError as exc:
        if _stdout_is_broken():
            _silence_stdout()
            return BROKEN_PIPE
        return _unexpected(exc, argv)
    except StudioError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        try:
            known = explain(exc, args)
        except Exception:  # telling what went wrong must not hide it
            known = None
        if known is None:
            return _unexpected(exc, argv)
        print(f"error: {_one_line(known.message, 1000)}", file=sys.stderr)
        return known.exit_code


def _unexpected(exc: BaseException, argv: Sequence[str]) -> int:
    what = _one_line(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    try:
        log = write_crash_log(exc, argv)
    except Exception as why:  # the disk may be the trouble: the traceback goes to stderr
        print(f"unexpected error: {what} (no log: {why})", file=sys.stderr)
        traceback.print_exception(exc, file=sys.stderr)
        return UNEXPECTED
    print(f"unexpected error: {what}; details in {log}", file=sys.stderr)
    return UNEXPECTED
