"""The Kokoro engine beyond the shared contract: offline synthesis, voices, settings, defaults."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.cast import casting
from pipelines.core.errors import StudioError
from pipelines.core.model import Utterance, VoiceRef
from pipelines.engines.base import Voice
from pipelines.engines.defaults import contrasting_voice, default_narrator
from pipelines.engines.kokoro.engine import KokoroEngine, speed_for
from pipelines.engines.registry import DEFAULT_VOICE, get_engine, resolve_voice
from pipelines.script.characters import Character, CharacterList
from pipelines.store.settings import NARRATOR
from tests.kokoro_files import REPO, install_kokoro

SENTENCE = "The ferry left the harbour an hour before dawn."


@pytest.fixture
def kokoro() -> KokoroEngine:
    install_kokoro()
    engine = get_engine("kokoro")
    assert isinstance(engine, KokoroEngine)
    return engine


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Any attempt to reach another machine fails the test (and is recorded)."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> None:
        attempts.append(args)
        raise AssertionError(f"network access during synthesis: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    yield attempts
    assert not attempts


def test_synthesis_touches_no_network(kokoro: KokoroEngine, no_network: list[Any]) -> None:
    kokoro.preload("bm_george")
    chunks = list(kokoro.synthesize(Utterance(SENTENCE), "bm_george", {}))
    assert chunks and sum(len(c.samples) for c in chunks) > 24000
    assert kokoro.identity("bm_george")
    assert not no_network


def test_voices_carry_accent_gender_licence_and_attribution(kokoro: KokoroEngine) -> None:
    found = {v.id: v for v in kokoro.voices()}
    assert len(found) == 14 and "jf_alpha" not in found
    heart, george = found["af_heart"], found["bm_george"]
    assert (heart.language, heart.gender, heart.name) == (
        "en-US",
        "female",
        "Heart (American, female)",
    )
    assert (george.language, george.gender, george.name) == (
        "en-GB",
        "male",
        "George (British, male)",
    )
    assert {v.license for v in found.values()} == {"Apache-2.0"}
    assert {v.attribution for v in found.values()} == {"Kokoro-82M by hexgrad"}
    assert {v.sample_rate for v in found.values()} == {24000}


def test_listing_voices_loads_no_model() -> None:
    from pipelines.engines.kokoro.session import gpu_build_installed

    if gpu_build_installed():
        pytest.skip("with onnxruntime-gpu the engine asks ONNX Runtime for a CUDA device")
    install_kokoro()
    code = (
        "import sys; from pipelines.engines.registry import get_engine; "
        "print(len(get_engine('kokoro').voices()), 'onnxruntime' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["14", "False"]


def test_without_the_model_the_engine_says_how_to_get_it() -> None:
    engine = get_engine("kokoro")
    with pytest.raises(StudioError, match=r"models download kokoro"):
        engine.voices()
    with pytest.raises(StudioError, match=r"models download kokoro"):
        resolve_voice(VoiceRef("kokoro", "af_heart"))
    assert default_narrator() == DEFAULT_VOICE


def test_speed_is_a_setting_per_voice(kokoro: KokoroEngine) -> None:
    assert speed_for({}, "af_heart") == 1.0
    assert speed_for({"speed": 1.2}, "af_heart") == 1.2
    settings = {"speed": 1.2, "speed.am_michael": 0.8}
    assert speed_for(settings, "am_michael") == 0.8 and speed_for(settings, "af_heart") == 1.2
    for bad in (3.0, 0.1, "fast", True):
        with pytest.raises(ValueError, match="speed"):
            speed_for({"speed": bad}, "af_heart")
    text = Utterance("Her brother laughed.")
    normal = sum(len(c.samples) for c in kokoro.synthesize(text, "am_michael", {}))
    faster = sum(len(c.samples) for c in kokoro.synthesize(text, "am_michael", {"speed": 1.5}))
    slower = sum(
        len(c.samples) for c in kokoro.synthesize(text, "am_michael", {"speed.am_michael": 0.7})
    )
    assert faster < 0.85 * normal < slower


def test_a_blend_speaks(kokoro: KokoroEngine) -> None:
    chunks = list(kokoro.synthesize(Utterance("Yes, she said."), "af_heart+am_michael", {}))
    audio = np.concatenate([c.samples for c in chunks])
    assert len(audio) > 12000 and float(np.abs(audio).max()) > 0.05


def test_the_pool_size_fits_the_machine(kokoro: KokoroEngine) -> None:
    assert kokoro.threads == 1
    assert 1 <= kokoro.limits.concurrency <= max(1, os.cpu_count() or 1)
    if not kokoro.gpu:
        assert kokoro.limits.gpu is False and kokoro.limits.concurrency >= 1
    else:  # a GPU renders one job at a time, fed by one process
        assert kokoro.limits.gpu is True and kokoro.limits.concurrency == 1


# -- the voices books start with -------------------------------------------------------------------


def test_new_books_get_kokoro_once_it_is_installed(tmp_path: Path) -> None:
    from pipelines.app.imports import import_manuscript

    story = tmp_path / "story.md"
    story.write_text("# A Story\n\n## One\n\nThe ferry was late.\n", encoding="utf-8")
    with import_manuscript(story, tmp_path / "before") as project:
        assert project.get_setting(NARRATOR) is None  # Piper, the fallback, stores nothing
    install_kokoro()
    assert default_narrator() == VoiceRef("kokoro", "af_heart")
    with import_manuscript(story, tmp_path / "after") as project:
        assert project.get_setting(NARRATOR) == "kokoro:af_heart"
    from pipelines.store import Project

    with Project.open(tmp_path / "before") as project:
        from pipelines.cast.narrator import narrator_voice

        assert narrator_voice(project) == DEFAULT_VOICE  # an older book keeps its voice


def test_dual_voice_pairs_a_kokoro_narrator_with_a_contrasting_voice() -> None:
    install_kokoro()
    assert contrasting_voice(VoiceRef("kokoro", "af_heart")) == VoiceRef("kokoro", "am_michael")
    assert contrasting_voice(VoiceRef("kokoro", "am_michael")) == VoiceRef("kokoro", "af_heart")
    assert contrasting_voice(VoiceRef("kokoro", "bf_emma")) == VoiceRef("kokoro", "bm_george")
    assert contrasting_voice(VoiceRef("kokoro", "bm_lewis")) == VoiceRef("kokoro", "bf_emma")
    blend = contrasting_voice(VoiceRef("kokoro", "af_heart:0.5+am_michael:0.5"))
    assert blend is not None and blend.voice_id not in ("af_heart", "am_michael")
    assert contrasting_voice(DEFAULT_VOICE) is None  # a Piper narrator reads dialogue too


def test_full_cast_suggestions_use_all_kokoro_voices_by_gender_and_accent(
    kokoro: KokoroEngine,
) -> None:
    voices: list[Voice] = [*get_engine("piper").voices(), *kokoro.voices()]
    names = [f"Woman{i}" for i in range(5)] + [f"Man{i}" for i in range(6)]
    characters = CharacterList(
        [Character(n, gender="female" if n.startswith("W") else "male", tagged=5) for n in names]
    )
    narrator = VoiceRef("kokoro", "bf_emma")
    out = casting.suggest_voices(characters, voices, narrator)
    by_id = {v.id: v for v in voices}
    chosen = [by_id[out[n].voice_id] for n in names]
    assert all(out[n].engine == "kokoro" for n in names)
    assert len({v.id for v in chosen}) == len(chosen)  # nobody shares a voice
    assert all(
        v.gender == ("female" if n.startswith("W") else "male")
        for n, v in zip(names, chosen, strict=True)
    )
    # The British narrator's own accent comes first, then Kokoro's American voices, not Piper.
    assert chosen[0].language == "en-GB" and chosen[5].language == "en-GB"
    assert [v.language for v in chosen[5:]] == ["en-GB"] * 4 + ["en-US"] * 2
    assert "bf_emma" not in {v.id for v in chosen}


# -- the model files -------------------------------------------------------------------------------


def test_the_download_manifest_is_checksummed_and_matches_the_files_tests_use(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipelines import downloads
    from pipelines.cli.main import main as cli_main
    from pipelines.core.checksums import file_sha256
    from tests.kokoro_files import source_dir

    mset = downloads.model_set("kokoro")
    assert all(f.sha256 and f.url.startswith("https://") and f.required for f in mset.files)
    source = source_dir()
    for item in mset.files:
        assert file_sha256(source / Path(item.path).name) == item.sha256, item.path
    assert cli_main(["models", "download", "kokoro", "--from", str(source)]) == 0
    assert "installed kokoro" in capsys.readouterr().out
    assert downloads.is_installed(mset) and default_narrator() == VoiceRef("kokoro", "af_heart")


def test_a_damaged_model_file_is_not_installed(tmp_path: Path) -> None:
    from pipelines import downloads
    from tests.kokoro_files import source_dir

    bad = tmp_path / "mine"
    bad.mkdir()
    for path in source_dir().iterdir():
        (bad / path.name).symlink_to(path.resolve())
    (bad / downloads.KOKORO_MODEL_FILE).unlink()
    (bad / downloads.KOKORO_MODEL_FILE).write_bytes(b"\0" * 1024)
    with pytest.raises(StudioError, match="SHA-256"):
        downloads.install_from("kokoro", bad)
