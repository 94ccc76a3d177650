"""How each character talks: learned from tagged speech, weighed in the scene's decision."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.script.attribution import SELF_TRAINED, attribute, learn_idiolects
from pipelines.script.characters import find_characters
from pipelines.script.conversation import TurnEvidence, decide_scene
from pipelines.script.idiolect import Idiolects, words


def test_words_keep_contractions_and_drop_case() -> None:
    assert words("Don\u2019t, Papa! I can't.") == ["don\u2019t", "papa", "i", "can't"]


def test_a_quotation_sounds_like_whoever_says_its_words() -> None:
    idiolects = Idiolects.learn(
        [
            ("Emma", "Oh, papa, you are so good, papa."),
            ("Emma", "No, papa, indeed."),
            ("Isabella", "Yes, sir, I assure you, sir."),
            ("Isabella", "Indeed, sir."),
        ]
    )
    emma, isabella, stranger = idiolects.score(words("But papa, why?"), ["Emma", "Isabella", "X"])
    assert emma > 0 > isabella
    assert stranger == 0.0  # nobody heard before is neither for nor against
    emma, isabella, _ = idiolects.score(words("I assure you, sir."), ["Emma", "Isabella", "X"])
    assert isabella > 0 > emma


def test_the_scene_weighs_how_each_person_talks() -> None:
    # Two untagged turns between two people the narration names alike: only the words tell.
    def turns() -> list[TurnEvidence]:
        return [
            TurnEvidence(own_mentions=["Emma", "Isabella"], words=["papa"]),
            TurnEvidence(words=["sir"]),
        ]

    def style(tokens: Sequence[str], people: Sequence[str]) -> list[float]:
        says = {"Emma": "papa", "Isabella": "sir"}
        return [5.0 if says.get(p) in tokens else -5.0 for p in people]

    decided = decide_scene(turns(), style=style)
    assert [d.speaker for d in decided] == ["Emma", "Isabella"]

    def swapped(tokens: Sequence[str], people: Sequence[str]) -> list[float]:
        return [-s for s in style(tokens, people)]

    decided = decide_scene(turns(), style=swapped)
    assert [d.speaker for d in decided] == ["Isabella", "Emma"]


def test_the_book_is_learned_from_its_tags_then_from_turns_the_scene_settles() -> None:
    text = [
        "\u201cMy dear papa, how good,\u201d said Emma Woodhouse.",
        "\u201cYes, my dear,\u201d said Mr. Woodhouse.",
        # untagged, their turns alternating between two tags: Emma, then her father
        "\u201cSo it is.\u201d",
        "\u201cIndeed.\u201d",
        "\u201cWell, papa, here we are,\u201d said Emma Woodhouse.",
        "Emma Woodhouse smiled at Mr. Woodhouse.",
        "\u201cPerhaps rain.\u201d",  # after narration naming both: a guess, not learned from
    ]
    chapter = Chapter("One", [Block(BlockKind.PARAGRAPH, t) for t in text])
    characters = find_characters(text)
    settled = {q.text: q for q in attribute(chapter, characters)}
    assert settled["\u201cPerhaps rain.\u201d"].confidence < SELF_TRAINED
    learned = learn_idiolects([chapter], characters)
    assert set(learned.speakers) == {"Emma Woodhouse", "Mr. Woodhouse"}
    assert learned.speakers["Emma Woodhouse"]["papa"] == 2
    assert learned.speakers["Emma Woodhouse"]["it"] == 1  # the settled turns
    assert learned.speakers["Mr. Woodhouse"]["indeed"] == 1
    assert not any("rain" in c for c in learned.speakers.values())
    assert characters.idiolects is None  # the list given is left as it was


def test_the_sieves_alone_settle_the_tags_the_book_is_learned_from() -> None:
    text = [
        "\u201cMy dear papa, how good,\u201d said Emma Woodhouse.",
        "\u201cYes, my dear,\u201d said Mr. Woodhouse.",
        "\u201cSo it is.\u201d",
        "\u201cIndeed.\u201d",
    ]
    chapter = Chapter("One", [Block(BlockKind.PARAGRAPH, t) for t in text])
    characters = find_characters(text)
    full = attribute(chapter, characters)
    sieves = attribute(chapter, characters, sieves_only=True)
    assert (
        [(q.speaker, q.method) for q in sieves[:2]]
        == [(q.speaker, q.method) for q in full[:2]]
        == [("Emma Woodhouse", "tag"), ("Mr. Woodhouse", "tag")]
    )
    # The untagged turns wait for the scene's decision, which only the full pass makes.
    assert [q.method for q in full[2:]] == ["turn", "turn"]
    assert all(q.method != "turn" for q in sieves[2:])
