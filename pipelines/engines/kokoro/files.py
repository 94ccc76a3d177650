"""Where the Kokoro model and its voice packs are on disk, and cheap fingerprints of them.

`models download kokoro` (or `--from DIR`) fills `models_dir()/kokoro`:

    kokoro-v1.0.int8.onnx   the model
    voices/NAME.pt          the stock voice packs

A folder with the same layout can be used instead through `AUDIOBOOK_STUDIO_KOKORO_MODEL`.
Voice packs the author adds go to `voices_dir("kokoro")`, next to the saved blends.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines import downloads
from pipelines.core import paths
from pipelines.core.checksums import file_fingerprint
from pipelines.core.errors import StudioError

MODEL_DIR_ENV = "AUDIOBOOK_STUDIO_KOKORO_MODEL"
ENGINE = "kokoro"


def model_root() -> Path:
    custom = os.environ.get(MODEL_DIR_ENV, "").strip()
    return Path(custom).expanduser() if custom else downloads.model_set(ENGINE).root()


def model_file() -> Path:
    return model_root() / downloads.KOKORO_MODEL_FILE


def stock_voice_files() -> dict[str, Path]:
    """The downloaded stock voice packs, by voice id."""
    folder = model_root() / "voices"
    return {p.stem: p for p in sorted(folder.glob("*.pt"))} if folder.is_dir() else {}


def user_voice_files() -> dict[str, Path]:
    """Voice packs the author added (`voices_dir("kokoro")/NAME.pt`)."""
    return {p.stem: p for p in sorted(paths.voices_dir(ENGINE).glob("*.pt"))}


def is_installed() -> bool:
    """The model and at least one voice are there: Kokoro can speak."""
    return model_file().is_file() and bool(stock_voice_files() or user_voice_files())


def require_model() -> Path:
    path = model_file()
    if not path.is_file():
        raise StudioError(
            path,
            "the Kokoro model is not installed",
            "run `audiobook-studio models download kokoro` "
            "(or `models download kokoro --from FOLDER` with the files you have)",
        )
    return path


def fingerprint(path: Path) -> str:
    """A short content hash of a model or voice file (see `checksums.file_fingerprint`)."""
    return file_fingerprint(path)[:16]
