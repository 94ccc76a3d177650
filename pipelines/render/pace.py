"""How many chapters may finish side by side, from the measured speed of each stage.

Synthesis hands over a chapter every `s` seconds (the interval between chapters becoming ready)
and finishing one (assembly, mastering, the delivery encoders) takes `f` seconds: keeping up
takes ceil(f / s) finishers at once, at most one per core. A slow voice (Piper on the CPU) gets
one, so synthesis keeps the cores; a fast one (a GPU, a cloud voice, the silence engine) gets
as many as the cores allow, so the tail keeps up with it.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
from collections import deque

WINDOW = 5  # chapters the figures are taken over: recent enough to follow a change of voice


class Pace:
    def __init__(self, cores: int) -> None:
        self.cores = max(1, cores)
        self._ready: deque[float] = deque(maxlen=WINDOW + 1)
        self._finish: deque[float] = deque(maxlen=WINDOW)
        self._lock = threading.Lock()

    def ready(self, at: float) -> None:
        """A chapter's chunks are all synthesized (`at`: a monotonic time)."""
        with self._lock:
            self._ready.append(at)

    def finished(self, seconds: float) -> None:
        """A chapter took `seconds` to finish."""
        with self._lock:
            self._finish.append(seconds)

    @property
    def finishers(self) -> int:
        """Chapters that may finish at once (1 until both stages have been measured)."""
        with self._lock:
            times = sorted(self._ready)
            if len(times) < 2 or not self._finish:
                return 1
            gaps = [b - a for a, b in itertools.pairwise(times)]
            synth = statistics.median(gaps)
            finish = statistics.median(self._finish)
        if synth <= 0:
            return self.cores
        return max(1, min(self.cores, math.ceil(finish / synth)))
