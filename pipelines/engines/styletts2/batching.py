"""What makes a padded batch sound exactly like its utterances spoken one at a time.

StyleTTS2's prosody predictor and decoder normalise over time (instance norm) and convolve across
it, so padding a short utterance to the length of the longest would change how it sounds. While a
batch runs, a shared `LengthContext` holds each item's length in frames; the modules here use it:

- `MaskedInstanceNorm1d` takes its statistics over each item's own frames only;
- a pre-hook on every convolution zeroes the padding first, just as a lone utterance sees zeros
  past its end;
- `SeededSource` draws the vocoder's excitation (random phase and noise) per item from a seed,
  over the item's own length, so the output never depends on its batch-mates or on the run.

Every length in the predictor and decoder is an integer multiple of the frame count (x2 for the
pitch curve, x300 for samples), so an item's valid span at any resolution is its frames scaled.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class LengthContext:
    """The frame lengths and seeds of the batch being decoded (`None` outside a batch)."""

    def __init__(self) -> None:
        self.frames: torch.Tensor | None = None  # (B,) valid frames per item
        self.base = 0  # padded frame count
        self.seeds: list[int] = []

    def activate(self, frames: torch.Tensor, base: int, seeds: list[int]) -> None:
        self.frames, self.base, self.seeds = frames, base, list(seeds)

    def clear(self) -> None:
        self.frames, self.base, self.seeds = None, 0, []

    def valid(self, length: int) -> torch.Tensor | None:
        """Valid positions per item at a resolution of `length` steps, or None when unpadded."""
        frames = self.frames
        if frames is None or self.base <= 0:
            return None
        return (frames * length) // self.base

    def mask(self, length: int, like: torch.Tensor) -> torch.Tensor | None:
        valid = self.valid(length)
        if valid is None or bool((valid >= length).all()):
            return None
        steps = torch.arange(length, device=like.device)
        return (steps[None, :] < valid.to(like.device)[:, None]).to(like.dtype)[:, None, :]


class MaskedInstanceNorm1d(nn.Module):
    """Instance norm (no affine part) over each item's valid frames."""

    def __init__(self, context: LengthContext, eps: float) -> None:
        super().__init__()
        self.context = context
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = self.context.mask(x.shape[-1], x)
        if mask is None:
            return F.instance_norm(x, eps=self.eps)
        count = mask.sum(dim=-1, keepdim=True).clamp(min=1.0)
        mean = (x * mask).sum(dim=-1, keepdim=True) / count
        centred = (x - mean) * mask
        var = (centred * centred).sum(dim=-1, keepdim=True) / count
        return (x - mean) / torch.sqrt(var + self.eps)


class SeededSource(nn.Module):
    """The hn-NSF harmonic source of the vocoder, with per-item seeded randomness."""

    def __init__(self, original: Any, context: LengthContext) -> None:
        # `original` is the package's SourceModuleHnNSF; its attributes are read dynamically.
        super().__init__()
        self.l_linear = original.l_linear  # the trained weights stay where the checkpoint put them
        self.l_tanh = original.l_tanh
        gen = original.l_sin_gen
        self.sine_amp = float(gen.sine_amp)
        self.noise_std = float(gen.noise_std)
        self.harmonics = int(gen.harmonic_num) + 1
        self.rate = float(gen.sampling_rate)
        self.threshold = float(gen.voiced_threshold)
        self.scale = int(gen.upsample_scale)
        self.context = context

    def forward(self, f0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # f0: (B, samples, 1) at the output rate
        batch, length = f0.shape[0], f0.shape[1]
        valid = self.context.valid(length)
        seeds = self.context.seeds or [0] * batch
        sines = torch.zeros(batch, length, 1, device=f0.device, dtype=f0.dtype)
        noises = torch.zeros_like(sines)
        uvs = torch.zeros_like(sines)
        for i in range(batch):
            n = length if valid is None else int(valid[i])
            if n <= 0:
                continue
            gen = torch.Generator(device=f0.device)
            gen.manual_seed(int(seeds[i]) & 0x7FFF_FFFF_FFFF_FFFF)
            sine, noise, uv = self._one(f0[i : i + 1, :n], gen)
            sines[i, :n], noises[i, :n], uvs[i, :n] = sine[0], noise[0], uv[0]
        return sines, noises, uvs

    def _one(
        self, f0: torch.Tensor, gen: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            steps = torch.arange(1, self.harmonics + 1, device=f0.device, dtype=f0.dtype)
            rad = (f0 * steps / self.rate) % 1
            start = torch.rand(1, self.harmonics, device=f0.device, generator=gen, dtype=f0.dtype)
            start[:, 0] = 0  # the fundamental starts at phase zero
            rad[:, 0, :] = rad[:, 0, :] + start
            # Integrate the phase at the frame rate and interpolate it back: cheap and smooth.
            rad = F.interpolate(
                rad.transpose(1, 2), scale_factor=1 / self.scale, mode="linear"
            ).transpose(1, 2)
            phase = torch.cumsum(rad, dim=1) * 2 * math.pi
            phase = F.interpolate(
                phase.transpose(1, 2) * self.scale, scale_factor=self.scale, mode="linear"
            ).transpose(1, 2)
            sine = torch.sin(phase) * self.sine_amp
            uv = (f0 > self.threshold).to(f0.dtype)
            amp = uv * self.noise_std + (1 - uv) * self.sine_amp / 3
            noise = amp * torch.randn(sine.shape, device=f0.device, generator=gen, dtype=f0.dtype)
            sine = sine * uv + noise
        merged = self.l_tanh(self.l_linear(sine))
        branch = torch.randn(uv.shape, device=f0.device, generator=gen, dtype=f0.dtype)
        return merged, branch * self.sine_amp / 3, uv


def install(modules: list[nn.Module], context: LengthContext) -> None:
    """Make the given modules padding-aware (in place, state dicts unchanged)."""

    def zero_padding(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        x = args[0]
        mask = context.mask(x.shape[-1], x)
        if mask is None:
            return None
        return (x * mask, *args[1:])

    for root in modules:
        for module in list(root.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, nn.InstanceNorm1d) and not child.affine:
                    setattr(module, name, MaskedInstanceNorm1d(context, child.eps))
                elif type(child).__name__ == "SourceModuleHnNSF":
                    setattr(module, name, SeededSource(child, context))
            if isinstance(module, nn.Conv1d | nn.ConvTranspose1d):
                module.register_forward_pre_hook(zero_padding)
