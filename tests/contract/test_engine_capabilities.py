"""Every registered engine declares what kind of engine it is, on its class."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.engines import registry
from pipelines.engines.base import Capabilities
from pipelines.engines.registry import capabilities, known_engine_names

REPO = Path(__file__).resolve().parents[2]
CLOUD = {"openai", "elevenlabs", "inworld"}


def _engine_class(name: str) -> type:
    module_name, _, class_name = registry._SPECS[name].target.partition(":")
    cls: type = getattr(importlib.import_module(module_name), class_name)
    return cls


@pytest.mark.parametrize("name", known_engine_names())
def test_every_engine_class_declares_its_capabilities(name: str) -> None:
    declared = vars(_engine_class(name)).get("capabilities")
    assert isinstance(declared, Capabilities), f"{name} declares no Capabilities"
    assert capabilities(name) is declared
    assert capabilities(f" {name.upper()} ") is declared
    assert declared.resource in {"cpu", "gpu", "network"}
    assert declared.billed == (name in CLOUD)
    assert (declared.resource == "network") == (name in CLOUD)


def test_cloud_engines_are_billed_and_elevenlabs_stitches() -> None:
    assert set(known_engine_names()) >= CLOUD
    assert all(capabilities(name).billed for name in CLOUD)
    assert capabilities("elevenlabs").stitching
    assert not capabilities("openai").stitching
    assert capabilities("styletts2").gpu
    assert not any(capabilities(name).billed for name in ("piper", "kokoro", "silence"))


def test_an_unregistered_engine_declares_nothing() -> None:
    assert capabilities("warble") == Capabilities()


def test_reading_capabilities_imports_no_heavy_package() -> None:
    code = (
        "import sys\n"
        "from pipelines.engines.registry import capabilities, known_engine_names\n"
        "for name in known_engine_names(): capabilities(name)\n"
        "heavy = ('torch', 'torchaudio', 'styletts2', 'onnxruntime', 'piper', 'misaki', "
        "'openai', 'elevenlabs')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
