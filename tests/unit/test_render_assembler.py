"""A chapter assembled as its chunks arrive: the same file as assembling it at the end, in any
order of arrival; a stop leaves nothing behind."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
import soundfile as sf

from pipelines.audio.assemble import assemble_chapter
from pipelines.audio.profiles import ACX
from pipelines.core.errors import ManuscriptError
from pipelines.core.model import Utterance
from pipelines.render.assembler import StreamingAssembly
from pipelines.render.planner import PlannedChunk
from tests.audio_helpers import build_chapter


def _items(segments: list, cached: bool = False) -> list[PlannedChunk]:
    return [
        PlannedChunk(Utterance(text=s.text), key=f"k{i}", path=s.path, cached=cached)
        for i, s in enumerate(segments)
    ]


def _samples(path: Path) -> str:
    # the samples, not the file: libsndfile's PEAK chunk holds the time it was written
    data, _ = sf.read(str(path), dtype="float32")
    return hashlib.sha256(data.tobytes()).hexdigest()


def test_chunks_arriving_out_of_order_give_the_same_file(tmp_path: Path) -> None:
    segments = build_chapter(tmp_path / "c", 6, -24.0, seed=7, seconds=2.0)
    whole = assemble_chapter(segments, tmp_path / "whole.wav")
    items = _items(segments)
    assembling = StreamingAssembly(items, segments, tmp_path / "streamed.wav", ACX)
    # The workers finish out of order; the assembly waits for each next one in reading order.
    for i in (2, 0, 1, 5, 3, 4, 6):
        time.sleep(0.02)
        items[i].cached = True
        assembling.arrived()
    streamed = assembling.result()
    assert _samples(streamed.path) == _samples(whole.path)
    assert streamed.spans == whole.spans
    assert streamed.highpass_rms_db == whole.highpass_rms_db


def test_chunks_already_cached_are_written_at_once(tmp_path: Path) -> None:
    segments = build_chapter(tmp_path / "c", 3, -24.0, seed=3, seconds=1.0)
    assembling = StreamingAssembly(_items(segments, cached=True), segments, tmp_path / "a.wav", ACX)
    assert assembling.result().frames > 0


def test_it_writes_while_later_chunks_are_still_missing(tmp_path: Path) -> None:
    segments = build_chapter(tmp_path / "c", 4, -24.0, seed=5, seconds=1.0)
    items = _items(segments)
    out = tmp_path / "a.wav"
    assembling = StreamingAssembly(items, segments, out, ACX)
    for item in items[:-1]:
        item.cached = True
    assembling.arrived()
    # The first chunks are written into the (temporary) file before the last one exists.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(out.parent.glob(".a.*.part.wav")):
        time.sleep(0.01)
    partial = list(out.parent.glob(".a.*.part.wav"))
    assert partial and not out.exists()
    items[-1].cached = True
    assembling.arrived()
    assert assembling.result().path == out and out.is_file()
    assert not list(out.parent.glob(".a.*.part.wav"))


def test_abort_while_waiting_ends_the_thread_and_leaves_no_file(tmp_path: Path) -> None:
    segments = build_chapter(tmp_path / "c", 3, -24.0, seed=9, seconds=1.0)
    items = _items(segments)
    items[0].cached = True
    out = tmp_path / "a.wav"
    assembling = StreamingAssembly(items, segments, out, ACX)
    assembling.arrived()
    time.sleep(0.2)
    before = threading.active_count()
    assembling.abort()
    assert threading.active_count() == before - 1
    assert not out.exists() and not list(tmp_path.glob(".a.*"))
    with pytest.raises(RuntimeError, match="aborted"):
        assembling.result()


def test_an_unreadable_chunk_fails_the_result(tmp_path: Path) -> None:
    segments = build_chapter(tmp_path / "c", 2, -24.0, seed=2, seconds=1.0)
    segments[1].path.write_bytes(b"not audio")
    assembling = StreamingAssembly(_items(segments, cached=True), segments, tmp_path / "a.wav", ACX)
    with pytest.raises(ManuscriptError, match="cannot be read"):
        assembling.result()
    assert not list(tmp_path.glob("*.wav")) and not list(tmp_path.glob(".a.*"))
