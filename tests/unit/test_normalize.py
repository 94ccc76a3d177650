"""Text preparation for speech: what a voice is asked to read."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from pipelines.core.model import Block, BlockKind, Chapter, count_words
from pipelines.speech.lexicon import Lexicon
from pipelines.speech.normalize import clean_typography, normalize, prepare_chapter

# -- typography ------------------------------------------------------------------------------------


def test_unicode_is_composed_and_ligatures_expanded() -> None:
    decomposed = "Cafe\u0301 na\u0308ive"
    assert normalize(decomposed) == unicodedata.normalize("NFC", decomposed)
    assert normalize("The \ufb01ne \ufb02ag, \ufb00 \ufb03 \ufb04") == "The fine flag, ff ffi ffl"


def test_invisible_characters_and_odd_spaces_go() -> None:
    text = (
        "in\u00adcred\u00adible\u200b words\u2060 here,\u00a0now\u202fand \t\n then  \r\n"
        " again\ufeff"
    )
    assert normalize(text) == "incredible words here, now and then again"


def test_quotes_are_straightened_but_kept() -> None:
    out = normalize("\u201cIt\u2019s \u2018mine\u2019,\u201d she said. \u00abOui\u00bb")
    assert out == '"It\'s \'mine\'," she said. "Oui"'
    # Every quote mark survives: dialogue detection counts them.
    assert out.count('"') == 4 and out.count("'") == 3


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("I don t think he s coming.", "I don't think he's coming."),
        (
            "You re right; we ll see, and I ve said so. I m sure.",
            "You're right; we'll see, and I've said so. I'm sure.",
        ),
        (
            "Won t you? I d go, but it was the croupier s reply.",
            "Won't you? I'd go, but it was the croupier's reply.",
        ),
    ],
)
def test_apostrophes_a_conversion_turned_into_spaces_are_read_as_apostrophes(
    written: str, spoken: str
) -> None:
    assert normalize(written) == spoken


def test_letters_that_only_look_like_a_lost_apostrophe_stay() -> None:
    for text in ["The table d h\u00f4te.", "an s-curve", "Mister S Holmes", "he did t-shirts"]:
        assert normalize(text) == text
    assert normalize("I don t", lang="fr") == "I don t"  # the contractions are English


@pytest.mark.parametrize(
    "written",
    [
        "wait\u2014then go",
        "wait \u2014 then go",
        "wait--then go",
        "wait -- then go",
        "wait \u2013 then go",
        "wait\u2015then go",
        "wait - then go",
    ],
)
def test_dashes_become_one_spaced_pause(written: str) -> None:
    assert normalize(written) == "wait \u2014 then go"


def test_dash_next_to_quotes_keeps_the_quote_attached() -> None:
    assert normalize("\u201cI was going to\u2014\u201d") == '"I was going to \u2014"'
    assert normalize("New York\u2013London flight") == "New York-London flight"


@pytest.mark.parametrize("written", ["Well\u2026 yes", "Well. . . yes", "Well... yes"])
def test_ellipses_are_three_dots(written: str) -> None:
    assert normalize(written) == "Well... yes"


def test_emphasis_markers_are_removed() -> None:
    assert normalize("He was _very_ *bold* and **loud**.") == "He was very bold and loud."
    # An underscore inside a name joins words; it is not emphasis and not read aloud.
    assert normalize("see walden_pond_map") == "see walden pond map"


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("the whale[1] spouted.", "the whale spouted."),
        ("the whale [12] spouted.", "the whale spouted."),
        ("the whale^3 spouted.", "the whale spouted."),
        ("the whale\u00b9\u00b2 spouted.", "the whale spouted."),
        ("the whale* spouted.", "the whale spouted."),
        ("the whale.\u2020 It spouted.", "the whale. It spouted."),
    ],
)
def test_footnote_markers_are_dropped(written: str, spoken: str) -> None:
    assert normalize(written) == spoken


# -- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("42", "forty-two"),
        ("1,234", "one thousand two hundred thirty-four"),
        ("3.5", "three point five"),
        ("0.25", "zero point two five"),
        ("1st", "first"),
        ("22nd", "twenty-second"),
        ("3rd", "third"),
        ("the 22d of December", "the twenty-second of December"),
        ("in 1931", "in nineteen thirty-one"),
        ("1900", "nineteen hundred"),
        ("2005", "two thousand five"),
        ("1066", "ten sixty-six"),
        ("the 1920s", "the nineteen twenties"),
        ("the 1800s", "the eighteen hundreds"),
        ("the '60s", "the sixties"),
        ("£240", "two hundred forty pounds"),
        ("$3.50", "three dollars and fifty cents"),
        ("€5", "five euros"),
        ("$1", "one dollar"),
        ("$0.75", "seventy-five cents"),
        ("$5 million", "five million dollars"),
        ("£1,000 a year", "one thousand pounds a year"),
        ("$28.12\u00bd", "twenty-eight dollars and twelve and a half cents"),
        ("50%", "fifty percent"),
        ("2.5 %", "two point five percent"),
        ("6:15", "six fifteen"),
        ("at 6:05", "at six oh five"),
        ("at 6:00", "at six o'clock"),
        ("at 11:00 p.m.", "at eleven p.m."),
        ("1914-1918", "nineteen fourteen to nineteen eighteen"),
        ("1914\u201318", "nineteen fourteen to eighteen"),
        ("pages 12-15", "pages twelve to fifteen"),
        ("5\u00bd feet", "five and a half feet"),
        ("\u00be of it", "three quarters of it"),
        ("65\u00b0", "sixty-five degrees"),
        ("Room #5", "Room number five"),
        ("1848 miles", "one thousand eight hundred forty-eight miles"),
        ("1200 men", "twelve hundred men"),
        ("December 25, 2008", "December twenty-fifth, two thousand eight"),
        ("in \u201946, the 16th", "in forty-six, the sixteenth"),
        ("agent 007", "agent zero zero seven"),
        ("400 lbs. of beef", "four hundred pounds of beef"),
    ],
)
def test_numbers_are_read_as_words(written: str, spoken: str) -> None:
    assert normalize(written) == spoken


@pytest.mark.parametrize("written", ["an MP3 file", "call 555-1234", "vitamin B12"])
def test_digits_inside_codes_are_left_for_the_voice(written: str) -> None:
    assert normalize(written) == written


def test_chapter_numbers_in_titles_are_read() -> None:
    assert normalize("Chapter 1. Loomings.", is_title=True) == "Chapter one. Loomings."


# -- abbreviations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Mr. and Mrs. Smith met Ms. Jones.", "Mister and Missus Smith met Miz Jones."),
        ("Dr. Watson", "Doctor Watson"),
        ("Mr Holmes and Dr Watson", "Mister Holmes and Doctor Watson"),
        ("St. Paul", "Saint Paul"),
        ("down Baker St. to the inn", "down Baker Street to the inn"),
        ("He lived on Baker St.", "He lived on Baker Street."),
        ("Baker St. Then he left.", "Baker Street. Then he left."),
        ("Mr. Neville St. Clair", "Mister Neville Saint Clair"),
        ("Prof. Moriarty", "Professor Moriarty"),
        ("Rev. Mapple", "Reverend Mapple"),
        ("Capt. Ahab", "Captain Ahab"),
        ("Col. Ross", "Colonel Ross"),
        ("Gen. Grant", "General Grant"),
        ("Lt. Jones", "Lieutenant Jones"),
        ("Sgt. Pepper", "Sergeant Pepper"),
        ("John Smith, Jr., spoke", "John Smith, Junior, spoke"),
        ("John Smith Sr. was there", "John Smith Senior was there"),
        ("Mt. Vernon", "Mount Vernon"),
        ("No. 5", "number five"),
        ("Holmes vs. Moriarty", "Holmes versus Moriarty"),
        ("pens, ink, etc., and", "pens, ink, et cetera, and"),
        ("pens, ink, etc. The", "pens, ink, et cetera. The"),
        ("seeds, &c. and", "seeds, et cetera and"),
        ("fish, e.g. cod", "fish, for example cod"),
        ("the best, i.e. the first", "the best, that is the first"),
        ("Jan. 18th", "January eighteenth"),
        ("the U.S. Army", "the US Army"),
        ("H. G. Wells", "H G Wells"),
    ],
)
def test_abbreviations_are_spelled_out(written: str, spoken: str) -> None:
    assert normalize(written) == spoken


def test_no_alone_is_the_word_no() -> None:
    assert normalize('"No. I won\'t."') == '"No. I won\'t."'


# -- roman numerals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Chapter IV", "Chapter four"),
        ("CHAPTER XII.", "CHAPTER twelve."),
        ("Book I. The Beginning", "Book one. The Beginning"),
        ("Stave III", "Stave three"),
        ("Part II of the book", "Part two of the book"),
        ("Act V, Scene ii", "Act five, Scene two"),
        ("Volume III", "Volume three"),
        ("World War II", "World War two"),
        ("World War I began", "World War one began"),
        ("Henry VIII", "Henry the eighth"),
        ("Louis XIV", "Louis the fourteenth"),
        ("Elizabeth I.", "Elizabeth the first."),
        ("the costume of Henry VIII., or", "the costume of Henry the eighth, or"),
        ("Pope Pius XII", "Pope Pius the twelfth"),
        ("Amenhotep III", "Amenhotep the third"),
        (
            "numbered: II., the black fish; III., the narwhale",
            "numbered: two, the black fish; three, the narwhale",
        ),
    ],
)
def test_roman_numerals_that_are_numbers(written: str, spoken: str) -> None:
    assert normalize(written) == spoken


@pytest.mark.parametrize(
    "written",
    [
        "I think I saw it.",
        "He and I.",
        "Then I went.",
        "MIX CIVIL DID LIVID",
        "MIX the paint",
        "my part I think",
        "Part I think is best",
        "Washington DC",
        "Class C and Plate D",
        "Malcolm X",
        "V for victory",
    ],
)
def test_words_that_look_like_numerals_are_left(written: str) -> None:
    assert normalize(written) == written


@pytest.mark.parametrize(
    ("title", "spoken"),
    [
        ("IV", "four"),
        ("XIV.", "fourteen."),
        ("II The Machine", "two The Machine"),
        ("I. Introduction", "one. Introduction"),
        ("CHAPTER I. Down the Rabbit-Hole", "CHAPTER one. Down the Rabbit-Hole"),
        ("CHAPTER V. Advice from a Caterpillar", "CHAPTER five. Advice from a Caterpillar"),
        ("I Remember", "I Remember"),
        ("Epilogue", "Epilogue"),
    ],
)
def test_numerals_in_titles(title: str, spoken: str) -> None:
    assert normalize(title, is_title=True) == spoken


def test_a_lone_numeral_is_a_pronoun_or_letter_outside_titles() -> None:
    assert normalize("I") == "I"
    assert normalize("IV") == "IV"


# -- capitals, languages, lexicon ------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "THE END",
        "NASA and the FBI met at the BBC.",
        "STAVE ONE: MARLEY'S GHOST",
        "DANGER! KEEP OUT",
    ],
)
def test_capitals_are_left_alone(written: str) -> None:
    assert normalize(written) == written


def test_other_languages_read_numbers_in_their_own_words() -> None:
    assert normalize("Er war 42 Jahre alt.", lang="de") == "Er war zweiundvierzig Jahre alt."
    assert normalize("en 1848", lang="fr") == "en mille huit cent quarante-huit"
    assert normalize("IV", lang="fr", is_title=True) == "quatre"
    # English word lists stay out of other languages.
    assert normalize("Dr. Müller", lang="de-DE") == "Dr. Müller"
    # A language num2words does not know keeps its digits for the voice to read.
    assert normalize("42", lang="xx") == "42"


def test_english_variants_are_english() -> None:
    assert normalize("Mr. Smith paid £5", lang="en-GB") == "Mister Smith paid five pounds"


def test_lexicon_is_applied_last_to_the_spoken_text() -> None:
    lexicon = Lexicon([("Hermione", "her-MY-oh-nee"), ("Doctor Watson", "the good doctor")])
    out = normalize("Dr. Watson met Hermione\u2019s cat.", lexicon=lexicon)
    # "Dr." was spelled out before the lexicon looked, so the phrase entry matched.
    assert out == "the good doctor met her-MY-oh-nee's cat."


# -- chapters --------------------------------------------------------------------------------------


def test_prepare_chapter_gives_every_block_its_spoken_text() -> None:
    blocks = [
        Block(BlockKind.HEADING, "IV", level=2),
        Block(BlockKind.PARAGRAPH, "In 1931 Mr. Smith paid $3.50."),
        Block(BlockKind.SCENE_BREAK, "* * *"),
        Block(BlockKind.VERSE, "12 Twinkle, twinkle, little star,"),
        Block(BlockKind.VERSE, "How I wonder what you are!      5"),
        Block(BlockKind.QUOTE, "\u201cI shall return\u201d\u2014and he did."),
    ]
    chapter = Chapter("IV", blocks)
    pairs = prepare_chapter(chapter, "en", Lexicon([("Smith", "Smythe")]))
    assert [b for b, _ in pairs] == blocks
    assert [s for _, s in pairs] == [
        "four",
        "In nineteen thirty-one Mister Smythe paid three dollars and fifty cents.",
        "",
        "Twinkle, twinkle, little star,",
        "How I wonder what you are!",
        '"I shall return" \u2014 and he did.',
    ]


def test_numbers_in_ordinary_paragraphs_are_not_taken_for_verse_numbers() -> None:
    chapter = Chapter("One", [Block(BlockKind.PARAGRAPH, "12 Men came.")])
    assert prepare_chapter(chapter, "en", None)[0][1] == "twelve Men came."


# -- the corpus ------------------------------------------------------------------------------------


def _time_machine_body(corpus_dir: Path) -> list[str]:
    text = (corpus_dir / "wells_the-time-machine.txt").read_text(encoding="utf-8")
    start = text.index("\n I\n")  # the first heading after the contents list
    end = text.index("*** END OF")
    paragraphs = re.split(r"\n{2,}", text[start:end])
    return [" ".join(p.split()) for p in paragraphs if p.strip()]


def _carol_paragraphs(corpus_dir: Path) -> list[str]:
    text = (corpus_dir / "dickens_a-christmas-carol.md").read_text(encoding="utf-8")
    paragraphs = re.split(r"(?:\r?\n){2,}", text)
    return [" ".join(p.split()) for p in paragraphs if p.strip()]


SAMPLES = [
    "\u201cWell,\u201d said Mr. Holmes\u2014\u201cI think\u2026 so.\u201d",
    "It was 6:15 on the 3rd of May, 1931, and \u00a3240 was owed.",
    "Chapter XIV. Louis XIV and Henry VIII fought in World War II.",
    "St. Paul walked down Baker St. with Dr. Watson, Jr., etc.",
    "The ship was 1,234 tons; she sailed in the 1840s at 3.5 knots, 50% full.",
    "I said _no_, and I meant it*. See note [1].",
    "\u2018Curiouser and curiouser!\u2019 cried Alice (she was so much surprised).",
    "MIX the CIVIL and LIVID paint, DID you?",
]


def test_normalizing_twice_changes_nothing(corpus_dir: Path) -> None:
    sentences = SAMPLES + _time_machine_body(corpus_dir)[::7] + _carol_paragraphs(corpus_dir)[::5]
    assert len(sentences) > 200
    for sentence in sentences:
        once = normalize(sentence)
        assert normalize(once) == once, sentence
        once_title = normalize(sentence, is_title=True)
        assert normalize(once_title, is_title=True) == once_title, sentence


def test_the_time_machine_comes_out_clean(corpus_dir: Path) -> None:
    body = _time_machine_body(corpus_dir)
    spoken = [normalize(p) for p in body]
    joined = "\n".join(spoken)
    for char in "\u2018\u2019\u201c\u201d\u2026\u00ad\u00a0\u2013_*":
        assert char not in joined, repr(char)
    assert not re.search(r"\w\u2014|\u2014\w", joined), "no dash touches a word"
    assert not re.search(r"\d", joined), "no digits are left for the voice to guess"
    # Nothing is lost: the words of the book are all still there. Numbers add words, and only
    # joined initials ("A.D." -> "AD") take any away.
    assert sum(count_words(s) for s in spoken) >= 0.999 * sum(count_words(p) for p in body)
    assert all(s for p, s in zip(body, spoken, strict=True) if count_words(p))


def test_dialogue_quotes_survive_in_the_carol(corpus_dir: Path) -> None:
    paragraphs = _carol_paragraphs(corpus_dir)
    for paragraph in paragraphs:
        assert normalize(paragraph).count('"') == paragraph.count('"')


def test_clean_typography_is_exposed_for_importers() -> None:
    assert clean_typography("a\u00a0\u00a0b\u2014c") == "a b \u2014 c"
