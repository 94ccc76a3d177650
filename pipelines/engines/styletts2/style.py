"""A voice's style vector: computed once from its reference clip, then cached by the clip's hash.

The cache lives in memory and on disk (`cache_dir()/styletts2/styles`), keyed by the clip's
SHA-256 and the model's fingerprint, so a re-recorded clip or another model gets a fresh vector.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.core import paths
from pipelines.core.checksums import file_sha256
from pipelines.core.errors import StudioError
from pipelines.core.files import atomic_path

SAMPLE_RATE = 24000
MIN_SECONDS = 3.0  # the style encoders need about a second; three gives a usable voice
MAX_SECONDS = 60.0  # more adds nothing but time
_TRIM_DB = 30.0
_MEL_MEAN, _MEL_STD = -4.0, 4.0  # the normalisation the encoders were trained with

_MEMORY: dict[str, np.ndarray] = {}
_LOCK = threading.Lock()


def style_for(model: Any, clip: Path, digest: str | None = None) -> np.ndarray:
    """The style vector (1, 2 x style_dim) of `clip` under `model`, from cache when possible."""
    digest = digest or file_sha256(clip)
    key = f"{model.fingerprint}-{digest[:32]}"
    with _LOCK:
        cached = _MEMORY.get(key)
    if cached is not None:
        return cached
    disk = paths.cache_dir() / "styletts2" / "styles" / f"{key}.npy"
    vector: np.ndarray | None = None
    if disk.is_file():
        try:
            vector = np.load(disk)
        except (OSError, ValueError):
            vector = None  # a damaged cache entry is recomputed
    if vector is None or vector.shape != (1, model.style_dim * 2):
        vector = compute_style(model, load_clip(clip))
        _save_atomic(disk, vector)
    with _LOCK:
        _MEMORY[key] = vector
    return vector


def load_clip(path: Path) -> np.ndarray:
    """A reference clip as mono float32 at 24 kHz, silence trimmed from both ends."""
    import soundfile

    fix = "use a WAV or FLAC recording of 10-30 seconds of clean speech"
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        raise StudioError(path, f"cannot read the reference clip ({exc})", fix) from None
    mono = audio.mean(axis=1)
    if rate != SAMPLE_RATE:
        from scipy.signal import resample_poly

        g = int(np.gcd(int(rate), SAMPLE_RATE))
        mono = resample_poly(mono, SAMPLE_RATE // g, int(rate) // g).astype(np.float32)
    mono = trim_silence(mono)
    seconds = len(mono) / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise StudioError(path, f"the reference clip holds only {seconds:.1f} s of sound", fix)
    return mono[: int(MAX_SECONDS * SAMPLE_RATE)]


def trim_silence(audio: np.ndarray, top_db: float = _TRIM_DB, frame: int = 2048) -> np.ndarray:
    """Drop leading and trailing stretches more than `top_db` below the loudest frame."""
    hop = frame // 4
    if len(audio) <= frame:
        return audio
    starts = np.arange(0, len(audio) - frame + 1, hop)
    rms = np.sqrt(np.array([np.mean(audio[s : s + frame] ** 2) for s in starts]) + 1e-12)
    db = 20 * np.log10(rms / max(float(rms.max()), 1e-12))
    loud = np.nonzero(db > -top_db)[0]
    if not len(loud):
        return audio[:0]
    return audio[starts[loud[0]] : min(len(audio), starts[loud[-1]] + frame)]


def compute_style(model: Any, audio: np.ndarray) -> np.ndarray:
    """Run the acoustic and prosodic style encoders over the clip's log-mel spectrogram."""
    import torch
    import torchaudio

    to_mel = torchaudio.transforms.MelSpectrogram(
        n_mels=80, n_fft=2048, win_length=1200, hop_length=300
    )
    with torch.no_grad():
        mel = to_mel(torch.from_numpy(audio).float())
        mel = (torch.log(1e-5 + mel.unsqueeze(0)) - _MEL_MEAN) / _MEL_STD
        mel = mel.unsqueeze(1).to(model.device.name)
        acoustic = model.nets["style_encoder"](mel)
        prosodic = model.nets["predictor_encoder"](mel)
        vector = torch.cat([acoustic, prosodic], dim=1).float().cpu().numpy()
    return np.asarray(vector, dtype=np.float32)


def _save_atomic(path: Path, vector: np.ndarray) -> None:
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.save(fh, vector)
