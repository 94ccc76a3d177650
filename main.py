"""Entry point: no arguments opens the desktop studio; a subcommand runs headless."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys

# The numeric work here is many small vector operations, run in parallel as processes (synthesis
# workers, encoders). OpenBLAS threads on top only spin: mastering a 12-minute chapter took 3.6 s
# of CPU for 1.9 s of wall time with them, 1.7 s without. Set before numpy loads; children inherit.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main(argv: list[str] | None = None) -> int:
    # Synthesis workers are spawned processes; a frozen (PyInstaller) app must route them here.
    multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"--smoke-test", "--gui"}:
        from studio.app import run_gui

        return run_gui(args)
    # A light module (the command line loads it anyway): for `make`, its workers load the voice
    # while the command line loads; for any other command it does nothing.
    from pipelines.cli import make_start

    make_start.start(args)
    from pipelines.cli.main import main as cli_main

    try:
        code = cli_main(args)
    finally:
        make_start.discard()
    if argv is None:
        # The command is done; what is left is the interpreter's exit, whose garbage collection
        # walks every object (0.25 s with the audio stack loaded, on one core). Frozen objects
        # are skipped; the files are closed and the exit handlers still run.
        gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
