"""The start of `make`: its arguments, and the narrator's synthesis pool started from them
before the rest of the studio loads.

`main.py` calls `start` first: the workers then load the engine and the voice while this
process imports the command line and opens the manuscript, where before that third of a second
ran on one core with the other idle. `cmd_make` takes the pool over (`take`). The module loads
nothing heavy at its top; the engines only once a pool starts."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pipelines.audio.profiles import PROFILES
from pipelines.core.errors import StudioError

if TYPE_CHECKING:
    from pipelines.engines.pool import SynthPool

PROFILE_HELP = "delivery profile the book is mastered and exported for (remembered; default acx)"

_started: SynthPool | None = None  # by `start`, until `take` or `discard`


def max_workers() -> int:
    """The most synthesis processes `--workers` may ask for: 8, or one per core on a bigger
    machine (at most 32)."""
    return min(32, max(8, os.cpu_count() or 1))


def workers_count(text: str) -> int:
    """`--workers N`: a whole number from 1 to `max_workers()`."""
    top = max_workers()
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= top:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a number of synthesis processes: use 1 to {top} "
            f"(this machine has {os.cpu_count() or 1} CPU cores; the default is the engine's own)"
        )
    return n


def add_make_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `make`: one definition for its parser and for `start`'s."""
    p.add_argument("file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--voice",
        help="ENGINE:VOICE (default: kokoro:af_heart once its model is installed, "
        "else piper:joe-us, the embedded voice)",
    )
    p.add_argument("--project", help="project folder (default: one in the user data folder)")
    p.add_argument("--profile", choices=sorted(PROFILES), help=PROFILE_HELP)
    p.add_argument(
        "--workers", type=workers_count, help=f"synthesis processes, 1 to {max_workers()}"
    )
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="voice setting, repeatable")


def early_pool(args: argparse.Namespace) -> SynthPool | None:
    """The narrator's synthesis pool, started before anything else so that its workers load
    the engine and the voice while this process imports the manuscript: for a new project
    (an existing one has a narrator of its own) on an engine that runs here."""
    from pipelines.core.model import VoiceRef
    from pipelines.engines.defaults import default_narrator
    from pipelines.engines.pool import engine_pool
    from pipelines.engines.registry import capabilities

    if not Path(args.file).is_file():
        return None
    if args.project:
        from pipelines.store import Project

        if Project.is_project(Path(args.project)):
            return None
    try:
        voice = VoiceRef.parse(args.voice) if args.voice else default_narrator()
        if capabilities(voice.engine).resource == "network":
            return None
        return engine_pool(voice.engine, args.workers, [voice.voice_id])
    except (StudioError, ValueError):
        return None  # reported as usual once the project is open


class _Quiet(argparse.ArgumentParser):
    """A parser that leaves every complaint to the command line's own."""

    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def start(argv: Sequence[str]) -> None:
    """Start the pool of `make` when `argv` is a command line `make` accepts (no `--help`)."""
    global _started
    if _started is not None or list(argv[:1]) != ["make"]:
        return
    parser = _Quiet(add_help=False)
    add_make_arguments(parser)
    try:
        args = parser.parse_args(list(argv[1:]))
    except ValueError:
        return
    _started = early_pool(args)


def take() -> SynthPool | None:
    """The pool `start` started, handed over once."""
    global _started
    pool, _started = _started, None
    return pool


def discard() -> None:
    """Stop a pool nobody took (the command failed before it rendered) without waiting for
    its workers, which are still loading: they are stopped as the program exits."""
    pool = take()
    if pool is not None:
        pool.close(cancel_pending=True, wait=False)
