"""Character discovery: the cast list a reader would agree with."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.script.characters import Character, CharacterList, find_characters

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

# A few lines in the manner of Pride and Prejudice (written for the test): places, a family
# named in the plural, bare titles, a nickname and first/last-name variants.
STORY = [
    "Mr. Bennet was so odd a mixture of quick parts that Mrs. Bennet never understood him.",
    "“My dear Mr. Bennet,” said Mrs. Bennet, “have you heard that Netherfield Park is let?”",
    "Mr. Bennet replied that he had not, and Mrs. Bennet told him all she knew.",
    "“Lizzy,” cried Mrs. Bennet, “come here!” and Elizabeth came; she was always ready.",
    "Then Elizabeth Bennet sat down, and she thought Mr. Darcy proud. Mr. Darcy was silent.",
    "“Which do you mean?” said Mr. Darcy, and he looked for a moment at Elizabeth.",
    "Everyone knew that Darcy was clever. He had been staying at Rosings with his aunt.",
    "Elizabeth walked out the next day, and at Rosings she met Lady Catherine de Bourgh.",
    "Then Fitzwilliam Darcy wrote a letter; and Fitzwilliam Darcy signed it. He was grave.",
    "They went into Derbyshire, and in Derbyshire they saw much. Elizabeth liked it.",
    "The Lucases lived in Hertfordshire. Sir William Lucas was happy in Hertfordshire.",
    "In Hertfordshire, Charlotte Lucas was the friend of Elizabeth. She was sensible.",
    "“Eliza,” said Charlotte Lucas, “you must not be so severe.” Elizabeth laughed.",
    "“Mr. Darcy is all politeness,” said Elizabeth, smiling. Darcy bowed; he was grave.",
    "When the Lucases came to dine, Mr and Mrs Bennet were at home, and Mrs said nothing.",
    "“You are too good, Lizzy,” said Jane Bennet. Jane smiled; she was happy.",
    "Mr. Bingley admired Jane Bennet; he danced with her twice, and Darcy watched him.",
    "Elizabeth said that Darcy had been rude. “Lizzy!” said Jane, and she laughed.",
    "All the town agreed that Elizabeth Bennet was the cleverest of the sisters.",
]


def test_a_cast_list_a_reader_would_agree_with() -> None:
    characters = find_characters(STORY)
    names = characters.names()
    # Places and families are not people, nor are titles on their own.
    for not_a_person in ("Rosings", "Hertfordshire", "Derbyshire", "Lucases", "Mr", "Mrs"):
        assert characters.resolve(not_a_person) is None or not_a_person not in names
        assert all(not_a_person not in c.aliases for c in characters.characters)
    elizabeth = characters.resolve("Elizabeth")
    assert elizabeth is not None and elizabeth.gender == "female"
    assert characters.resolve("Elizabeth Bennet") is elizabeth
    assert characters.resolve("Lizzy") is elizabeth  # a nickname
    assert characters.resolve("Eliza") is elizabeth
    darcy = characters.resolve("Mr. Darcy")
    assert darcy is not None and darcy.gender == "male"
    assert characters.resolve("Darcy") is darcy
    assert characters.resolve("Fitzwilliam Darcy") is darcy
    assert sum("Darcy" in c.name for c in characters.characters) == 1
    # Mr. and Mrs. Bennet are two people; Jane is neither of them.
    mr, mrs = characters.resolve("Mr. Bennet"), characters.resolve("Mrs. Bennet")
    assert mr is not None and mrs is not None and mr is not mrs
    assert mr.gender == "male" and mrs.gender == "female"
    assert characters.resolve("Jane") not in (mr, mrs, elizabeth)
    assert characters.narrator is None  # told in the third person
    # What an author types to correct a speaker: a form of a character is that character; a
    # full name with a word none of theirs is someone new, though it shares a surname.
    assert (
        characters.typed_name("Lizzy") == characters.typed_name("Miss Elizabeth") == elizabeth.name
    )
    assert characters.typed_name("Mr. Darcy") == darcy.name
    assert characters.typed_name("Kitty Bennet") == "Kitty Bennet"
    assert characters.typed_name("Mary Bennet") == "Mary Bennet"
    assert characters.resolve("Kitty Bennet") is not None  # resolve alone would take a Bennet


def test_a_first_person_narrator_is_named_by_the_others() -> None:
    story = [
        "I had been out all day, and I came back late to our rooms.",
        "“You are late, Watson,” said Holmes, without looking up.",
        "“I was detained,” I said. I took off my coat, for I was cold.",
        "“My dear Watson, you were at the club,” said Holmes.",
        "“How did you know?” I asked, and I sat down by the fire.",
    ]
    assert find_characters(story).narrator == "Watson"


def _pride_and_prejudice() -> Path | None:
    if not CORPUS.is_dir():
        return None
    found = sorted(p for p in CORPUS.iterdir() if "pride" in p.name.lower())
    return found[0] if found else None


def test_pride_and_prejudice_cast_list() -> None:
    path = _pride_and_prejudice()
    if path is None:
        pytest.skip(f"Pride and Prejudice not found in {CORPUS}")
    from pipelines.manuscript import load_book

    book = load_book(path)
    characters = find_characters(b.text for c in book.body for b in c.blocks)
    aliases = {a for c in characters.characters for a in c.aliases}
    for not_a_person in ("Rosings", "Hertfordshire", "Derbyshire", "Mr", "Miss", "Mrs", "Lucases"):
        assert not_a_person not in aliases, not_a_person
    elizabeth = characters.resolve("Elizabeth")
    assert elizabeth is not None and elizabeth.gender == "female"
    for form in ("Elizabeth Bennet", "Lizzy", "Eliza"):
        assert characters.resolve(form) is elizabeth, form
    darcy = characters.resolve("Mr. Darcy")
    assert darcy is not None and darcy.gender == "male"
    assert characters.resolve("Darcy") is darcy
    assert sum(1 for c in characters.characters if c.name.split()[-1] == "Darcy") == 1
    assert (
        sum(
            1
            for c in characters.characters
            if c.name == "Elizabeth" or c.name.startswith("Elizabeth ")
        )
        == 1
    )


def test_two_forms_of_a_kin_title_and_a_first_name_are_one_person() -> None:
    story = [
        "“Where is my shawl?” cried Grandmother, and then Grandmother sat down.",
        "“Here, Grandmamma,” said Kitty Hale, and gave it to Grandmamma with a smile.",
        "That day Kitty Hale ran out to Jane Oakes, and so Jane Oakes came in with her.",
        "“Jane!” called Kitty, and she said that Jane Oakes was always kind to Kitty Hale.",
        "So Jane Oakes sat by Jane; and while Kitty talked, Miss Jane Brown, a friend, dozed.",
        "“Hush,” said Jane, for she saw that Grandmother was asleep; then Jane went out.",
        "Later Ruby Marsh came in, and Mr. Marsh, her father, followed; then Ruby Marsh sat.",
        "At last Ruby Marsh said she was tired, and Ruby Marsh went up; she slept soon.",
    ]
    characters = find_characters(story)
    grandmother = characters.resolve("Grandmamma")
    assert grandmother is not None and grandmother is characters.resolve("Grandmother")
    # "Jane" alone is Jane Oakes, who goes by it, not the Miss Jane Brown met once.
    assert characters.canonical("Jane") == "Jane Oakes"
    ruby = characters.resolve("Ruby Marsh")
    assert ruby is not None and ruby.gender == "female"


def test_a_gender_told_by_the_pronouns_that_mostly_follow_a_name() -> None:
    # Three of five pronouns after "Du Roc" are his, two someone else's: enough to tell.
    story = [
        "Then Du Roc bowed to the lady, and he smiled at her.",
        "Madame Vane laughed; Du Roc looked at her, and she looked away.",
        "Everyone knew Du Roc, and his manners were admired by all.",
        "At dinner Du Roc sat down; his plate was full, and she watched.",
        "“Bon soir,” said Du Roc, as she went out; he stayed on.",
    ]
    character = find_characters(story).resolve("Du Roc")
    assert character is not None and character.gender == "male"


def test_a_patronymic_tells_a_gender() -> None:
    from pipelines.script.names import first_name_gender

    assert first_name_gender("Stepanitch") == "male"
    assert first_name_gender("Petrovna") == "female"
    assert first_name_gender("Rich") == ""  # too short to be one


def test_a_surname_that_is_also_a_common_word_keeps_its_full_name() -> None:
    # "Short" is a common word in lower case, but the book also writes "Short" alone in
    # mid-sentence: Peter Short is a person, known by his full name.
    filler = "It was a short walk, and a short talk, and a short rest after a short wait."
    story = [filler] * 4 + [
        "Then Peter Short came in. We all knew that Short was a liar.",
        "“Go away,” said Peter Short; and so Short went, though Short was angry.",
        "They said that Short had gone, and that Peter Short would not come back.",
    ]
    characters = find_characters(story)
    assert characters.canonical("Short") == "Peter Short"


def test_a_wife_called_by_her_husbands_name_and_by_her_own_is_one_person() -> None:
    story = [
        "Mr. and Mrs. Henry Dale came down from town, and we saw that Henry Dale was tired.",
        "“Come in,” said Henry Dale, and we all knew that Henry Dale was glad.",
        "“Welcome,” said Mrs. Henry Dale, and Mrs. Henry Dale sat down by the fire.",
        "Everyone hoped Henry and Clara would stay. Clara smiled; she was happy.",
        "“We shall,” said Clara, for Henry and Clara loved the place. Clara laughed.",
        "Then Henry Dale said that Clara was tired, and Clara went up.",
    ]
    characters = find_characters(story)
    clara = characters.resolve("Clara")
    assert clara is not None and clara is characters.resolve("Mrs. Henry Dale")
    assert characters.resolve("Henry Dale") is not clara


def test_a_place_gone_to_and_from_is_no_character() -> None:
    story = [
        "Ned Moss had a letter from Tasmania; his brother lived in Tasmania.",
        "“I shall go to Tasmania,” said Ned Moss, and he went to Tasmania that spring.",
        "He came back from Tasmania in June. Tasmania, he said, was warm; he was glad.",
        "“Tell me,” said Ann Grey to Ned Moss, and Ned Moss told her.",
    ]
    characters = find_characters(story)
    assert characters.resolve("Tasmania") is None
    assert characters.canonical("Ned Moss") == "Ned Moss"


def test_a_titled_place_a_country_and_two_of_a_name_are_no_characters() -> None:
    story = [
        "Ann Grey was born on Prince Edward Island, and Prince Edward Island was her home.",
        "The Italian at the gate bowed. The Italian smiled, and Ann Grey paid the Italian.",
        "Miss Alan was kind. The Miss Alans were at breakfast; the Miss Alans were sisters.",
        "“Good morning,” said Miss Alan. Miss Catharine Alan nodded. The Miss Alans went.",
        "Ann Grey went to Queen's. At Queen's she worked; Queen's was hard, but Ann Grey won.",
        "Messrs. Blathers and Duff came. Messrs. Blathers and Duff sat down with Mr. Blathers.",
        "Mrs. Maple came in. Mrs. Maple sat down, and Mrs. Maple looked at Ann Grey.",
        "Mrs. Maple spoke of Rose, and Mrs. Maple cried; Mrs. Maple loved her niece.",
        "“She is very ill now,” rejoined Mrs. Maples. Mrs. Maple wept, and Ann Grey wept.",
    ]
    characters = find_characters(story)
    for not_a_person in (
        "Prince Edward Island",
        "Italian",
        "Miss Alans",
        "Messrs. Blathers",
        "Queen",
    ):
        assert characters.resolve(not_a_person) is None, not_a_person
    assert characters.resolve("Miss Alan") is not None
    # A title who speaks is someone, however often her things are named.
    court = [
        "“Off with her head!” said the Queen. The Queen's face was red, the Queen's"
        " voice rose, and the Queen's guards ran. The Queen sat down."
    ]
    assert find_characters(court).resolve("Queen") is not None
    # A tag names one person, even when a misprint makes the name look like a family's.
    assert characters.canonical("Mrs. Maples") == characters.canonical("Mrs. Maple")


def test_a_first_name_with_an_endearment_is_that_person() -> None:
    story = [
        *["Then Anne Shirley came home, and Matthew Cuthbert was glad to see Anne Shirley."] * 3,
        *["“Well now, Anne-girl,” said Matthew, and he smiled at Anne-girl by the fire."] * 3,
        "“Thank you,” said Anne. Then Anne Shirley went upstairs.",
    ]
    characters = find_characters(story)
    assert characters.resolve("Anne-girl") is characters.resolve("Anne Shirley") is not None


def test_a_man_named_both_ways_in_a_paragraph_or_two_is_one_person() -> None:
    story = [
        "Mr. Stone came in. Mr. Stone sat down. Mr. Stone was tired.",
        "This only made Mr. Stone angrier; and Bill Stone struck the table.",
        "Nobody spoke to Mr. Stone. Mr. Stone drank, and Bill Stone was left alone at last.",
        "“Bill,” said Nancy. Bill Stone looked up, and smiled at her.",
        "Mr. Stone went out, and Mr. Stone slammed the door.",
    ]
    characters = find_characters(story)
    assert characters.canonical("Mr. Stone") == characters.canonical("Bill Stone")


def test_an_honorific_of_address_is_no_character() -> None:
    story = [
        "“Come, Sahib,” said Ram Das. “The Sahib is tired,” said Ram Das again.",
        "“Yes, Sahib,” he said; and the Sahib, he knew, would follow Ram Das.",
        "“Effendi, wait,” cried Ram Das, for the Effendi had gone on ahead.",
        "“I will,” said the Sahib. “Go on,” said the Effendi, and the Effendi smiled.",
    ]
    characters = find_characters(story)
    assert characters.resolve("Sahib") is None and characters.resolve("Effendi") is None
    assert characters.resolve("Ram Das") is not None


def test_a_rank_alone_is_the_one_person_who_holds_it() -> None:
    story = [
        "Colonel Brand rode in; Colonel Brand was tired, and Colonel Brand sat down.",
        "Then Colonel and Mrs. Brand dined, and Colonel and Mrs. Brand were merry.",
        "“Wine,” said Colonel Brand; and Colonel and Mrs. Brand drank to Ann Grey.",
    ]
    characters = find_characters(story)
    colonel = characters.resolve("Colonel")
    assert colonel is not None and colonel is characters.resolve("Colonel Brand")


def test_a_title_case_heading_joins_a_first_name_to_her_title() -> None:
    # As in A Room with a View: "Lucy" in the story, "Miss Honeychurch" in speech, and the
    # two joined only by a chapter title whose capitals run on into its verb.
    text = [
        "Chapter II: Miss Ada Bright Walks Out to See the River",
        *[f"\u201cI like the river,\u201d said Ada, who walks there on day {n}." for n in range(5)],
        *["\u201cGood morning, Miss Bright,\u201d said Mr. Stone, and she smiled."] * 3,
        "Mrs. Bright walks with her daughter, and Mrs. Bright says little. She is kind.",
        "\u201cAda, come in,\u201d said Mrs. Bright. Ada came; she was always ready.",
    ]
    characters = find_characters(text)
    ada = characters.resolve("Ada")
    assert ada is not None and ada.name == "Ada"
    assert characters.resolve("Miss Bright") is ada
    assert characters.resolve("Mrs. Bright") not in (None, ada)
    assert not any("Walks" in a for c in characters.characters for a in c.aliases)


def test_old_and_young_before_a_title_tell_father_from_son() -> None:
    # As in A Room with a View: "Mr. Emerson" is the father, "George Emerson" the son, and
    # the narration calls them "Old Mr. Emerson" and "young Mr. Emerson".
    father = Character("Mr. Emerson", {"Mr. Emerson"}, count=30, gender="male")
    son = Character(
        "George Emerson", {"George Emerson", "George", "Emerson"}, count=40, gender="male"
    )
    characters = CharacterList([son, father])
    assert characters.resolve("Mr. Emerson") is father
    assert characters.resolve("Old Mr. Emerson") is father
    assert characters.resolve("poor Mr. Emerson") is father
    assert characters.resolve("young Mr. Emerson") is son
    assert characters.resolve("Emerson") is son


def test_an_office_said_again_and_again_beside_one_name_is_hers() -> None:
    # Never "Mrs. Corney, the matron": the narration names her, then calls her the matron.
    text = []
    for k in range(7):
        text += [
            f"Mrs. Corney sat by the fire with Mr. Bumble, and sipped her tea ({k}).",
            "“Is it late?” asked the matron, and the beadle said it was.",
        ]
    text += ["“Hush,” said Mr. Bumble to Mrs. Corney. Mr. Bumble was a fat man. He smiled."] * 3
    characters = find_characters(text)
    assert characters.roles.get("matron") == "Mrs. Corney"
    # A man is no one's matron, and an office said too seldom stays unknown.
    assert "beadle" not in characters.roles
    assert "matron" not in find_characters(text[:6]).roles
