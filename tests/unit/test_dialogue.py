"""Quotations found in written text and split from the narration around them."""

from __future__ import annotations

import re
import zipfile
from itertools import pairwise
from pathlib import Path

import pytest

from pipelines.core.model import Block, BlockKind, Chapter, PauseKind, Role, Utterance, count_words
from pipelines.manuscript import load_book
from pipelines.script.builder import ScriptOptions, build_script
from pipelines.script.characters import find_characters
from pipelines.script.dialogue import QuoteStyle, detect_style, split_quotes

SHERLOCK = "doyle_the-adventures-of-sherlock-holmes.epub"


def quoted(text: str, style: QuoteStyle = QuoteStyle.DOUBLE) -> list[str]:
    return [s.text for s in split_quotes(text, style) if s.dialogue]


def narration(text: str, style: QuoteStyle = QuoteStyle.DOUBLE) -> list[str]:
    return [s.text.strip() for s in split_quotes(text, style) if not s.dialogue]


def test_segments_cover_the_text_exactly() -> None:
    text = "“Try the settee,” said Holmes, relapsing. “I know, my dear Watson.” He smiled."
    segments = split_quotes(text)
    assert "".join(s.text for s in segments) == text
    assert [s.dialogue for s in segments] == [True, False, True, False]


def test_the_speech_tag_stays_with_the_narrator() -> None:
    text = "“I begin to think, Watson,” said Holmes, “that I make a mistake in explaining.”"
    assert quoted(text) == ["“I begin to think, Watson,”", "“that I make a mistake in explaining.”"]
    assert narration(text) == ["said Holmes,"]


def test_straight_double_quotes() -> None:
    text = '"Why, it isn\'t possible," said Scrooge, "that I can have slept."'
    assert quoted(text) == ['"Why, it isn\'t possible,"', '"that I can have slept."']


def test_nested_quotes_are_parts_of_the_outer_quotation() -> None:
    text = "“Well,” said he, “the clerk said ‘The League is dissolved,’ and that was all.”"
    parts = [s for s in split_quotes(text) if s.dialogue]
    assert [(s.text, s.nested) for s in parts[1:]] == [
        ("“the clerk said ", False),
        ("‘The League is dissolved,’", True),
        (" and that was all.”", False),
    ]
    # The first part knows the whole quotation's extent; marks alone join a part beside them.
    assert parts[1].whole is not None and text[slice(*parts[1].whole)] == text[17:]
    assert [s.text for s in split_quotes("“‘Who goes there?’ said I.”") if s.nested] == [
        "“‘Who goes there?’"
    ]
    british = "'He said \"hello there\" to me,' said Alice."
    assert quoted(british, QuoteStyle.SINGLE) == ["'He said ", '"hello there"', " to me,'"]
    # Apostrophes are no nested quotation; a nested mark never closed cuts nothing.
    for whole in ["“Don’t go ’round there, Joneses’ boy,” she said.", "“He cried ‘no more.”"]:
        assert quoted(whole) == [whole[: whole.index("”") + 1]]


@pytest.mark.parametrize(
    "text",
    [
        "“Doubtless you know her monographs in the series of ‘Mediaeval Byways’? He is at work.”",
        "“They are going to ‘do’ Fiesole in an hour.”",
        "“I’ve decided to give ‘The Maiden’s Vow.’ It’s so pathetic.”",
        "“It will be safer to say ‘No,’ perhaps.”",
    ],
)
def test_a_title_or_word_cited_mid_clause_stays_in_the_speech(text: str) -> None:
    assert [(s.text, s.nested) for s in split_quotes(text) if s.dialogue] == [(text, False)]


def test_words_reported_after_a_speech_verb_or_a_tag_are_still_nested() -> None:
    text = "“I cannot possibly say ‘poor Miss Taylor.’ I have a great regard for you.”"
    assert [s.nested for s in split_quotes(text) if s.dialogue] == [False, True, False]
    told = "“And then ‘Not I,’ said he, and off he went.”"
    assert [s.text for s in split_quotes(told) if s.nested] == ["‘Not I,’"]


def parts(text: str) -> list[tuple[str, bool]]:
    return [(s.text, s.nested) for s in split_quotes(text) if s.dialogue]


def test_a_told_story_whose_nested_marks_were_lost_is_cut_around_its_tags() -> None:
    # The single marks became spaces ('" How can I decide?  said I.'): the opening space and
    # the teller's tags still show which words are the talk he retells.
    assert parts('" How can I decide? said I. You have not told me what you want."') == [
        ('" How can I decide? ', True),
        ("said I.", False),
        (' You have not told me what you want."', True),
    ]
    # A tag's aside that ends the sentence is the teller's; a long clause after it is not.
    assert parts('" Well, what is it? he asked, taking his cheroot from his lips.') == [
        ('" Well, what is it? ', True),
        ("he asked, taking his cheroot from his lips.", False),
    ]
    assert parts('" You will swear, said he, by the bones of your father, to keep silent?"') == [
        ('" You will swear, ', True),
        ("said he,", False),
        (' by the bones of your father, to keep silent?"', True),
    ]
    # A closing nested mark that survived ends the retold words; the teller goes on.
    told = '"I says, at first, This is illusion\'; and was composing myself to sleep."'
    assert parts(told) == [
        ('"I says,', False),
        (" at first, This is illusion'", True),
        ('; and was composing myself to sleep."', False),
    ]
    # Without those signs a quotation stays whole.
    for whole in ['"I said no such thing!"', '"I said, I will go, and he went."', '"Go, said I."']:
        assert parts(whole) == [(whole, False)]


def test_a_short_inverted_tag_inside_a_speech_marks_words_it_retells() -> None:
    # Mid-speech, with the marks lost: "said the foreman." is the speaker's narration.
    told = '"I went down to the yard. There is naught amiss, said the foreman. So I left."'
    assert parts(told) == [
        ('"I went down to the yard. There is naught amiss, ', False),
        ("said the foreman.", False),
        (' So I left."', True),
    ]
    # "the other answered", "he was saying" and an aside running to the sentence's end
    assert [t for t, nested in parts('" It is a dirty business, the other answered. Yet go."')] == [
        '" It is a dirty business, ',
        "the other answered.",
        ' Yet go."',
    ]
    assert parts('" It is all up, he was saying, as they passed. I heard it."')[1] == (
        "he was saying, as they passed.",
        False,
    )
    assert parts('" Well, I answered, trying to be cool, but feeling as he did. So."')[1] == (
        "I answered, trying to be cool, but feeling as he did.",
        False,
    )
    # A speech of the present talk that tells what someone said stays whole.
    for whole in [
        '"Mrs. Spencer said that my tongue must be hung in the middle. I said I would try."',
        '"Oh, yes. I answered a lot of questions, and she said I did well."',
    ]:
        assert parts(whole) == [(whole, False)]


def test_apostrophes_neither_open_nor_close_british_quotes() -> None:
    text = (
        "'The Joneses' house is shut, and I don't know why,' said Tom. 'Tis a pity. "
        "At five o'clock he was goin' home."
    )
    assert quoted(text, QuoteStyle.SINGLE) == [
        "'The Joneses' house is shut, and I don't know why,'"
    ]
    assert narration(text, QuoteStyle.SINGLE)[0].startswith("said Tom. 'Tis a pity.")


def test_british_single_quotes_with_a_tag_between() -> None:
    text = "'I'm sure I'm not Ada,' she said, 'for her hair goes in such long ringlets.'"
    assert quoted(text, QuoteStyle.SINGLE) == [
        "'I'm sure I'm not Ada,'",
        "'for her hair goes in such long ringlets.'",
    ]


def test_a_quotation_running_over_paragraphs_is_open_at_the_end() -> None:
    segments = split_quotes("“We live very quietly, sir, the three of us.")
    assert len(segments) == 1 and segments[0].dialogue and not segments[0].closed


def test_em_dash_dialogue() -> None:
    text = "—Come in, said Mary, looking up. —Sit down, won't you?"
    assert quoted(text, QuoteStyle.DASH) == ["—Come in,", "—Sit down, won't you?"]
    assert narration(text, QuoteStyle.DASH) == ["said Mary, looking up."]
    assert quoted("Plain narration — with a dash.", QuoteStyle.DASH) == []


def test_the_convention_is_told_from_the_text() -> None:
    assert detect_style(["“Yes,” he said.", "“No.”"]) is QuoteStyle.DOUBLE
    assert detect_style(["'Yes,' he said. 'I can't.'", "'No,' said she."]) is QuoteStyle.SINGLE
    assert detect_style(["—Yes, he said.", "—No.", "—Why not?"]) is QuoteStyle.DASH


def test_script_splits_paragraphs_into_narration_and_dialogue() -> None:
    chapter = Chapter(
        title="One",
        blocks=[
            Block(BlockKind.HEADING, "One", level=2),
            Block(BlockKind.PARAGRAPH, "“Try the settee,” said Holmes. “You are welcome.”"),
            Block(BlockKind.PARAGRAPH, "“Thank you,” said Wilson."),
            Block(BlockKind.PARAGRAPH, "Holmes nodded."),
        ],
    )
    script = build_script(chapter, ScriptOptions())
    rows = [(u.role, u.speaker, u.text) for u in script[1:]]
    assert rows[0] == (Role.DIALOGUE, "Holmes", '"Try the settee,"')
    assert rows[1] == (Role.NARRATION, None, "said Holmes.")
    assert rows[2][:2] == (Role.DIALOGUE, "Holmes")
    assert rows[3][:2] == (Role.DIALOGUE, "Wilson")
    # The tag continues the sentence the quotation began; the next paragraph is a new speaker.
    assert script[1].pause_after is PauseKind.CLAUSE
    assert script[3].pause_after is PauseKind.TURN
    assert script[-2].pause_after is PauseKind.PARAGRAPH  # "said Wilson." then narration


def test_a_word_the_narration_sets_in_marks_is_read_by_the_narrator() -> None:
    text = "Marilla permitted the “chatter” until she found herself becoming interested."
    chapter = Chapter(
        title="One",
        blocks=[
            Block(BlockKind.HEADING, "One", level=2),
            Block(BlockKind.PARAGRAPH, "“Well?” said Marilla."),
            Block(BlockKind.PARAGRAPH, text),
            Block(BlockKind.PARAGRAPH, "She was calling, “Marilla,” over and over."),
        ],
    )
    rows = [(u.role, u.text) for u in build_script(chapter, ScriptOptions())[1:]]
    # One sentence in one voice: no change of voice for a word inside it.
    assert rows[2] == (
        Role.NARRATION,
        'Marilla permitted the "chatter" until she found herself becoming interested.',
    )
    # A call after a comma is speech, read in a voice of its own.
    assert (Role.DIALOGUE, '"Marilla,"') in rows[3:]


def _reference_quoted_words(epub: Path) -> int:
    """Words inside curly double quotes in the stories' XHTML, counted straight from the file:
    paragraph by paragraph, a quotation left open runs to the end of its paragraph."""
    total = 0
    with zipfile.ZipFile(epub) as z:
        for name in z.namelist():
            if not name.startswith("epub/text/") or any(
                skip in name for skip in ("titlepage", "imprint", "colophon", "uncopyright")
            ):
                continue
            html = z.read(name).decode("utf-8")
            for para in re.findall(r"<p[^>]*>(.*?)</p>", html, flags=re.S):
                text = re.sub(r"<[^>]+>", "", para)
                for m in re.finditer(r"“([^“”]*)(?:”|$)", text):
                    total += count_words(m.group(1))
    return total


@pytest.fixture(scope="module")
def sherlock_script(corpus_dir: Path) -> list[Utterance]:
    book = load_book(corpus_dir / SHERLOCK)
    characters = find_characters(b.text for c in book.body for b in c.blocks)
    return [u for c in book.body for u in build_script(c, ScriptOptions(characters=characters))]


def test_sherlock_dialogue_words_match_the_quoted_words(
    corpus_dir: Path, sherlock_script: list[Utterance]
) -> None:
    reference = _reference_quoted_words(corpus_dir / SHERLOCK)
    dialogue = sum(count_words(u.text) for u in sherlock_script if u.role is Role.DIALOGUE)
    spoken = sum(count_words(u.text) for u in sherlock_script if u.role is not Role.TITLE)
    assert reference > 0.7 * spoken  # the book is mostly dialogue
    assert abs(dialogue - reference) <= 0.01 * reference


_TAG = re.compile(
    r"""[,!?]["']?\s+(?:said|asked|cried|remarked|answered|observed|replied|returned)\s+"""
    r"""(?:he|she|I|Holmes|Sherlock Holmes)\b"""
)


def test_no_speech_tag_inside_sherlock_dialogue(
    corpus_dir: Path, sherlock_script: list[Utterance]
) -> None:
    dialogue = [u.text for u in sherlock_script if u.role is Role.DIALOGUE]
    # A tag after the outer quotation's closing mark would mean the tag was read in the
    # speaker's voice; tags around nested quotations (Wilson retelling a talk) are his words,
    # and come right after a nested part ("'Why that?'" then "I asks.").
    leaked = [t for t in dialogue if re.search(r'[,!?]"\s+(?:said|asked|cried)\s', t)]
    assert leaked == []
    starts = [t for t in dialogue if re.match(r"(?:said|asked|cried|remarked) ", t)]
    assert starts  # "said I," between the quotations Wilson retells
    book = load_book(corpus_dir / SHERLOCK)
    for block in (b for c in book.body for b in c.blocks):
        segments = split_quotes(block.text)
        for before, seg in pairwise(segments):
            if seg.dialogue and re.match(r"\W*(?:said|asked|cried|remarked) ", seg.text):
                assert before.nested, (block.text, seg.text)
    narrated = [u.text for u in sherlock_script if u.role is Role.NARRATION]
    assert sum(1 for t in narrated if re.match(r"(?:said|asked|remarked) (?:he|Holmes)\b", t))
    assert not [t for t in dialogue if _TAG.search(t) and not re.search(r"'", t)]


def test_a_stage_direction_in_brackets_is_narration() -> None:
    text = "“Yes, if there is time.--But--(in a very low tone)--she stays a week.”"
    assert narration(text) == ["(in a very low tone)"]
    assert quoted(text) == ["“Yes, if there is time.--But--", "--she stays a week.”"]
    # A spoken aside in brackets stays in the speech.
    assert quoted("“He came (as he always does) at noon.”") == [
        "“He came (as he always does) at noon.”"
    ]
    smiling = "“Well, (smiling,) I hope so.”"
    assert narration(smiling) == ["(smiling,)"]


def test_a_paragraph_opening_mark_with_a_stray_space_still_opens() -> None:
    text = '" Heard a noise," said Giles. "I got up."'
    assert quoted(text) == ['" Heard a noise,"', '"I got up."']


def test_a_spaced_mark_later_in_the_paragraph_opens_when_its_partner_follows() -> None:
    # Printed dashes lost in the source leave '" but' after a tag; the mark still opens.
    text = '"We\'re dead men," continued Giles; " but I got up." Then he sat.'
    assert quoted(text) == ['"We\'re dead men,"', '" but I got up."']
    # A spaced mark with no partner after it opens nothing: the rest stays narration.
    assert quoted('"Stop," he said. " And then he left.') == ['"Stop,"']


def test_a_straight_closing_mark_alone_ends_a_carried_quotation() -> None:
    text = 'Or was it the wind? Oh, I cannot tell!" And she ran to the window.'
    segs = split_quotes(text)
    assert [(s.dialogue, s.text) for s in segs] == [
        (True, 'Or was it the wind? Oh, I cannot tell!"'),
        (False, " And she ran to the window."),
    ]
    # A mark after a space still opens.
    assert split_quotes('He wrote "yes" on it.')[1].text == '"yes"'


def test_a_speech_goes_on_after_a_verse_it_recites() -> None:
    from pipelines.script.attribution import chapter_quotations

    ch = Chapter(
        "One",
        [
            Block(BlockKind.PARAGRAPH, '"Listen to this, Tom, it is the best line of all:'),
            Block(BlockKind.VERSE, "The moon is up, the sea is still."),
            Block(BlockKind.PARAGRAPH, "Is it not fine?"),
            Block(BlockKind.QUOTE, "And all the world is fast asleep."),
            Block(BlockKind.PARAGRAPH, 'That one is mine," said Ann.'),
            Block(BlockKind.PARAGRAPH, "Tom said nothing."),
        ],
    )
    quotes = chapter_quotations(ch)
    assert [q.text for q in quotes] == [
        '"Listen to this, Tom, it is the best line of all:',
        "Is it not fine?",
        'That one is mine,"',
    ]
    assert all(q.continues for q in quotes[1:])
    # The script reads the paragraph after the verse as speech, in the speaker's voice.
    script = build_script(ch, ScriptOptions())
    fine = next(u for u in script if u.text == "Is it not fine?")
    assert fine.role is Role.DIALOGUE and fine.speaker == "Ann"
