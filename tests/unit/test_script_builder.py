"""Chapters -> utterances: every word once, in order, within the engine's limit, never mid-word."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.core.model import WORD_RE, Block, BlockKind, Chapter, PauseKind, Role
from pipelines.manuscript import load_book
from pipelines.script.builder import ScriptOptions, build_script
from pipelines.script.pauses import PauseModel
from pipelines.script.sentences import fit_to_limit
from pipelines.speech.normalize import prepare_chapter


def words(text: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(text)]


def spoken_words(chapter: Chapter, lang: str = "en") -> list[str]:
    out: list[str] = []
    for block, spoken in prepare_chapter(chapter, lang, None):
        if block.kind is not BlockKind.SCENE_BREAK:
            out += words(spoken)
    return out


def test_fit_to_limit_never_cuts_a_word() -> None:
    sentence = (
        "It was the best of times, it was the worst of times; it was the age of wisdom, and "
        "it was the age of foolishness, which nobody denied"
    )
    for limit in (20, 35, 60, 500):
        pieces = fit_to_limit(sentence, limit)
        assert all(len(p) <= limit for p in pieces)
        assert " ".join(pieces) == sentence
        assert all(not p.startswith(" ") and not p.endswith(" ") for p in pieces)


def test_fit_to_limit_cuts_inside_an_overlong_token_only_as_a_last_resort() -> None:
    token = "x" * 45
    pieces = fit_to_limit(f"see {token} here", 20)
    assert all(len(p) <= 20 for p in pieces)
    assert "".join(pieces).replace(" ", "") == f"see{token}here"


def test_chapter_script_reads_heading_then_every_word(tmp_path: Path) -> None:
    chapter = Chapter(
        title="Chapter 1. The Start",
        blocks=[
            Block(BlockKind.HEADING, "Chapter 1. The Start", level=2),
            Block(BlockKind.PARAGRAPH, "Mr. Wren lit the lamp. It was 6:15 and raining."),
            Block(BlockKind.SCENE_BREAK, "* * *"),
            Block(BlockKind.VERSE, "Twinkle, twinkle, little bat!"),
            Block(BlockKind.VERSE, "How I wonder what you're at!"),
            Block(BlockKind.PARAGRAPH, "The end came quickly."),
        ],
    )
    script = build_script(chapter, ScriptOptions(max_chars=400))
    assert script[0].role is Role.TITLE and script[0].pause_after is PauseKind.HEADING
    assert [w for u in script for w in words(u.text)] == spoken_words(chapter)
    pauses = [u.pause_after for u in script]
    # "...raining." is followed by the scene break; the last verse line ends its stanza.
    assert pauses[2] is PauseKind.SCENE
    assert pauses[3] is PauseKind.LINE and pauses[4] is PauseKind.PARAGRAPH
    assert pauses[-1] is PauseKind.CHAPTER
    assert "Mister" in script[1].text


def test_title_without_heading_block_is_read_from_the_title() -> None:
    chapter = Chapter(title="Loomings", blocks=[Block(BlockKind.PARAGRAPH, "Call me Ishmael.")])
    script = build_script(chapter, ScriptOptions())
    assert [u.text for u in script] == ["Loomings", "Call me Ishmael."]
    clip = build_script(chapter, ScriptOptions(read_title=False))
    assert [u.text for u in clip] == ["Call me Ishmael."]


@pytest.mark.parametrize("max_chars", [120, 400])
def test_a_real_book_is_spoken_whole(corpus_dir: Path, max_chars: int) -> None:
    book = load_book(corpus_dir / "wells_the-time-machine.txt")
    for chapter in book.body[:4]:
        script = build_script(chapter, ScriptOptions(max_chars=max_chars))
        assert all(len(u.text) <= max_chars for u in script)
        said = [w for u in script for w in words(u.text)]
        assert said == spoken_words(chapter), chapter.title


def test_pause_model_validates_and_round_trips() -> None:
    model = PauseModel.from_dict({"sentence": 0.6, "unknown": 3})
    assert model.seconds(PauseKind.SENTENCE) == 0.6
    assert PauseModel.from_dict(model.to_dict()) == model
    with pytest.raises(ValueError, match="between 0 and 10"):
        PauseModel.from_dict({"paragraph": -1})
