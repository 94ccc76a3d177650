"""Speaker attribution, the book's characters, casting modes and the author's corrections."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from pipelines.app.imports import import_manuscript
from pipelines.cast import casting
from pipelines.cli.script import add_script_commands, cmd_script
from pipelines.core.model import Block, BlockKind, Chapter, Role, VoiceRef
from pipelines.engines.base import Voice
from pipelines.script.attribution import attribute
from pipelines.script.builder import ScriptOptions, build_script
from pipelines.script.characters import find_characters

REPO = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "attribution_bench", REPO / "bench" / "attribution_bench.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def chapter(*paragraphs: str) -> Chapter:
    return Chapter("One", [Block(BlockKind.PARAGRAPH, p) for p in paragraphs])


def speakers(ch: Chapter) -> list[str | None]:
    return [q.speaker for q in attribute(ch)]


def test_tags_in_every_order() -> None:
    ch = chapter(
        "“Come in,” said Holmes.",
        "“Thank you,” Mr. Wilson replied.",
        "“Sit down,” remarked Sherlock Holmes, pointing.",
        "“I will,” said Wilson.",
    )
    # Aliases are one person: "Holmes" and "Sherlock Holmes", "Mr. Wilson" and "Wilson".
    assert speakers(ch) == ["Sherlock Holmes", "Mr. Wilson", "Sherlock Holmes", "Mr. Wilson"]
    assert all(q.method == "tag" and q.confidence >= 0.9 for q in attribute(ch))


def test_pronouns_go_to_the_person_just_named() -> None:
    ch = chapter(
        "Mr. Jabez Wilson laughed heavily. “Well, I never!” said he.",
        "Miss Hunter smiled. “It was nothing,” she said.",
    )
    out = attribute(ch)
    assert [q.speaker for q in out] == ["Mr. Jabez Wilson", "Miss Hunter"]
    assert all(0.5 < q.confidence < 0.95 for q in out)


def test_turn_taking_fills_an_untagged_exchange() -> None:
    ch = chapter(
        "“How often?” asked Holmes.",
        "“Some hundreds of times,” said Watson.",
        "“Then how many are there?”",
        "“I don't know.”",
        "“Quite so!”",
    )
    out = attribute(ch)
    assert [q.speaker for q in out] == ["Holmes", "Watson", "Holmes", "Watson", "Holmes"]
    assert out[0].confidence > out[2].confidence  # a tag beats turn-taking


def test_a_speech_over_several_paragraphs_keeps_its_speaker() -> None:
    ch = chapter(
        "“Tell me everything,” said Holmes.",
        "“Well, it began in May,” said Wilson. “We had a visitor.",
        "“He came every day, and said ‘Good morning,’ said he, every time.”",
    )
    assert speakers(ch)[-1] == "Wilson"


def test_first_person_tags_go_to_the_narrator_named_by_the_others() -> None:
    ch = chapter(
        "“You have been in Afghanistan, my dear Watson,” said Holmes.",
        "“How did you know?” I asked.",
        "“Watson, it is simple,” said Holmes.",
        "“Remarkable!” I cried.",
    )
    characters = find_characters(b.text for b in ch.blocks)
    assert characters.narrator == "Watson"
    assert [q.speaker for q in attribute(ch, characters)][1::2] == ["Watson", "Watson"]


def test_characters_merge_aliases_and_guess_gender(corpus_dir: Path) -> None:
    from pipelines.manuscript import load_book

    book = load_book(corpus_dir / "doyle_the-adventures-of-sherlock-holmes.epub")
    characters = find_characters(b.text for c in book.body for b in c.blocks)
    holmes = characters.resolve("Mr. Holmes")
    assert holmes is not None and holmes.name == "Sherlock Holmes"
    assert characters.resolve("Holmes") is holmes and characters.resolve("Sherlock") is holmes
    assert holmes.gender == "male" and holmes is characters.characters[0]
    hunter = characters.resolve("Miss Violet Hunter")
    assert hunter is not None and hunter.gender == "female"
    assert characters.narrator == "Watson"


def test_annotations_load_and_name_real_quotations() -> None:
    bench = _bench()
    annotations = bench.load_annotations()
    assert len(annotations) >= 2
    for a in annotations:
        assert a["book"] and a["chapter"] and len(a["quotations"]) >= 100
        assert all(
            {"block", "n", "snippet", "speaker", "tagged"} <= set(q) for q in a["quotations"]
        )


def test_attribution_reaches_its_accuracy_goals(corpus_dir: Path) -> None:
    bench = _bench()
    scores = [bench.score(a, corpus_dir) for a in bench.load_annotations()]
    tagged_right = sum(s.tagged_right for s in scores)
    tagged_total = sum(s.tagged_total for s in scores)
    right, total = sum(s.right for s in scores), sum(s.total for s in scores)
    assert tagged_total >= 100 and total >= 250
    assert tagged_right / tagged_total >= 0.90
    assert right / total >= 0.75


STORY = """# The Visit

“Come in,” said Holmes.

“Thank you,” said Mary Morstan. “I have a strange story.”

“Pray tell it.”

“It began ten years ago.”

“Go on,” said Holmes.
"""


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    source = tmp_path / "story.md"
    source.write_text(STORY, encoding="utf-8")
    project = import_manuscript(source, tmp_path / "project")
    project.close()
    return tmp_path / "project"


def _script(project_dir: Path) -> list[tuple[str, str | None, str | None]]:
    from pipelines.store import Project

    with Project.open(project_dir) as project:
        ch = next(c for c in project.chapters() if c.included)
        script = build_script(ch, ScriptOptions())
        casting.assign_voices(script, ch.id or 0, project)
    return [(u.role.value, u.speaker, str(u.voice)) for u in script if u.role is not Role.TITLE]


def test_modes_give_each_utterance_its_voice(project_dir: Path) -> None:
    from pipelines.cast.voices import set_dialogue_voice, set_narrator
    from pipelines.store import Project

    narrator, dialogue = VoiceRef("piper", "joe-us"), VoiceRef("silence", "default")
    with Project.open(project_dir) as project:
        set_narrator(project, narrator)
        set_dialogue_voice(project, dialogue)
    assert {v for _, _, v in _script(project_dir)} == {str(narrator)}  # single by default

    with Project.open(project_dir) as project:
        casting.set_book_mode(project, casting.CastMode.DUAL)
    rows = _script(project_dir)
    assert all(v == str(dialogue if r == "dialogue" else narrator) for r, _, v in rows)

    with Project.open(project_dir) as project:
        casting.set_book_mode(project, casting.CastMode.FULL)
        casting.set_character_voice(project, "Mary", VoiceRef("openai", "nova"))
        casting.set_unknown_speaker_voice(project, VoiceRef("openai", "onyx"))
        ch = next(c for c in project.chapters() if c.included)
        # A chapter may go back to a single voice while the book is full cast.
        casting.set_chapter_mode(project, ch.id or 0, casting.CastMode.SINGLE)
        assert casting.chapter_mode(project, ch.id or 0) is casting.CastMode.SINGLE
        casting.set_chapter_mode(project, ch.id or 0, None)
    rows = _script(project_dir)
    mary = {v for r, s, v in rows if s == "Mary Morstan"}
    holmes = {v for r, s, v in rows if s == "Holmes"}
    assert mary == {"openai:nova"} and holmes == {"openai:onyx"}
    assert {v for r, _, v in rows if r == "narration"} == {str(narrator)}


def test_corrections_survive_a_reimport(project_dir: Path, tmp_path: Path) -> None:
    from pipelines.store import Project

    with Project.open(project_dir) as project:
        casting.set_book_mode(project, casting.CastMode.FULL)
        ch = next(c for c in project.chapters() if c.included)
        quotes = casting.chapter_quotes(project, ch)
        # Untagged turns between two tagged ones alternate clearly and are not low; below a
        # higher bar, the guesses without a tag of their own are what an author would check.
        assert all(q.confidence < 0.7 for q in casting.low_confidence(quotes))
        low = casting.low_confidence(quotes, below=0.92)
        assert low and all(q.confidence < 0.92 and q.method != "corrected" for q in low)
        target = next(q for q in quotes if q.text.startswith("“It began"))
        assert casting.correct_speakers(project, [target], "Watson") == 1
    import_manuscript(tmp_path / "story.md", project_dir).close()
    with Project.open(project_dir) as project:
        ch = next(c for c in project.chapters() if c.included)
        again = {q.text: q for q in casting.chapter_quotes(project, ch)}
        assert again["“It began ten years ago.”"].speaker == "Watson"
        assert again["“It began ten years ago.”"].method == "corrected"
    assert ("dialogue", "Watson") in {(r, s) for r, s, _ in _script(project_dir)}


def test_voice_suggestions_follow_gender() -> None:
    ch = chapter(
        "“Come in,” said Mr. Holmes. He smiled; he was pleased.",
        "“Thank you,” said Miss Morstan. She sat; she was tired.",
    )
    voices = [
        Voice("openai", "onyx", "Onyx", gender="male"),
        Voice("openai", "nova", "Nova", gender="female"),
        Voice("piper", "joe-us", "Joe", gender="male"),
    ]
    out = casting.suggest_voices(find_characters(b.text for b in ch.blocks), voices)
    assert out["Mr. Holmes"].voice_id in ("onyx", "joe-us")
    assert out["Miss Morstan"] == VoiceRef("openai", "nova")


def test_script_command_prints_utterances(
    project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_script_commands(parser.add_subparsers())
    for target in (project_dir, tmp_path / "story.md"):
        args = parser.parse_args(["script", str(target), "--chapter", "1", "--json"])
        assert args.handler is cmd_script
        assert args.handler(args) == 0
        out = json.loads(capsys.readouterr().out)
        utterances = out[0]["utterances"]
        assert {"text", "role", "speaker", "confidence", "voice"} <= set(utterances[0])
        said = [u for u in utterances if u["role"] == "dialogue"]
        assert said[0]["text"] == '"Come in,"' and said[0]["speaker"] == "Holmes"
        assert all(u["voice"] for u in utterances)
