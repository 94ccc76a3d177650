"""The project is GPL-3.0-or-later and says so: LICENSE, pyproject, the third-party notices, the
app bundle, and a notices file that keeps up with the environment it was generated from."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTICES = REPO / "THIRD_PARTY_LICENSES"
SCRIPT = REPO / "scripts" / "third_party_licenses.py"
# sha256 of the GNU GPL version 3 as the FSF publishes it (gnu.org/licenses/gpl-3.0.txt).
GPL3_SHA256 = "3972dc9744f6499f0f9b2dbf76696f2ae7ad8af9b23dde66d6af86c9dfb36986"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("third_party_licenses", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _block(text: str, name: str) -> str:
    """The THIRD_PARTY_LICENSES entry of one distribution, up to the next one."""
    match = re.search(
        rf"^Distribution: {re.escape(name)} .*?(?=^Distribution: |\Z)", text, re.S | re.M
    )
    assert match, f"{name} is not listed"
    return match.group(0)


def test_license_is_the_unmodified_gpl3() -> None:
    data = (REPO / "LICENSE").read_bytes()
    assert data.lstrip().startswith(b"GNU GENERAL PUBLIC LICENSE\n                       Version 3")
    assert b"END OF TERMS AND CONDITIONS" in data
    assert hashlib.sha256(data).hexdigest() == GPL3_SHA256


def test_pyproject_says_gpl3_or_later() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "GPL-3.0-or-later"


def test_notices_name_the_gpl_lgpl_and_voice_licences() -> None:
    text = NOTICES.read_text(encoding="utf-8")
    assert "GPL-3.0" in _block(text, "piper-tts").splitlines()[1]
    for qt in ("PySide6_Essentials", "PySide6_Addons"):
        assert "LGPL" in _block(text, qt).splitlines()[1]
    voice = text[: text.index("Part 2.")]
    assert 'Piper voice "joe"' in voice
    assert "Voice licence: CC0-1.0" in voice
    assert "NabuCasa/voice-datasets" in voice  # the model card, with its dataset
    assert "espeak-ng" in voice and "FFmpeg" in voice
    assert "Distribution: audiobook-studio " not in text  # the project is not its own third party


def test_the_bundle_carries_both_texts() -> None:
    spec = (REPO / "packaging" / "audiobook_studio.spec").read_text(encoding="utf-8")
    datas = "\n".join(line for line in spec.splitlines() if line.startswith("datas"))
    assert '"LICENSE"' in datas and '"THIRD_PARTY_LICENSES"' in datas
    readme = (REPO / "packaging" / "README.md").read_text(encoding="utf-8")
    assert "LICENSE" in readme and "THIRD_PARTY_LICENSES" in readme


def test_the_script_reads_the_names_back() -> None:
    script = _script()
    text = "Distribution: piper-tts 1.8.0\nLicence: x\n\nDistribution: PySide6_Essentials 6.12\n"
    assert script.distribution_names(text) == {"piper-tts", "pyside6-essentials"}


def test_committed_notices_match_this_environment(tmp_path: Path) -> None:
    """Regenerating lists the same distributions: a dependency added or dropped without running
    the script fails here. Names only, so a patch release of one library does not."""
    pytest.importorskip("piplicenses")
    fresh = tmp_path / "THIRD_PARTY_LICENSES"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(fresh)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    script = _script()
    committed = script.distribution_names(NOTICES.read_text(encoding="utf-8"))
    regenerated = script.distribution_names(fresh.read_text(encoding="utf-8"))
    rerun = f".venv/bin/python {SCRIPT.relative_to(REPO)}"
    assert committed == regenerated, (
        f"THIRD_PARTY_LICENSES is stale (missing {sorted(regenerated - committed)}, "
        f"extra {sorted(committed - regenerated)}): run `{rerun}`"
    )


def test_voice_notices_skip_broken_engines_and_never_call_the_cloud(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipelines.app import notices
    from pipelines.engines import registry

    asked: list[str] = []
    real = registry.get_engine

    def get_engine(name: str) -> object:
        asked.append(name)
        if name == "broken":
            raise RuntimeError("cannot start")
        return real(name)

    monkeypatch.setattr(registry, "engine_names", lambda: ["broken", "elevenlabs", "piper"])
    monkeypatch.setattr(registry, "get_engine", get_engine)
    rows = notices.voice_notices()
    assert asked == ["broken", "piper"]  # the cloud engine is described, not asked
    assert [r.engine for r in rows] == ["piper", "elevenlabs"]
    assert rows[0].license == "CC0-1.0" and "NabuCasa" in rows[0].attribution
    assert rows[1].cloud and "Terms" in rows[1].license
