"""Entry point: no arguments opens the desktop studio; a subcommand runs headless."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    # Synthesis workers are spawned processes; a frozen (PyInstaller) app must route them here.
    multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"--smoke-test", "--gui"}:
        from studio.app import run_gui

        return run_gui(args)
    from pipelines.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
