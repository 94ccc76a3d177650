"""Entry point of the packaged app. Synthesis workers are spawned processes; in a frozen build
each one re-runs this executable, and `freeze_support` turns it into the worker."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from main import main

    sys.exit(main())
