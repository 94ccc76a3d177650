"""Kokoro voice packs read without torch, hostile ones refused, and blends of them."""

from __future__ import annotations

import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipelines.core.errors import StudioError
from pipelines.engines.kokoro import voices
from pipelines.engines.kokoro.voicefile import read_voice
from tests.kokoro_files import SHARED_VOICES, install_kokoro

# -- a torch voice pack written by hand: the same archive layout and pickle opcodes ------------


def _text(value: str) -> bytes:
    raw = value.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(values: tuple[int, ...]) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def tensor_pickle(
    numel: int, size: tuple[int, ...], stride: tuple[int, ...], offset: int = 0
) -> bytes:
    return (
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(("
        + _text("storage")
        + b"ctorch\nFloatStorage\n"
        + _text("0")
        + _text("cpu")
        + _int(numel)
        + b"tQ"
        + _int(offset)
        + _tuple(size)
        + _tuple(stride)
        + b"\x89ccollections\nOrderedDict\n)Rt"
        + b"R."
    )


def write_pack(path: Path, data: np.ndarray, pickle_bytes: bytes | None = None) -> Path:
    name = path.stem
    flat = np.ascontiguousarray(data, dtype="<f4").reshape(-1)
    rows = flat.size // 256
    body = pickle_bytes or tensor_pickle(flat.size, (rows, 1, 256), (256, 256, 1))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}/data.pkl", body)
        z.writestr(f"{name}/byteorder", "little")
        z.writestr(f"{name}/data/0", flat.tobytes())
        z.writestr(f"{name}/version", "3\n")
    return path


def test_a_stock_pack_reads_as_510_style_vectors() -> None:
    if not (SHARED_VOICES / "af_heart.pt").is_file():
        pytest.skip(f"no shared voices at {SHARED_VOICES}")
    table = read_voice(SHARED_VOICES / "af_heart.pt")
    assert table.shape == (510, 256) and table.dtype == np.float32
    assert np.all(np.isfinite(table)) and float(np.abs(table).max()) > 0.01


def test_a_hand_written_pack_round_trips(tmp_path: Path) -> None:
    data = np.random.default_rng(1).standard_normal((510, 1, 256)).astype(np.float32)
    table = read_voice(write_pack(tmp_path / "af_test.pt", data))
    assert table.shape == (510, 256) and table.dtype == np.float32
    assert np.array_equal(table, data.reshape(510, 256))


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(
    "payload",
    [
        "os.system",
        "builtins.eval",
    ],
)
def test_a_pickle_that_runs_code_is_refused_and_nothing_runs(tmp_path: Path, payload: str) -> None:
    marker = tmp_path / "pwned"
    if payload == "os.system":
        body = pickle.dumps(_Payload(marker), protocol=2)
    else:
        body = pickle.dumps(eval, protocol=2)  # a bare reference to a builtin is refused too
    path = write_pack(tmp_path / "af_evil.pt", np.zeros((510, 1, 256), np.float32), body)
    with pytest.raises(StudioError, match="refused"):
        read_voice(path)
    assert not marker.exists()


def test_a_tensor_reaching_past_its_storage_is_refused(tmp_path: Path) -> None:
    body = tensor_pickle(510 * 256, (511, 1, 256), (256, 256, 1))
    path = write_pack(tmp_path / "af_long.pt", np.zeros((510, 1, 256), np.float32), body)
    with pytest.raises(StudioError, match="past its storage"):
        read_voice(path)


@pytest.mark.parametrize("shape", [(510, 2, 128), (510, 1, 255), (256,)])
def test_a_pack_of_the_wrong_shape_is_refused(tmp_path: Path, shape: tuple[int, ...]) -> None:
    numel = int(np.prod(shape))
    stride = tuple(int(np.prod(shape[i + 1 :])) for i in range(len(shape)))
    body = tensor_pickle(numel, shape, stride)
    path = tmp_path / "af_odd.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("af_odd/data.pkl", body)
        z.writestr("af_odd/byteorder", "little")
        z.writestr("af_odd/data/0", np.zeros(numel, "<f4").tobytes())
    with pytest.raises(StudioError, match="shape"):
        read_voice(path)


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04broken"])
def test_a_file_that_is_not_a_pack_says_so(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "af_bad.pt"
    path.write_bytes(content)
    with pytest.raises(StudioError, match="voice pack"):
        read_voice(path)


# -- blends ---------------------------------------------------------------------------------------


def test_blend_ids_parse_with_and_without_weights() -> None:
    assert voices.parse_blend("af_heart+am_michael") == [("af_heart", 0.5), ("am_michael", 0.5)]
    parts = voices.parse_blend("af_heart:0.6+bm_george:0.4")
    assert [n for n, _ in parts] == ["af_heart", "bm_george"]
    assert [round(w, 6) for _, w in parts] == [0.6, 0.4]
    assert voices.canonical_blend("af_heart:3+bm_george:1") == "af_heart:0.75+bm_george:0.25"
    for bad in ("af_heart+af_heart", "af_heart:0", "af heart+x", "af_heart:-1+am_adam"):
        with pytest.raises(StudioError):
            voices.parse_blend(bad)


def test_a_blend_is_the_weighted_mean_and_speaks_with_its_largest_part() -> None:
    a = np.ones((510, 256), np.float32)
    b = np.full((510, 256), 3.0, np.float32)
    mixed = voices.mix([a, b], [0.75, 0.25])
    assert mixed.dtype == np.float32 and mixed.shape == (510, 256)
    assert np.allclose(mixed, 1.5)
    t = voices.blend_traits("af_heart:0.6+bm_george:0.4")
    assert (t.accent, t.gender) == ("us", "")
    t = voices.blend_traits("bf_emma:0.7+af_heart:0.3")
    assert (t.accent, t.language, t.gender) == ("gb", "en-GB", "female")


def test_a_saved_blend_is_listed_and_mixes_the_packs() -> None:
    install_kokoro()
    from pipelines.engines.registry import get_engine

    engine = get_engine("kokoro")
    blend = "af_heart:0.6+bm_george:0.4"
    assert blend not in {v.id for v in engine.voices()}
    voice = engine.save_blend("af_heart:3+bm_george:2", "Heart and George")
    assert voice.id == blend and voice.name == "Heart and George"
    listed = {v.id: v for v in engine.voices()}
    assert listed[blend].license == "Apache-2.0"
    assert listed[blend].attribution == "Kokoro-82M by hexgrad"
    table = engine._table(blend)  # type: ignore[attr-defined]
    expected = 0.6 * read_voice(SHARED_VOICES / "af_heart.pt") + 0.4 * read_voice(
        SHARED_VOICES / "bm_george.pt"
    )
    assert np.allclose(table, expected, atol=1e-6)
    assert engine.identity(blend) != engine.identity("af_heart")
    assert engine.identity(blend) != engine.identity("af_heart:0.5+bm_george:0.5")
    with pytest.raises(StudioError, match="no voice 'af_nobody'"):
        engine.save_blend("af_heart+af_nobody")


def test_an_unsaved_blend_can_be_cast_by_its_id() -> None:
    install_kokoro()
    from pipelines.core.model import VoiceRef
    from pipelines.engines.registry import resolve_voice

    engine, voice = resolve_voice(VoiceRef("kokoro", "af_heart+am_michael"))
    assert engine.name == "kokoro" and voice.id == "af_heart+am_michael"
    assert (voice.language, voice.gender, voice.license) == ("en-US", "", "Apache-2.0")
    assert voice.name == "Blend: Heart 50% + Michael 50% (American)"
    with pytest.raises(StudioError, match="no voice 'af_heart\\+af_nobody'"):
        resolve_voice(VoiceRef("kokoro", "af_heart+af_nobody"))
