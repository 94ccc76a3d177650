"""How each character talks: learned from tagged speech, weighed in the scene's decision."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.script.attribution import SELF_TRAINED, attribute, learn_idiolects
from pipelines.script.characters import find_characters
from pipelines.script.conversation import TurnEvidence, decide_scene
from pipelines.script.idiolect import Idiolects, kin_called, words


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


def test_words_of_kinship_call_someone_only_as_a_vocative() -> None:
    assert kin_called("\u201cPapa, the carriage is here,\u201d") == ["papa"]
    assert kin_called("But, my dear papa, it is summer; if she did not, Mother.") == [
        "papa",
        "mother",
    ]
    assert kin_called("Oh, aunt! how could you") == ["aunt"]
    # spoken of, not to
    assert kin_called("my mother's spectacles") == []
    assert kin_called("I told my father.") == []
    assert kin_called("Aunt Josephine said so") == []


def test_papa_comes_from_whoever_the_book_heard_say_it() -> None:
    Q = "\u201c{}\u201d"
    one = [
        Q.format("Papa, the carriage is here,") + " said Emma Woodhouse.",
        Q.format("Thank you, my dear,") + " said Mr. Woodhouse.",
        Q.format("Oh, papa! You will take cold,") + " said Emma Woodhouse.",
        Q.format("I shall not, my dear,") + " said Mr. Woodhouse.",
        Q.format("But, my dear papa, it is winter,") + " said Emma Woodhouse.",
    ]
    two = [
        "Emma Woodhouse sat by the fire while Mr. Knightley talked to Mr. Woodhouse.",
        Q.format("It is a fine night, sir,") + " said Mr. Knightley.",
        Q.format("Damp, I fear, very damp."),
        # turn-taking alone gives this to Mr. Knightley; only Emma says "papa"
        Q.format("Only one more log, papa, and then the tea."),
        Q.format("Well, well, my dear,") + " said Mr. Woodhouse.",
    ]
    chapters = [
        Chapter(n, [Block(BlockKind.PARAGRAPH, t) for t in ps])
        for n, ps in (("One", one), ("Two", two))
    ]
    characters = find_characters(one + two)
    characters.idiolects = learn_idiolects(chapters, characters)
    assert characters.idiolects.kin_speakers(two[3]) == {"Emma Woodhouse"}
    assert characters.idiolects.kin_speakers(two[2]) == set()
    said = [q.speaker for q in attribute(chapters[1], characters)]
    assert said == ["Mr. Knightley", "Mr. Woodhouse", "Emma Woodhouse", "Mr. Woodhouse"]


def test_a_word_of_kinship_heard_too_seldom_decides_nothing() -> None:
    idiolects = Idiolects.learn([("Emma", "Papa, come in."), ("Emma", "Oh, papa!")])
    assert idiolects.kin["papa"]["Emma"] == 2
    assert idiolects.kin_speakers("Well, papa.") == set()  # KIN_MIN is three
