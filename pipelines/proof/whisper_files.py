"""Where the Whisper model that proof-listening uses is on disk.

`models download whisper [--size base|small|medium]` (or `--from FOLDER`) fills
`models_dir()/whisper` (base) or `models_dir()/whisper-SIZE` with the CTranslate2 files
faster-whisper loads (config.json, model.bin, tokenizer.json, vocabulary.txt). A folder with the
same files can be used instead through `AUDIOBOOK_STUDIO_WHISPER_MODEL`. Nothing is ever
downloaded while proofing: a missing model is an error that names the command to run.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines import downloads
from pipelines.core.errors import StudioError

MODEL_DIR_ENV = "AUDIOBOOK_STUDIO_WHISPER_MODEL"
DEFAULT_SIZE = "base"


def _check_size(size: str) -> str:
    if size not in downloads.WHISPER_SIZES:
        raise StudioError(
            None,
            f"there is no Whisper model size '{size}'",
            f"use one of: {', '.join(downloads.WHISPER_SIZES)}",
        )
    return size


def model_root(size: str = DEFAULT_SIZE) -> Path:
    """The folder the model of `size` is loaded from (the variable wins when set)."""
    custom = os.environ.get(MODEL_DIR_ENV, "").strip()
    if custom:
        return Path(custom).expanduser()
    return downloads.model_set(downloads.whisper_set_name(_check_size(size))).root()


def is_installed(size: str = DEFAULT_SIZE) -> bool:
    root = model_root(size)
    return all((root / name).is_file() for name in downloads.WHISPER_FILES)


def require_model(size: str = DEFAULT_SIZE) -> Path:
    """The model's folder, or an error naming the command that installs it."""
    root = model_root(size)
    missing = [name for name in downloads.WHISPER_FILES if not (root / name).is_file()]
    if missing:
        option = "" if size == DEFAULT_SIZE else f" --size {size}"
        raise StudioError(
            root,
            f"the Whisper {size} model for proof-listening is not installed"
            f" ({', '.join(missing)} missing)",
            f"run `audiobook-studio models download whisper{option}` "
            f"(or `models download whisper{option} --from FOLDER` with the files you have)",
        )
    return root
