"""Where a StyleTTS2 model lives on disk, and a cheap fingerprint of it.

A model folder holds the layout `models download styletts2` writes (the user may also point at a
folder of their own with the same layout):

    LibriTTS/config.yml            model configuration
    LibriTTS/epochs_2nd_00020.pth  the trained checkpoint ("net": one state dict per module)
    PLBERT/config.yml              the phoneme BERT's architecture
    PLBERT/step_1000000.t7         PL-BERT weights (only read when the checkpoint lacks them)
    ASR/, JDC/                     the aligner and pitch models, used in training only
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.core import paths
from pipelines.core.checksums import file_fingerprint
from pipelines.core.errors import StudioError

# A folder of model files the user points at instead of the downloaded one.
MODEL_DIR_ENV = "AUDIOBOOK_STUDIO_STYLETTS2_MODEL"
SUBDIR = "styletts2"

CONFIG = "LibriTTS/config.yml"
CHECKPOINT = "LibriTTS/epochs_2nd_00020.pth"
PLBERT_CONFIG = "PLBERT/config.yml"
PLBERT_CHECKPOINT = "PLBERT/step_1000000.t7"
REQUIRED = (CONFIG, CHECKPOINT, PLBERT_CONFIG)


@dataclass(frozen=True, slots=True)
class ModelFiles:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def checkpoint(self) -> Path:
        return self.root / CHECKPOINT

    @property
    def plbert_config(self) -> Path:
        return self.root / PLBERT_CONFIG

    @property
    def plbert_checkpoint(self) -> Path:
        return self.root / PLBERT_CHECKPOINT

    def missing(self) -> list[str]:
        return [name for name in REQUIRED if not (self.root / name).is_file()]


def default_root() -> Path:
    return paths.models_dir() / SUBDIR


def model_root() -> Path:
    """The folder the engine loads from: the user's own when set, else the downloaded one."""
    custom = os.environ.get(MODEL_DIR_ENV, "").strip()
    return Path(custom).expanduser() if custom else default_root()


def locate() -> ModelFiles:
    """The model's files, or a clear error saying how to get them."""
    files = ModelFiles(model_root())
    missing = files.missing()
    if missing:
        raise StudioError(
            files.root,
            f"the StyleTTS2 model is not installed (missing {', '.join(missing)})",
            "run `audiobook-studio models download styletts2`, or set "
            f"{MODEL_DIR_ENV} to a folder holding those files",
        )
    return files


def fingerprint(files: ModelFiles) -> str:
    """Changes when the config or checkpoint changes; reads 2 MB, not the whole checkpoint."""
    digest = hashlib.sha256()
    for path in (files.config, files.checkpoint, files.plbert_config):
        digest.update(file_fingerprint(path).encode())
    return digest.hexdigest()[:16]
