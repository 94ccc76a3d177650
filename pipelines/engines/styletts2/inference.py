"""Batched StyleTTS2 inference: several sentences per forward pass, each as if spoken alone.

Token sequences are padded and masked; the text encoder, PL-BERT, the prosody predictor and the
decoder run on the whole batch (recurrent layers on packed sequences, norms and convolutions
padding-aware, see `batching.py`). The style diffusion runs per sentence: its transformer has no
padding mask, and it is a small part of the work. Each sentence's randomness comes from its own
seed, so a sentence sounds the same whatever batch it lands in, and on every re-render.

Long-form consistency: each sentence's predicted style is blended with the previous sentence's
(`carry`, 0.7 by default) before being mixed with the reference voice, so a chapter does not
drift from one sentence to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from pipelines.engines.styletts2.loader import LoadedModel

# The decoder ends every utterance with a short click; these samples are dropped.
_TAIL_TRIM = 100


@dataclass(frozen=True, slots=True)
class StyleSettings:
    alpha: float = 0.3  # timbre: 0 = the reference voice, 1 = what the text suggests
    beta: float = 0.7  # prosody: likewise
    diffusion_steps: int = 5
    embedding_scale: float = 1.0  # classifier-free guidance: above 1 is more expressive
    speed: float = 1.0
    carry: float = 0.7  # weight of the previous sentence's style in the next one


@dataclass(frozen=True, slots=True)
class SentenceJob:
    tokens: list[int]
    seed: int


def _autocast(model: LoadedModel) -> Any:
    if model.device.half and model.device.kind == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return nullcontext()


def _pack_run(lstm: Any, x: torch.Tensor, lengths: torch.Tensor, total: int) -> torch.Tensor:
    """A bidirectional LSTM over padded (B, T, C) input, blind to the padding."""
    packed = nn.utils.rnn.pack_padded_sequence(
        x, lengths.cpu(), batch_first=True, enforce_sorted=False
    )
    lstm.flatten_parameters()
    out, _ = lstm(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=total)
    return out


def _shift_one_frame(x: torch.Tensor) -> torch.Tensor:
    # The HiFi-GAN decoder was trained on features delayed by one frame.
    shifted = torch.zeros_like(x)
    shifted[:, :, 0] = x[:, :, 0]
    shifted[:, :, 1:] = x[:, :, :-1]
    return shifted


def sample_style(
    model: LoadedModel,
    embedding: torch.Tensor,
    ref: torch.Tensor,
    seed: int,
    settings: StyleSettings,
) -> torch.Tensor:
    """One sentence's style from the diffusion model, conditioned on its BERT embedding."""
    device = torch.device(model.device.name)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed & 0x7FFF_FFFF_FFFF_FFFF)
        noise = torch.randn((1, 1, model.style_dim * 2), device=device)
        style = model.sampler(
            noise=noise,
            embedding=embedding,
            embedding_scale=settings.embedding_scale,
            features=ref,
            num_steps=settings.diffusion_steps,
        )
    result: torch.Tensor = style.squeeze(1).float()
    return result


@torch.no_grad()
def synthesize_batch(
    model: LoadedModel,
    jobs: Sequence[SentenceJob],
    ref: torch.Tensor,
    settings: StyleSettings,
    previous: torch.Tensor | None = None,
) -> tuple[list[np.ndarray], torch.Tensor | None]:
    """Speak consecutive sentences in one pass; returns their audio and the last style."""
    if not jobs:
        return [], previous
    nets = model.nets
    device = torch.device(model.device.name)
    sd = model.style_dim
    ref = ref.to(device).float().reshape(1, -1)
    lengths = torch.tensor([len(j.tokens) for j in jobs], dtype=torch.long)
    total = int(lengths.max())
    tokens = torch.zeros((len(jobs), total), dtype=torch.long)
    for i, job in enumerate(jobs):
        tokens[i, : len(job.tokens)] = torch.tensor(job.tokens, dtype=torch.long)
    tokens = tokens.to(device)
    lengths_dev = lengths.to(device)
    pad_mask = torch.arange(total, device=device)[None, :] >= lengths_dev[:, None]

    with _autocast(model):
        t_en = nets["text_encoder"](tokens, lengths_dev, pad_mask).float()
        bert_out = nets["bert"](tokens, attention_mask=(~pad_mask).int())
        d_en = nets["bert_encoder"](bert_out).transpose(-1, -2).float()
        predicted = [
            sample_style(model, bert_out[i : i + 1, : int(n)], ref, job.seed, settings)
            for i, (job, n) in enumerate(zip(jobs, lengths, strict=True))
        ]

    # Sequential, but only vector arithmetic: blend with the previous sentence, then the voice.
    timbres, prosodies = [], []
    for style in predicted:
        if previous is not None and settings.carry > 0:
            style = settings.carry * previous + (1 - settings.carry) * style
        timbre = settings.alpha * style[:, :sd] + (1 - settings.alpha) * ref[:, :sd]
        prosody = settings.beta * style[:, sd:] + (1 - settings.beta) * ref[:, sd:]
        previous = torch.cat([timbre, prosody], dim=-1)
        timbres.append(timbre)
        prosodies.append(prosody)
    timbre_b = torch.cat(timbres)
    prosody_b = torch.cat(prosodies)

    predictor = nets["predictor"]
    d = predictor.text_encoder(d_en, prosody_b, lengths_dev, pad_mask)
    x = _pack_run(predictor.lstm, d, lengths, total)
    duration = torch.sigmoid(predictor.duration_proj(x)).sum(dim=-1) / settings.speed
    durations = torch.round(duration).clamp(min=1).long().cpu()
    frames = torch.stack([durations[i, : int(n)].sum() for i, n in enumerate(lengths)])
    n_frames = int(frames.max())

    # Hard alignment: token k of item i covers its run of frames.
    alignment = torch.zeros((len(jobs), total, n_frames))
    for i, n in enumerate(lengths):
        owner = torch.repeat_interleave(torch.arange(int(n)), durations[i, : int(n)])
        alignment[i, owner, torch.arange(len(owner))] = 1.0
    alignment = alignment.to(device)

    en = d.transpose(-1, -2) @ alignment
    asr = t_en @ alignment
    if model.hifigan:
        en, asr = _shift_one_frame(en), _shift_one_frame(asr)

    context = model.context
    context.activate(frames.to(device), n_frames, [job.seed for job in jobs])
    try:
        f0, noise = _prosody(predictor, en, frames, n_frames, prosody_b)
        audio = nets["decoder"](asr, f0, noise, timbre_b)
    finally:
        context.clear()

    audio = audio.reshape(len(jobs), -1).float().cpu()
    per_frame = audio.shape[-1] // n_frames
    out = []
    for i in range(len(jobs)):
        n = int(frames[i]) * per_frame
        out.append(audio[i, : max(n - _TAIL_TRIM, 1)].numpy().astype(np.float32))
    return out, previous


def _prosody(
    predictor: Any, en: torch.Tensor, frames: torch.Tensor, total: int, style: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pitch and energy curves (the package's `F0Ntrain`, with the LSTM packed)."""
    x = _pack_run(predictor.shared, en.transpose(-1, -2), frames, total).transpose(-1, -2)
    f0 = x
    for block in predictor.F0:
        f0 = block(f0, style)
    f0 = predictor.F0_proj(f0)
    energy = x
    for block in predictor.N:
        energy = block(energy, style)
    energy = predictor.N_proj(energy)
    return f0.squeeze(1), energy.squeeze(1)
