"""`models list`, `models download --from` and `doctor`, and that listing engines stays light."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines import downloads
from pipelines.cli.downloads import add_model_commands, doctor_lines

REPO = Path(__file__).resolve().parents[2]


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_model_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_models_list_shows_what_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "styletts2: not installed" in out
    assert "missing LibriTTS/epochs_2nd_00020.pth" in out
    assert "(training only)" in out


def test_models_download_from_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mset = downloads.model_set("styletts2")
    for item in mset.files:
        path = tmp_path / "files" / item.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"stand-in for {item.path}".encode())
    assert _run(["models", "download", "styletts2", "--from", str(tmp_path / "files")]) == 0
    assert downloads.is_installed(mset)
    assert (mset.root() / downloads.SUMS_FILE).is_file()
    assert "installed styletts2" in capsys.readouterr().out


def test_doctor_names_every_engine_and_says_how_to_install() -> None:
    lines = doctor_lines()
    engines = [line for line in lines if line[5:].startswith("engine ")]
    assert any(line[5:].startswith("engine styletts2:") for line in engines)
    assert "ok   engine piper: available" in engines
    for line in engines:
        if line.startswith("FIX  "):
            assert "install" in line.partition(" — ")[2]


def test_listing_engines_and_styletts2_voices_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from pipelines.engines import registry\n"
        "registry.known_engine_names(); registry.engine_names()\n"
        "from pipelines.engines.styletts2.engine import StyleTTS2Engine\n"
        "voices = StyleTTS2Engine().voices()\n"
        "assert voices, 'no starter voice'\n"
        "from pipelines import downloads\nfrom pipelines.cli import downloads as cli_downloads\n"
        "heavy = [m for m in ('torch', 'torchaudio', 'styletts2', 'transformers') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "print('light')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "light"
