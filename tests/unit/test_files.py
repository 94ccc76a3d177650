"""Whole-or-nothing writes: the target holds the old or the new content, never a part."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.files import atomic_path, copy_atomic, write_bytes_atomic, write_text_atomic


def test_a_write_replaces_the_target_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "notes.txt"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second")
    assert target.read_text(encoding="utf-8") == "second"
    assert [p.name for p in target.parent.iterdir()] == ["notes.txt"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "chapter.wav"
    write_bytes_atomic(target, b"old audio")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half of the new au")
        raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old audio"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chapter.wav"]


def test_the_temporary_name_is_hidden_unique_and_keeps_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "mastered.wav"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second  # two writers of one target never share a temporary file
        for tmp in (first, second):
            assert tmp.name.startswith(".") and tmp.suffix == ".wav"
            tmp.write_bytes(tmp.name.encode())
    assert target.read_bytes() == first.name.encode()  # the outer context finished last


def test_copy_keeps_the_bytes(tmp_path: Path) -> None:
    src = tmp_path / "cover.jpg"
    src.write_bytes(bytes(range(256)))
    assert copy_atomic(src, tmp_path / "out" / "cover.jpg").read_bytes() == bytes(range(256))
