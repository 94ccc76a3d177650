"""Scene-level speaker decisions and the speech-tag sieves that feed them."""

from __future__ import annotations

from pipelines.core.model import Block, BlockKind, Chapter
from pipelines.script.attribution import LOW_CONFIDENCE, attribute
from pipelines.script.characters import Character, CharacterList
from pipelines.script.conversation import TurnEvidence, decide_scene


def chapter(*paragraphs: str) -> Chapter:
    return Chapter("One", [Block(BlockKind.PARAGRAPH, p) for p in paragraphs])


def test_a_scene_alternates_between_its_tags() -> None:
    turns = [
        TurnEvidence(fixed="Emma"),
        TurnEvidence(fixed="Harriet"),
        TurnEvidence(),
        TurnEvidence(addressed={"Emma"}),  # it names Emma, so Emma does not say it
        TurnEvidence(),
        TurnEvidence(fixed="Harriet"),
    ]
    decided = decide_scene(turns)
    assert [d.speaker for d in decided] == ["Emma", "Harriet", "Emma", "Harriet", "Emma", "Harriet"]


def test_a_pronoun_tag_keeps_its_gender() -> None:
    turns = [
        TurnEvidence(fixed="Mr. Knightley"),
        TurnEvidence(fixed="Emma"),
        TurnEvidence(gender="female"),  # "she said", though the alternation says him
    ]
    genders = {"Mr. Knightley": "male", "Emma": "female"}
    assert decide_scene(turns, genders=genders)[-1].speaker == "Emma"


def test_tags_of_every_kind() -> None:
    ch = chapter(
        "“Are you well, my Emma?” was Mrs. Weston’s parting question.",
        "Noah Claypole was in the kitchen; Noah was asleep.",
        "“Tell yer what?” asked the sleepy Noah, shaking himself.",
        "Matthew took his courage in both hands and replied: “Well now, I might.”",
        "“Well now, she’s such a little thing,” feebly reiterated Matthew.",
    )
    assert [q.speaker for q in attribute(ch)] == ["Mrs. Weston", "Noah", "Matthew", "Matthew"]


def test_a_pronoun_after_a_tag_is_the_other_party() -> None:
    ch = chapter(
        "“We will walk,” said Emma. Emma and Harriet walked on together.",
        "“It is a lovely day,” said Harriet.",
        "“It is, Harriet,” she answered.",
        "“Shall we go in?” asked Harriet.",
        "“Not yet,” said she.",
    )
    assert [q.speaker for q in attribute(ch)] == ["Emma", "Harriet", "Emma", "Harriet", "Emma"]


def test_tagged_quotations_are_confident_and_guesses_are_not() -> None:
    ch = chapter(
        "“Come in,” said Holmes.",
        "A tall man entered the room and looked about him for a while, saying nothing at all, "
        "as though he had forgotten why he came, and then at last he sat down by the fire.",
        "“I hardly know where to begin.”",
    )
    tagged, guessed = attribute(ch)
    assert tagged.confidence >= LOW_CONFIDENCE > guessed.confidence


def test_nobody_joins_the_talk_untagged_before_the_scene_names_them() -> None:
    # Two alternate; a third is tagged only later: the untagged turns before that stay
    # with the two already talking.
    turns = [
        TurnEvidence(fixed="Frank"),
        TurnEvidence(fixed="Mrs. West"),
        TurnEvidence(),
        TurnEvidence(),
        TurnEvidence(),
        TurnEvidence(),
        TurnEvidence(),
        TurnEvidence(fixed="Mr. West", addressed={"Frank"}),
    ]
    decided = decide_scene(turns)
    assert [d.speaker for d in decided][2:7] == [
        "Frank",
        "Mrs. West",
        "Frank",
        "Mrs. West",
        "Frank",
    ]


def test_someone_known_only_by_description_speaks_only_where_described() -> None:
    # "said the porter" once: the untagged turns after it go on between the two named people.
    turns = [
        TurnEvidence(fixed="Ann"),
        TurnEvidence(fixed="Tom"),
        TurnEvidence(fixed="The porter"),
        TurnEvidence(),
        TurnEvidence(),
    ]
    decided = decide_scene(turns, anonymous={"The porter"})
    assert "The porter" not in [d.speaker for d in decided[3:]]


def cast(*people: tuple[str, str]) -> CharacterList:
    return CharacterList([Character(n, {n}, 5, g) for n, g in people])


def test_a_turn_that_speaks_of_someone_by_name_is_not_theirs() -> None:
    # After a long stretch of narration nothing but the tags' counts tells; Tom spoke most,
    # but a turn that says "Tom" speaks of him, not as him.
    turns = [
        TurnEvidence(fixed="Tom"),
        TurnEvidence(fixed="Ann"),
        TurnEvidence(fixed="Tom"),
        TurnEvidence(fixed="Kate"),
        TurnEvidence(gap_words=60),
        TurnEvidence(gap_words=60, named={"Tom"}),
    ]
    decided = decide_scene(turns)
    assert decided[4].speaker == "Tom"
    assert decided[5].speaker != "Tom"


def test_the_one_the_narration_turns_to_answers() -> None:
    # "Harriet turned to Tom. 'Will you walk?' she asked." The reply is Tom's, not that of
    # Mrs. Grey, who spoke before.
    turns = [
        TurnEvidence(fixed="Mrs. Grey"),
        TurnEvidence(fixed="Harriet"),
        TurnEvidence(fixed="Harriet", gap_words=6, faced={"Tom"}, before_mentions=["Tom"]),
        TurnEvidence(),
    ]
    assert decide_scene(turns)[-1].speaker == "Tom"


def test_turning_to_someone_in_the_narration() -> None:
    ch = chapter(
        "“We shall have rain before night,” said Mrs. Grey.",
        "“I think not,” said Harriet.",
        "Harriet put down her work and turned to Tom. “Will you walk with me to the village?”",
        "“With pleasure, if the rain holds off.”",
    )
    people = cast(("Mrs. Grey", "female"), ("Harriet", "female"), ("Tom", "male"))
    assert [q.speaker for q in attribute(ch, people)] == [
        "Mrs. Grey",
        "Harriet",
        "Harriet",
        "Tom",
    ]


def test_the_same_person_goes_on_after_a_short_pause() -> None:
    # Straight after a turn the other one answers; after a few words of narration ("Tom
    # paused.") the one who spoke last is likelier to go on than anyone else.
    turns = [
        TurnEvidence(fixed="Ann"),
        TurnEvidence(fixed="Tom"),
        TurnEvidence(fixed="Kate"),
        TurnEvidence(fixed="Tom"),
        TurnEvidence(gap_words=4),
    ]
    assert decide_scene(turns)[-1].speaker == "Tom"
    turns[-1] = TurnEvidence()
    assert decide_scene(turns)[-1].speaker == "Kate"


def test_the_narrators_i_in_narration_does_not_make_them_speak() -> None:
    # "I nodded, and waited." In a book told in the first person "I" fills the narration,
    # and the teller's own speech is tagged ("I said"): the untagged turn is Holmes's.
    turns = [
        TurnEvidence(fixed="Holmes"),
        TurnEvidence(fixed="Watson"),
        TurnEvidence(fixed="Holmes"),
        TurnEvidence(gap_words=40, before_mentions=["Watson"]),
    ]
    assert decide_scene(turns, narrator="Watson")[-1].speaker == "Holmes"
    # Someone else the narration names is likely to speak next.
    turns[-1] = TurnEvidence(gap_words=40, before_mentions=["Jones"])
    assert decide_scene(turns, narrator="Watson", regulars=["Jones"])[-1].speaker == "Jones"


def test_the_same_person_again_is_rarer_after_a_paragraph_that_ends_in_speech() -> None:
    # "…," said Tom, and sat down. “…” may still be Tom going on; after a paragraph that
    # ends with his words the next one is even less likely his.
    def lead(ends_in_speech: bool) -> float:
        turns = [
            TurnEvidence(fixed="Ann"),
            TurnEvidence(fixed="Tom", ends_in_speech=ends_in_speech),
            TurnEvidence(),
        ]
        decided = decide_scene(turns)[-1]
        assert decided.speaker == "Ann"
        return decided.margin

    assert lead(True) > lead(False)


def test_a_guess_weighs_what_its_route_measures() -> None:
    from pipelines.script.attribution import _reliability

    # A pronoun resolved through the narration's latest subject is right far more often than
    # one that had to fall back on a newcomer the narration describes.
    assert _reliability("pronoun", "narration1", 0.8) > _reliability("pronoun", "exchange", 0.8)
    assert _reliability("pronoun", "newcomer", 0.8) < 0.5
    assert _reliability("tag", "", 0.95) == 0.95  # unmeasured: the sieve's own confidence

    def third(route: str) -> str | None:
        guess = _reliability("pronoun", route, 0.8)
        turns = [
            TurnEvidence(fixed="Tom"),
            TurnEvidence(fixed="Ann"),
            TurnEvidence(guess="Sam", guess_confidence=guess, gap_words=12),
            TurnEvidence(),
        ]
        return decide_scene(turns)[2].speaker

    # A strong guess holds against the turn-taking; a weak one gives way to it.
    assert third("narration0") == "Sam"
    assert third("newcomer") == "Tom"


def test_papa_is_said_only_by_whom_the_book_heard_say_it() -> None:
    turns = [
        TurnEvidence(fixed="Mr. Knightley"),
        TurnEvidence(own_mentions=["Emma"]),
        TurnEvidence(kin={"Emma"}),  # "Only one more, papa": Knightley's turn by alternation
        TurnEvidence(fixed="Mr. Woodhouse"),
    ]
    carried = ["Mr. Woodhouse", "Mr. Knightley"]
    assert decide_scene(turns, carried)[2].speaker == "Emma"
    turns[2].kin = set()
    assert decide_scene(turns, carried)[2].speaker == "Mr. Knightley"


def test_a_speaker_tagged_by_pronouns_counts_in_the_scene_like_one_tagged_by_name() -> None:
    # Watson's "I exclaimed" once, Holmes's "said he" three times, then Jones and Holmes talk
    # on untagged: how often the scene's tags name each one must count Holmes's guesses too,
    # or the long exchange drifts to Jones and the narrator.
    he = {"guess": "Holmes", "guess_confidence": 0.77}
    turns = [
        TurnEvidence(fixed="Watson"),
        TurnEvidence(**he),
        TurnEvidence(fixed="Jones"),
        TurnEvidence(**he),
        TurnEvidence(fixed="Jones"),
        TurnEvidence(**he),
        *[TurnEvidence() for _ in range(20)],
    ]
    decided = [d.speaker for d in decide_scene(turns, narrator="Watson")]
    assert decided[6:] == ["Jones", "Holmes"] * 10


def test_the_one_the_narration_turns_a_speaker_to_takes_up_the_long_exchange() -> None:
    # Mrs. Cole talks (tagged), then Emma "turned to Frank Churchill" and asks him something;
    # he answers and the two talk on untagged for ten turns. Mrs. Cole's one tag must
    # not outweigh, turn after turn, that the narration brought Frank into the talk.
    turns = [
        TurnEvidence(fixed="Mrs. Cole"),
        TurnEvidence(fixed="Emma", faced={"Frank"}, before_mentions=["Emma", "Frank"]),
        *[TurnEvidence() for _ in range(10)],
    ]
    decided = [d.speaker for d in decide_scene(turns)]
    assert decided[2:] == ["Frank", "Emma"] * 5


def test_someone_the_turns_call_by_name_again_and_again_answers_them() -> None:
    # Holmes (tagged) questions Mrs. Smith, whom only his words name ("A fine child, Mrs.
    # Smith!"); Watson, who tells the story, is with him. Her untagged answers are hers, not
    # the narrator's, though no tag or narration names her.
    turns = [
        TurnEvidence(fixed="Watson"),
        TurnEvidence(fixed="Holmes", addressed={"Mrs. Smith"}),
        TurnEvidence(),
        TurnEvidence(fixed="Holmes"),
        TurnEvidence(),
        TurnEvidence(fixed="Holmes", addressed={"Mrs. Smith"}),
        TurnEvidence(),
        TurnEvidence(fixed="Holmes", addressed={"Mrs. Smith"}),
        TurnEvidence(),
    ]
    decided = [d.speaker for d in decide_scene(turns, narrator="Watson")]
    assert decided[2::2] == ["Mrs. Smith"] * 4
