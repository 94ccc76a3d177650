"""Where the studio keeps its files: the user's data directory (platformdirs), overridable."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir, user_data_dir, user_log_dir

APP = "audiobook-studio"
# Tests and portable installs point everything at one folder with this variable.
HOME_ENV = "AUDIOBOOK_STUDIO_HOME"


def _root(kind: str, default: str) -> Path:
    base = os.environ.get(HOME_ENV)
    path = Path(base) / kind if base else Path(default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Projects, downloaded models and user voices."""
    return _root("data", user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    return _root("config", user_config_dir(APP, appauthor=False))


def cache_dir() -> Path:
    return _root("cache", user_cache_dir(APP, appauthor=False))


def log_dir() -> Path:
    """Crash logs: the user's log folder, or `logs/` under AUDIOBOOK_STUDIO_HOME."""
    return _root("logs", user_log_dir(APP, appauthor=False))


def projects_dir() -> Path:
    path = data_dir() / "projects"
    path.mkdir(exist_ok=True)
    return path


def voices_dir(engine: str) -> Path:
    """User-added voices for one engine, e.g. `voices/piper/*.onnx`."""
    path = data_dir() / "voices" / engine
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(exist_ok=True)
    return path
