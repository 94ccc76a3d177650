"""The lock (constraints.txt) is what the suite runs with, and the torch pair in it loads."""

from __future__ import annotations

import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "constraints.txt"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)$")


def _pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"constraints.txt: {line!r} is not an exact pin (NAME==VERSION)"
        pins[_norm(match[1])] = match[2]
    return pins


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_dependency_is_pinned() -> None:
    pins = _pins()
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    names = {_norm(Requirement(d).name) for d in declared}
    assert names, "no dependencies found in pyproject.toml"
    missing = sorted(n for n in names if n not in pins)
    assert not missing, f"declared but not locked: {missing}; run scripts/refresh_lock.sh"


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="runs inside the project's venv")
def test_the_environment_is_exactly_the_lock() -> None:
    """What `make` installed is what the lock says: no drift between CI and a new machine."""
    pins = _pins()
    installed = {_norm(d.metadata["Name"]): d.version for d in md.distributions()}
    installed.pop("audiobook-studio", None)
    wrong = {n: (v, installed.get(n)) for n, v in pins.items() if installed.get(n, v) != v}
    assert not wrong, f"installed versions differ from the lock (lock, installed): {wrong}"
    unlocked = sorted(set(installed) - set(pins))
    assert not unlocked, f"installed but not in the lock: {unlocked}"


def test_torch_and_torchaudio_are_an_exact_pair() -> None:
    pins = _pins()
    assert "torch" in pins and "torchaudio" in pins
    assert pins["torch"].split("+")[0] == pins["torchaudio"].split("+")[0]


def test_the_locked_torch_pair_loads() -> None:
    pytest.importorskip("torch", reason="needs the styletts2 extra")
    # torchaudio's C++ library fails to load against a torch it was not built for.
    import torchaudio

    assert torchaudio.__version__.split("+")[0] == _pins()["torchaudio"]
