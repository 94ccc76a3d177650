"""The retail sample's fades, applied block by block: by the export, cutting the sample from a
mastered chapter, and by the encoder that cuts it while the chapter is mastered
(`audio.delivery`), so that both fade alike."""

from __future__ import annotations

import numpy as np

from pipelines.audio.dsp import Audio, fade

FADE_IN_S = 0.05
FADE_OUT_S = 1.5


class Fades:
    """The sample's fade in and out over `total` frames, applied block by block."""

    def __init__(self, total: int, rate: int) -> None:
        self.total = total
        self.n_in = round(FADE_IN_S * rate)
        self.n_out = min(round(FADE_OUT_S * rate), total // 2)
        self._in = fade(self.n_in, rising=True)
        self._out = fade(self.n_out, rising=False)

    def apply(self, block: Audio, pos: int) -> Audio:
        """A faded copy of `block`, which starts `pos` frames into the sample."""
        x = block.copy()
        idx = np.arange(pos, pos + len(x))
        head = idx < self.n_in
        x[head] *= self._in[idx[head]]
        tail = idx >= self.total - self.n_out
        x[tail] *= self._out[idx[tail] - (self.total - self.n_out)]
        return x
