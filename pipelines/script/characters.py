"""The book's characters: names found in the text, aliases merged, a gender guessed for each.

No language model: a name is a capitalised word (or run of them) that the book writes
capitalised in mid-sentence and seldom in lower case, or one that stands in a speech tag
("said Holmes"). Places ("at Rosings", "Tunbridge Wells"), families ("the Lucases") and bare
titles are kept out. Name forms are clustered into people:
- full forms ("Sherlock Holmes", "Mr. Thaddeus Sholto") are one person per first name and
  surname, nicknames read as the formal name ("Bill Sikes" is "William Sikes");
- a title and surname ("Mr. Holmes") joins the one full form written with the same title
  ("Mr. Sherlock Holmes"), unless the two look like different people (a father and son both
  "Mr. Emerson": the son's first name keeps company with "Mr. Emerson" in the same paragraphs);
- a first name alone ("Emma", "Lizzy") joins the only person with that first name; a surname
  alone ("Knightley") the most mentioned man of that surname;
- a wife called by her husband's name ("Mrs. John Knightley") and one known by a first name
  alone ("Isabella") are one woman when the book pairs that first name with his ("John and
  Isabella").
Gender comes from titles (Mr., Mrs., Lady), common first names, then the pronouns that follow
the name's mentions.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.script.dialogue import SPEECH_VERBS, detect_style, split_quotes, wordset
from pipelines.script.idiolect import Idiolects
from pipelines.script.names import KIN_FORMS, NICKNAMES, first_name_gender

MALE_TITLES = wordset(
    "mr mister sir lord dr doctor inspector colonel captain major general professor king "
    "count baron duke prince father uncle master reverend rev sergeant lieutenant constable "
    "mr. monsieur herr signor don emperor brother marquis marquess earl judge squire "
    "grandfather grandpapa papa"
)
FEMALE_TITLES = wordset(
    "mrs miss ms lady madam madame mme mlle queen duchess princess countess baroness aunt "
    "mother sister dame mistress signora grandmother grandmamma mamma marchioness"
)
NEUTRAL_TITLES = wordset("cousin")
TITLES = MALE_TITLES | FEMALE_TITLES | NEUTRAL_TITLES
# Titles that never name anyone alone ("Mr" left by a line break, "Mrs" in a list).
_ABBREVIATED_TITLES = wordset("mr mrs ms dr st messrs mme mlle rev mr. mister miss master")
_NAME_TOKEN = r"(?:St\.?\s+|Mc|Mac|O['\u2019])?[A-Z][a-z]+(?:['\u2019-][A-Z]?[a-z]+)*"
_TITLE_TOKEN = r"(?:Mr|Mrs|Ms|Dr|St|Messrs|Mme|Mlle)\.?|" + "|".join(
    sorted({t.capitalize() for t in TITLES if "." not in t and len(t) > 2}, key=len, reverse=True)
)
# Words that describe the person a name follows ("old Mr. Emerson", "poor Miss Taylor").
_DESCRIBING = wordset("dear poor old young little good")
# Before a title such a word belongs to the run (resolving drops it), not to a name of its own
# ("Old Mr" then "Emerson").
_LEADING_TITLED = (
    rf"(?:(?:{'|'.join(sorted(w.capitalize() for w in _DESCRIBING))})\s+(?=(?:{_TITLE_TOKEN})\s))?"
)
NAME_RE = re.compile(
    rf"{_LEADING_TITLED}(?:(?:{_TITLE_TOKEN})\s+)?{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,2}}"
)
# Words that are capitalised for reasons other than being a name.
_NOT_NAMES = wordset(
    "i the a an and but or if then when what who why how where which that this these those "
    "there here he she it we they you his her its our their my your me him us them yes no oh "
    "ah well now so not nor yet for with without from into upon on in at by to of as all some "
    "any each every both either neither one two three four five six seven eight nine ten "
    "first last next after before while since until though although because perhaps indeed "
    "only even still just quite very much more most such god heaven heavens sir madam lord "
    "lady monday tuesday wednesday thursday friday saturday sunday january february march "
    "april may june july august september october november december chapter part book volume "
    "stave english french german american london street square road lane house hall park "
    "do does did don't can can't will won't shall let let's come go look see say tell thank "
    "thanks pray please good dear poor old young little miss mrs mr mister christmas easter "
    "mamma papa ma'am sire mademoiselle monsieur madame signor signora nonsense hush hallo "
    "hullo halloo hurrah bravo alas amen goodbye good-bye good-night farewell never ever "
    "sahib memsahib effendi "
    # who someone is by their country, not their name ("the Italian", "Italians")
    "italian italians russian russians spanish scotch scottish irish welsh dutch swiss "
    "austrian prussian greek greeks turkish chinese japanese european europeans british sikh "
    "sikhs "
    "nothing everything something anything nobody everybody somebody anybody"
)
# Words a name run may start with that are not part of the name ("Dear Miss Woodhouse").
_LEADING = _DESCRIBING | wordset("my our your his her their sweet darling")
# Last words that make a run a place, not a person; the first of them even after a title
# ("Prince Edward Island"), as no family is called so ("Mr. Hill" and "Miss Wood" are).
_NEVER_SURNAMES = wordset(
    "street square road lane terrace gardens island station hotel college school academy "
    "town city village county shire cathedral palace crescent museum gallery theatre temple "
    "priory rectory vicarage parsonage harbour docks avenue creek ocean sea river valley"
)
_PLACE_WORDS = wordset(
    "street square road lane house hall park court place abbey castle church chapel bridge "
    "hill hills green gables common terrace gardens garden manor farm mill cottage river "
    "island station hotel inn college school town city village county shire lodge wells "
    "sands wood woods forest lake sea ocean bay valley vale mount mountain downs heath "
    "cathedral palace tower gate row crescent walk market bank museum gallery theatre "
    "office temple priory rectory vicarage parsonage grange point harbour port dock docks "
    "avenue brook field fields moor pond pool creek point academy"
)
_PLACE_PREP = re.compile(
    r"\b(?:in|into|near|through|across|within|beyond|inside|outside|at|reach|reached|visit|"
    r"visited)\s+(?:the\s+)?$"
)
_LOOK_AT = re.compile(
    r"\b(?:look|looked|looking|glance|glanced|smiled|stared|laughed|gazed|nodded|aimed|"
    r"frowned|shouted|angry|surprised|wonder|wondered)\s+at\s+$"
)
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\u201c\u201d\u2018\"(\u2014]\s*|\n)$")
_TO_FROM = re.compile(r"\b(?:to|from)\s+$")
# Share of a name's mentions after "in", "at", "to", "from" that makes it a place.
_PLACE_SHARE = 0.6
# Share of a bare title's mentions as a possessive that makes it a place or an institution.
_INSTITUTION_SHARE = 0.6
_PRONOUN_AFTER = re.compile(r"\b(he|his|him|himself|she|her|hers|herself)\b", re.IGNORECASE)


# Functionaries met in passing, whom a story seldom names: "said the turnkey" is whoever
# holds the post in the scene.
FUNCTIONARIES = wordset(
    "officer jailer jailor gaoler turnkey warder servant magistrate driver coachman cabman "
    "clerk landlord landlady housemaid maid croupier waiter porter guard constable policeman "
    "sergeant soldier sailor boatman footman butler cook nurse apothecary postman shopman "
    "shopkeeper innkeeper keeper watchman attendant messenger doorkeeper gardener groom "
    "carter carrier pedlar conductor dealer tinker ostler hostler sexton hawker drover ferryman "
    "lamplighter bellman cobbler blacksmith carpenter miller"
)
# Offices and trades the narration may give a named person ("Mr. Grey, the undertaker").
OCCUPATIONS = FUNCTIONARIES | wordset(
    "surgeon beadle undertaker clergyman chaplain vicar curate priest lawyer attorney judge "
    "farmer hostess host manager secretary steward stewardess captain inspector detective "
    "doctor physician banker jeweller tailor barber baker butcher grocer hatter governess "
    "housekeeper matron schoolmaster schoolmistress teacher master mistress"
)
# Nouns of a description that tell a person's gender ("said the matron").
_MALE_NOUN_LIST = (
    "man gentleman boy fellow youth lad husband father brother son uncle master sir lord king "
    "gentlemen grandfather nephew bachelor clergyman vicar curate rector parson chaplain priest "
    "monk landlord waiter policeman footman boatman butler duke prince baron emperor"
)
_FEMALE_NOUN_LIST = (
    "woman lady girl wife mother sister daughter aunt mistress matron maid widow queen niece "
    "grandmother miss dame governess housekeeper landlady waitress actress hostess stewardess "
    "princess duchess countess baroness nun schoolmistress washerwoman laundress"
)
NOUN_GENDER = {
    **dict.fromkeys(wordset(_MALE_NOUN_LIST), "male"),
    **dict.fromkeys(wordset(_FEMALE_NOUN_LIST), "female"),
}
_OCCUPATION_RE = "|".join(sorted(OCCUPATIONS, key=len, reverse=True))
_APPOSITION_HINT = re.compile(
    rf",\s+(?:the|a)\s+(?:[a-z\-]+\s+){{0,2}}(?:{_OCCUPATION_RE})\b|\b(?:{_OCCUPATION_RE}),\s+[A-Z]"
)
# "Mr. Grey, the undertaker", "the beadle, Mr. Bumble": who holds which office.
_APPOSITION = re.compile(
    rf"(?P<name>{NAME_RE.pattern}),\s+(?:the|a)\s+(?:[a-z\-]+\s+){{0,2}}"
    rf"(?P<noun>{_OCCUPATION_RE})\b"
    rf"|\bthe\s+(?:[a-z\-]+\s+){{0,2}}(?P<noun2>{_OCCUPATION_RE}),\s+(?P<name2>{NAME_RE.pattern})"
)


@dataclass(slots=True)
class Character:
    name: str  # the fullest common form: "Sherlock Holmes"
    aliases: set[str] = field(default_factory=set)  # every form seen, the name included
    count: int = 0  # mentions in the text
    gender: str = ""  # "male", "female", "" when it cannot be told
    tagged: int = 0  # times named in a speech tag

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "aliases": sorted(self.aliases),
            "count": self.count,
            "gender": self.gender,
            "tagged": self.tagged,
        }


@dataclass(slots=True)
class CharacterList:
    characters: list[Character] = field(default_factory=list)
    narrator: str | None = None  # the first-person narrator's name, when the book has one
    roles: dict[str, str] = field(default_factory=dict)  # "undertaker" -> "Mr. Sowerberry"
    young: set[str] = field(default_factory=set)  # the children: "little Oliver", "Master Tom"
    # How each speaks, from the book's tagged quotations (`attribution.learn_idiolects`).
    idiolects: Idiolects | None = None
    _index: dict[str, Character] = field(default_factory=dict)
    # surname -> who goes by a first name and it ("George Emerson"), for `namesake`
    _surnamed: dict[str, list[Character]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._index = {}
        self._surnamed = defaultdict(list)
        for c in self.characters:
            for surname in {
                k[-1] for a in c.aliases if len(k := _strip_title(_key(a)).split()) > 1
            }:
                self._surnamed[surname].append(c)
        ordered = sorted(self.characters, key=lambda c: c.count)
        # Surnames and untitled forms first, the forms actually seen last so that they win;
        # within each, the most-mentioned last, so an ambiguous short form goes to the main
        # character.
        for c in ordered:
            for alias in c.aliases | {c.name}:
                words = _strip_title(_key(alias)).split()
                if len(words) > 1 and _key(alias).split()[0] not in TITLES:
                    self._index[words[0]] = c  # "Sherlock", "Mary"
        # A bare surname goes to a man of that name before a woman ("Knightley", "Weston").
        for c in sorted(ordered, key=lambda c: (c.gender == "male", c.count)):
            for alias in c.aliases | {c.name}:
                bare = _strip_title(_key(alias))
                self._index[bare] = c
                self._index[bare.split()[-1]] = c
        for c in ordered:
            for alias in c.aliases | {c.name}:
                self._index[_key(alias)] = c

    def resolve(self, name: str) -> Character | None:
        key = _key(name)
        words = key.split()
        lead = []
        # "Old Mr. Emerson", "poor Miss Taylor": the words before the name describe them.
        while len(words) > 1 and words[0] in _LEADING:
            lead.append(words.pop(0))
        if lead:
            found = self.resolve(" ".join(words))
            if found is not None and "young" in lead:
                return self._younger(words, found)
            return found
        found = self._index.get(key)
        if found is None:
            # "Mr. Jabez Wilson" when only "Jabez Wilson" was seen; "Sherlock" alone.
            bare = _strip_title(key)
            found = self._index.get(bare)
            if found is None and bare:
                parts = bare.split()
                by_given = self._index.get(parts[0]) if len(parts) > 1 else None
                by_surname = self._index.get(parts[-1])
                # "Elizabeth Bennet" unseen: Elizabeth, not Mr. Bennet, when a person goes by
                # that first name; the surname alone is shared by the family.
                if by_given is not None and any(
                    _key(a).split()[:1] == [parts[0]] or _strip_title(_key(a)) == parts[0]
                    for a in by_given.aliases
                ):
                    found = by_given
                else:
                    found = by_surname or by_given
                if found is None and len(parts) == 1:
                    for formal in NICKNAMES.get(parts[0], ()):
                        if (found := self._index.get(formal)) is not None:
                            break
        return found

    def _younger(self, words: list[str], elder: Character) -> Character:
        """ "Young Mr. Emerson" beside an "old Mr. Emerson": the one other character of that
        surname who goes by a first name too (his son), when there is exactly one."""
        return self.namesake(" ".join(words), elder) or elder

    def namesake(self, form: str, holder: Character) -> Character | None:
        """For a title and a surname ("Mr. Emerson") that name `holder`: the one other character
        of that gender and surname who goes by a first name too (his son George Emerson), if
        there is exactly one; whom the form means then depends on who is in the scene."""
        words = _key(form).split()
        if len(words) != 2 or words[0] not in TITLES:
            return None
        others = [
            c
            for c in self._surnamed.get(words[1], ())
            if c is not holder and c.gender == holder.gender
        ]
        return others[0] if len(others) == 1 else None

    def canonical(self, name: str) -> str:
        c = self.resolve(name)
        return c.name if c else name

    def typed_name(self, typed: str) -> str:
        """Whom an author's typed name means: a character it is a form of ("Irene", "Mr.
        Holmes", "Lizzy"), else the name as typed, someone new. Stricter than `resolve`, which
        takes "Mycroft Holmes" for the Holmes it knows: a name of two words or more is theirs
        only if every word of it is."""
        c = self.resolve(typed)
        if c is None:
            return typed
        words = set(_strip_title(_key(typed)).split())
        theirs = {w for a in c.aliases | {c.name} for w in _key(a).split()}
        return c.name if len(words) < 2 or words <= theirs else typed

    def gender(self, name: str | None) -> str:
        if not name:
            return ""
        c = self.resolve(name)
        return c.gender if c and c.gender else _title_gender(name)

    def names(self) -> list[str]:
        return [c.name for c in self.characters]

    def to_dicts(self) -> list[dict[str, object]]:
        return [c.to_dict() for c in self.characters]


def _key(name: str) -> str:
    name = name.replace("\u2019", "'").replace(".", "")
    return " ".join(w.removesuffix("'s") for w in name.lower().split() if w != "the")


def _strip_title(key: str) -> str:
    words = key.split()
    while len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    return " ".join(words)


def _title_of(key: str) -> str:
    words = key.split()
    return words[0] if len(words) > 1 and words[0] in TITLES else ""


def _title_gender(name: str) -> str:
    first = _key(name).split()[:1]
    if not first:
        return ""
    if first[0] in FEMALE_TITLES:
        return "female"
    if first[0] in MALE_TITLES:
        return "male"
    return first_name_gender(first[0])


_VERB_ALT = "|".join(sorted(SPEECH_VERBS, key=len, reverse=True))
# "said Holmes", "feebly reiterated Matthew", "asked the sleepy Noah".
# "said poor Oliver": a word or two of description may stand before the name, but no
# preposition ("said to Anne", "cried in London").
_NOT_DESCRIPTION = (
    r"(?!(?:to|at|in|on|of|for|from|with|by|into|upon|about|after|before|and|but|that)\b)"
)
_TAG_AFTER = re.compile(
    rf"[,!?\u2014]\s*[\u201d\"'\u2019]\s+(?:[a-z]+ly\s+)?(?:{_VERB_ALT})\s+"
    rf"(?:the\s+)?(?:{_NOT_DESCRIPTION}[a-z\-]+\s+){{0,2}}(?P<name>{NAME_RE.pattern})"
)
_TAG_BEFORE = re.compile(
    rf"[\u201d\"'\u2019]\s+(?P<name>(?:the\s+)?{NAME_RE.pattern})\s+(?:{_VERB_ALT})\b"
)


def find_characters(texts: Iterable[str]) -> CharacterList:
    """The characters of a book (or chapter) from its blocks' written text."""
    blocks = list(texts)
    mentions: Counter[str] = Counter()
    mid_sentence: Counter[str] = Counter()
    tagged: Counter[str] = Counter()
    lower_words: Counter[str] = Counter()
    at_place: Counter[str] = Counter()  # mentions after "in", "at", "near" ...
    to_from: Counter[str] = Counter()  # after "to" or "from": a place, or a person spoken to
    pronouns: dict[str, Counter[str]] = defaultdict(Counter)
    paragraphs: dict[str, set[int]] = defaultdict(set)  # form -> blocks it is mentioned in
    possessive: Counter[str] = Counter()  # mentions as "Queen's"
    for bi, text in enumerate(blocks):
        for w in re.findall(r"\b[a-z][a-z'\u2019-]*\b", text):
            lower_words[w] += 1
        for m in _TAG_AFTER.finditer(text):
            if form := _clean(m.group("name")):
                tagged[form] += 1
        for m in _TAG_BEFORE.finditer(text):
            if form := _clean(m.group("name")):
                tagged[form] += 1
        for m in NAME_RE.finditer(text):
            form = _clean(m.group())
            if not form:
                continue
            mentions[form] += 1
            paragraphs[form].add(bi)
            if m.group().endswith(("'s", "\u2019s")):
                possessive[form] += 1
            head = text[max(0, m.start() - 30) : m.start()]
            if not _SENTENCE_END.search(head[-3:]):
                mid_sentence[form] += 1
            if _PLACE_PREP.search(head) and not _LOOK_AT.search(head):
                at_place[form] += 1
            elif _TO_FROM.search(head):
                to_from[form] += 1
            p = _PRONOUN_AFTER.search(text, m.end(), min(len(text), m.end() + 60))
            if p:
                pronouns[form][
                    "female" if p.group(1).lower().startswith(("she", "her")) else "male"
                ] += 1

    # "Miss Lucy Honeychurch Drive Out", "Mrs. Rachel Lynde Is Surprised": a heading's
    # capitals run a name into the words after it; the name is the part before the first word
    # the book otherwise writes in lower case.
    for form in list(mentions):
        name = _before_common_words(form, mentions[form], lower_words, mid_sentence)
        if name is not None and name != form:
            mentions[name] += mentions[form]
            mid_sentence[name] += mid_sentence[form]
            tagged[name] += tagged[form]
            paragraphs[name] |= paragraphs[form]
            pronouns[name].update(pronouns.get(form, {}))
    surnames = {_strip_title(_key(f)).split()[-1] for f in mentions if len(f.split()) > 1}

    def is_name(form: str) -> bool:
        key = _key(form)
        words = key.split()
        if not words or (len(words) == 1 and words[0] in _ABBREVIATED_TITLES):
            return False
        if words[-1] in _PLACE_WORDS and (not _title_of(key) or words[-1] in _NEVER_SURNAMES):
            return False
        if (
            len(words) == 1
            and _title_gender(key)
            and not tagged[form]
            and possessive[form] >= max(3, _INSTITUTION_SHARE * mentions[form])
        ):
            return False  # "to Queen's", "the King's Arms": a place named for a title
        if words[0] == "messrs":
            return False  # "Messrs. Blathers and Duff": the two of them
        if len(words) == 1 and _is_family(words[0], surnames):
            return False  # "the Lucases", "the Coles"
        if (
            len(words) == 2
            and _title_of(key)
            and _is_family(words[1], surnames)
            and not tagged[form]  # "rejoined Mrs. Maylies": one person, misprinted
        ):
            return False  # "the Miss Alans", "the Mr. Knightleys": the family's two
        n = mentions[form]
        if n and at_place[form] >= max(2, 0.3 * n) and not tagged[form]:
            return False  # "at Rosings", "in Hertfordshire"
        if (
            not tagged[form]
            and not _title_of(key)
            and at_place[form]
            and at_place[form] + to_from[form] >= max(3, _PLACE_SHARE * n)
        ):
            return False  # "to Ireland", "from India", "in Ireland": a place gone to and from
        name_words = _strip_title(key).split()
        if (
            len(name_words) > 1
            and lower_words[name_words[-1]] > max(4, 2 * n)
            and mid_sentence[name_words[-1].capitalize()] < _SURNAME_ALONE
        ):
            # "Mrs. Rachel Lynde Is": a heading's capitals, not a surname. A common word that
            # the book also capitalises alone in mid-sentence ("Small", "Brown") is one.
            return False
        if _title_of(key) and len(words) > 1:
            return True
        if tagged[form] >= 1 and words[-1] not in _NOT_NAMES:
            return True
        if any(w in _NOT_NAMES for w in words):
            return False
        # A proper noun: written capitalised mid-sentence, and hardly ever in lower case.
        return mid_sentence[form] >= 2 and lower_words[words[-1]] * 5 < n

    names = [f for f in set(mentions) | set(tagged) if is_name(f)]
    characters = _absorb_misprints(_merge(names, mentions, tagged, pronouns, paragraphs))
    characters = _married_names(blocks, characters)
    found = CharacterList(characters=characters, narrator=_narrator(blocks, characters))
    found.roles = {**_roles_by_company(blocks, found), **_roles(blocks, found)}
    found.young = _young(blocks, found)
    return found


def _married_names(blocks: list[str], characters: list[Character]) -> list[Character]:
    """ "Mrs. John Knightley" and "Isabella" are one woman when the book pairs her first name
    with her husband's ("John and Isabella") again and again: a married woman is called by
    her husband's name in company and by her own among her family."""
    by_first: dict[str, Character] = {}
    for c in characters:
        if c.gender == "female" and all(len(a.split()) == 1 for a in c.aliases):
            for a in c.aliases:
                by_first[a] = c
    text = "\n".join(blocks)
    gone: set[int] = set()
    for wife in characters:
        husbands = {
            m.group(1)
            for a in wife.aliases
            if (m := _MRS_HUSBAND.match(a)) and first_name_gender(m.group(1).lower()) == "male"
        }
        for given in husbands:
            pairs: Counter[str] = Counter()
            for m in re.finditer(
                rf"\b{given}\s+and\s+([A-Z][a-z]+)\b|\b([A-Z][a-z]+)\s+and\s+{given}\b", text
            ):
                first = m.group(1) or m.group(2)
                if first in by_first and by_first[first] is not wife:
                    pairs[first] += 1
            if len(pairs) == 1 and (first := next(iter(pairs))) and pairs[first] >= _COUPLED:
                own = by_first[first]
                if id(own) in gone:
                    continue
                # One person, called by the name the book uses most.
                keep, drop = (wife, own) if wife.count >= own.count else (own, wife)
                keep.aliases |= drop.aliases
                keep.count += drop.count
                keep.tagged += drop.tagged
                gone.add(id(drop))
    kept = [c for c in characters if id(c) not in gone]
    kept.sort(key=lambda c: (-c.count, c.name))
    return kept


_MRS_HUSBAND = re.compile(r"^Mrs\.?\s+([A-Z][a-z]+)\s+[A-Z][a-z]+$")
_COUPLED = 2  # times the two first names are paired before the wife is read as one person


# Mid-sentence capitalised mentions that make a common word ("Small") a surname.
_SURNAME_ALONE = 3


def _common(word: str, n: int, lower_words: Counter[str], mid_sentence: Counter[str]) -> bool:
    """Is a capitalised word of a name form (mentioned n times) a common word, not a name:
    written in lower case far more often, and seldom capitalised alone mid-sentence?"""
    return lower_words[word] > max(4, 2 * n) and mid_sentence[word.capitalize()] < _SURNAME_ALONE


def _before_common_words(
    form: str, n: int, lower_words: Counter[str], mid_sentence: Counter[str]
) -> str | None:
    """The name at the start of a form that runs on into common words ("Miss Lucy
    Honeychurch Drive" -> "Miss Lucy Honeychurch"); None when no name is left before them."""
    words = form.split()
    keep = len(words)
    while keep > 1 and _common(_key(words[keep - 1]), n, lower_words, mid_sentence):
        keep -= 1
    name = _strip_title(_key(" ".join(words[:keep])))
    if keep == len(words) or name in TITLES or len(name.split()) < 2:
        return None  # nothing cut, or no full name left to go by
    return " ".join(words[:keep])


def _absorb_misprints(characters: list[Character]) -> list[Character]:
    """ "Mr. Browlow" once in a book where Mr. Brownlow is everywhere: a misprint, one letter
    off a form of someone named far more often, is that person."""
    out: list[Character] = []
    for c in characters:
        target = None
        if c.count <= _MISPRINT_MAX:
            near = {
                o.name: o
                for o in characters
                if o.count >= _MISPRINT_RATIO * max(1, c.count)
                and any(
                    len(a) >= _MISPRINT_MIN and _one_edit(a.lower(), b.lower())
                    for a in c.aliases
                    for b in o.aliases
                )
            }
            target = next(iter(near.values())) if len(near) == 1 else None
        if target is None:
            out.append(c)
        else:
            target.aliases |= c.aliases
            target.count += c.count
            target.tagged += c.tagged
    return out


_MISPRINT_MAX = 2  # mentions of a form that may be a misprint
_MISPRINT_RATIO = 5  # how much more often the form it misprints is named
_MISPRINT_MIN = 6  # letters a name needs before a misprint of it is read as it


def _one_edit(a: str, b: str) -> bool:
    """Do the two differ by one letter left out, added or changed?"""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)) :] == b[i + 1 :]


def _roles(blocks: list[str], characters: CharacterList) -> dict[str, str]:
    """Occupation -> the person the narration most often gives it to in apposition."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for text in blocks:
        if not _APPOSITION_HINT.search(text):
            continue  # cheap test first: the full pattern is slow on every paragraph
        for m in _APPOSITION.finditer(text):
            c = characters.resolve(_clean(m.group("name") or m.group("name2") or ""))
            if c is not None:
                votes[(m.group("noun") or m.group("noun2")).lower()][c.name] += 1
    # Twice at least: one "Lucy, a maid of all work" may be a passing description.
    return {
        noun: name
        for noun, v in votes.items()
        for name, n in v.most_common(1)
        if n >= _ROLE_VOTES and n > sum(v.values()) / 2
    }


_ROLE_VOTES = 2
_THE_OCCUPATION = re.compile(rf"\bthe\s+(?P<noun>{_OCCUPATION_RE})\b")
_COMPANY_REACH = 2  # paragraphs before "the matron" in which her name is looked for
_COMPANY_MIN = 6  # times the office is said before its company tells who holds it
_COMPANY_SHARE = 0.3  # of those, the share naming the holder nearby


def _roles_by_company(blocks: list[str], characters: CharacterList) -> dict[str, str]:
    """Occupation -> the one person named around "the <occupation>" again and again, when the
    narration never puts the two side by side ("the matron" a few lines after "Mrs. Corney")."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    said: Counter[str] = Counter()
    names: dict[int, set[str]] = {}

    def named(i: int) -> set[str]:
        if i not in names:
            names[i] = {
                c.name for m in NAME_RE.finditer(blocks[i]) if (c := characters.resolve(m.group()))
            }
        return names[i]

    for i, text in enumerate(blocks):
        nouns = {m.group("noun") for m in _THE_OCCUPATION.finditer(text)}
        if not nouns:
            continue
        near = set().union(*(named(j) for j in range(max(0, i - _COMPANY_REACH), i + 1)))
        for noun in nouns:
            said[noun] += 1
            votes[noun].update(near)
    out: dict[str, str] = {}
    for noun, v in votes.items():
        gender = NOUN_GENDER.get(noun)
        if gender is None or said[noun] < _COMPANY_MIN:
            continue  # "the croupier", "the doctor": no gender to tell the company apart
        top = [(n, k) for n, k in v.most_common() if characters.gender(n) == gender][:2]
        if (
            top
            and top[0][1] >= _COMPANY_SHARE * said[noun]
            and (len(top) == 1 or top[0][1] >= 3 * top[1][1])
        ):
            out[noun] = top[0][0]
    return out


# "little Oliver", "poor little Dick", "Master Tom": how a book speaks of its children.
_CHILD = re.compile(r"\b(?:[Ll]ittle|Master)\s+(?P<name>[A-Z][a-z]+)\b")
_CHILD_VOTES = 3


def _young(blocks: list[str], characters: CharacterList) -> set[str]:
    """The characters the narration calls "little" or "Master" again and again: children,
    whom "the old gentleman" or "the woman" never means."""
    votes: Counter[str] = Counter()
    for text in blocks:
        for m in _CHILD.finditer(text):
            c = characters.resolve(m.group("name"))
            if c is not None:
                votes[c.name] += 1
    return {name for name, n in votes.items() if n >= _CHILD_VOTES}


def _is_family(word: str, surnames: set[str]) -> bool:
    for stem in (word[:-2], word[:-1]) if word.endswith("es") else (word[:-1],):
        if word.endswith("s") and stem in surnames:
            return True
    return False


def _clean(form: str) -> str:
    words = form.replace("\u2019", "'").split()
    if words and words[0].lower() == "the":
        words = words[1:]
    while words and words[0].lower() in _LEADING:
        words = words[1:]
    # "Miss Woodhouse Miss Taylor": two names in a row; keep the first.
    for i in range(1, len(words)):
        if words[i].rstrip(".").lower() in TITLES:
            words = words[:i]
            break
    # "Sherlock Holmes's" -> the possessive is not part of the name.
    if words and words[-1].endswith("'s"):
        words[-1] = words[-1][:-2]
    while words and words[-1].lower() in _NOT_NAMES:
        words.pop()
    while words and words[0].lower() in _NOT_NAMES - TITLES:
        words = words[1:]
    return " ".join(words)


@dataclass(slots=True)
class _Person:
    forms: list[str]
    given: str = ""  # the formal first name, "" when only a title and surname are known
    surname: str = ""
    gender: str = ""
    titles: set[str] = field(default_factory=set)


def _parse(form: str) -> tuple[str, list[str]]:
    key = _key(form)
    return _title_of(key), _strip_title(key).split()


def _formal(given: str, known: set[str]) -> str:
    """A nickname read as the formal first name, when a person of that name is known."""
    for formal in NICKNAMES.get(given, ()):
        if formal in known:
            return formal
    first, _, endearment = given.partition("-")
    if endearment in _ENDEARMENTS and first in known:
        return first  # "Anne-girl", what Matthew calls Anne
    return given


_ENDEARMENTS = wordset("girl boy dear darling")


def _merge(
    names: list[str],
    mentions: Counter[str],
    tagged: Counter[str],
    pronouns: dict[str, Counter[str]],
    paragraphs: dict[str, set[int]],
) -> list[Character]:
    """Cluster name forms into people (see the module's description)."""
    full: list[str] = []
    titled: list[str] = []
    single: list[str] = []
    for form in names:
        title, words = _parse(form)
        if len(words) > 1:
            full.append(form)
        elif title:
            titled.append(form)
        else:
            single.append(form)
    people: dict[tuple[str, str, str], _Person] = {}
    givens = {_parse(f)[1][0] for f in full}
    # Full forms, longest and most mentioned first.
    for form in sorted(full, key=lambda f: (-len(f.split()), -mentions[f])):
        title, words = _parse(form)
        given, surname = _formal(words[0], givens), words[-1]
        tg = _title_gender(title) if title else ""
        fg = first_name_gender(given)
        # "Mrs. John Knightley" is John Knightley's wife, not John.
        gender = tg or fg
        sex = "female" if tg == "female" and fg == "male" else ""
        key = (surname, given, sex)
        p = people.get(key)
        if p is None:
            p = people[key] = _Person([], given, surname, gender)
        p.forms.append(form)
        if title:
            p.titles.add(title)
        p.gender = p.gender or gender

    def mention_count(p: _Person) -> int:
        return sum(mentions[f] for f in p.forms)

    # Title and surname: "Mr. Holmes", "Miss Bates".
    for form in sorted(titled, key=lambda f: -mentions[f]):
        title, words = _parse(form)
        surname, tg = words[0], _title_gender(title)
        called = [p for p in people.values() if p.given == surname and p.given]
        if len(called) == 1 and surname not in {q.surname for q in people.values()}:
            # "Miss Lucy", "Aunt Marilla": a title before a first name.
            target = called[0]
            if not (tg and target.gender and tg != target.gender):
                target.forms.append(form)
                continue
        fitting = [
            p for p in people.values() if p.surname == surname and p.given and title in p.titles
        ]
        if not fitting and title in ("miss", "mlle", "ms"):
            # "Miss Woodhouse" and Emma Woodhouse: an unmarried woman's title fits the only
            # woman of that surname who is never "Mrs.".
            fitting = [
                p
                for p in people.values()
                if p.surname == surname
                and p.given
                and p.gender == "female"
                and not any(t in ("mrs", "madame", "mme", "lady") for t in p.titles)
            ]
        if not fitting and tg == "male":
            # "Mr. Darcy" and "Fitzwilliam Darcy": a man's title fits the only man of that
            # surname whose titles (if any) are a man's.
            fitting = [
                p
                for p in people.values()
                if p.surname == surname
                and p.given
                and p.gender != "female"
                and all(_title_gender(t) == "male" for t in p.titles)
            ]
        if len(fitting) == 1 and not _two_people(form, fitting[0], mentions, paragraphs):
            fitting[0].forms.append(form)
            continue
        key = (surname, "", title if tg == "female" else tg or title)
        p = people.get(key)
        if p is None:
            p = people[key] = _Person([], "", surname, tg)
        p.forms.append(form)
        p.titles.add(title)
    # A single word: a first name, a nickname or a surname.
    by_surname: dict[str, list[_Person]] = defaultdict(list)
    by_given: dict[str, list[_Person]] = defaultdict(list)
    for (_, _, sex), p in people.items():
        by_surname[p.surname].append(p)
        if p.given and not sex:
            by_given[p.given].append(p)
    for form in sorted(single, key=lambda f: -mentions[f]):
        word = _key(form)
        formal = _formal(word, set(by_given))
        owners = _usual_owner(by_given.get(formal, []), mentions)
        # "Jane" is Jane Andrews, not a "Flora Jane": a common first name goes by first names.
        if len(owners) == 1 and (word not in by_surname or first_name_gender(formal)):
            owners[0].forms.append(form)
            continue
        same = by_surname.get(word, [])
        if same:
            men = [p for p in same if p.gender == "male"]
            target = max(men or same, key=mention_count)
            target.forms.append(form)
            continue
        # "the Colonel" in a book with one Colonel Campbell: the title alone is him.
        holders = [p for p in people.values() if word in p.titles and word in _RANKS]
        if len(holders) == 1:
            holders[0].forms.append(form)
            continue
        # "Grandmamma" beside "Grandmother": one person called by two forms of one title.
        kin = people.get((KIN_FORMS.get(word, word), "", ""))
        if kin is not None:
            kin.forms.append(form)
            continue
        people[(KIN_FORMS.get(word, word), "", "")] = _Person([form], "", word, "")

    out: list[Character] = []
    for p in people.values():
        group = p.forms
        count = sum(mentions[f] for f in group)
        n_tagged = sum(tagged[f] for f in group)
        votes: Counter[str] = Counter()
        for f in group:
            votes.update(pronouns.get(f, {}))
        known = bool(p.titles) or any(_title_gender(f) for f in group)
        # A person: named in a speech tag, given a title or a known first name, or often
        # followed by a personal pronoun. Places and institutions rarely are.
        often_he_or_she = sum(votes.values()) >= max(4, count // 2)
        if not (n_tagged or known or often_he_or_she) or (count < 2 and not n_tagged):
            continue
        # The person's name: the fullest form without a title that is used at least twice,
        # else the most frequent.
        plain = [f for f in group if not _title_of(_key(f)) and mentions[f] >= 2]
        if plain and len(max(plain, key=lambda f: len(f.split())).split()) > 1:
            name = max(plain, key=lambda f: (len(f.split()), mentions[f]))
        else:
            name = max(group, key=lambda f: (mentions[f] + tagged[f], len(f)))
        gender = p.gender
        if not gender:
            for f in group:
                gender = gender or _title_gender(f)
        if not gender:
            top = votes.most_common(2)
            if (
                top
                and (len(top) == 1 or top[0][1] >= _GENDER_MAJORITY * top[1][1])
                and top[0][1] >= 2
            ):
                gender = top[0][0]
        out.append(Character(name, set(group), count, gender, n_tagged))
    out.sort(key=lambda c: (-c.count, c.name))
    return out


# Ranks and offices a person is called by alone ("the Colonel"), unlike kin words or titles
# of courtesy ("Mother", "Sir"), which many may be called.
_RANKS = wordset(
    "colonel captain major general inspector professor sergeant lieutenant constable "
    "judge squire doctor dr reverend"
)
_FEMALE_SHARE = 0.25
# How many more of one gender's pronouns than the other's must follow a name to tell its gender
# (a pronoun just after a name is often someone else's).
_GENDER_MAJORITY = 1.5
_USUAL_OWNER = 3  # how many times more a first name's usual owner goes by it than the others


def _usual_owner(owners: list[_Person], mentions: Counter[str]) -> list[_Person]:
    """The people a first name alone may mean: of two or more with that first name ("Jane
    Fairfax", named so throughout, and a "Miss Jane Bates" met once), the one who goes by it
    far more often than the others, when there is one."""
    if len(owners) < 2:
        return owners

    def by_name(p: _Person) -> int:
        return sum(mentions[f] for f in p.forms if _parse(f)[1][:1] == [p.given])

    ranked = sorted(owners, key=by_name, reverse=True)
    top, second = by_name(ranked[0]), by_name(ranked[1])
    return [ranked[0]] if top >= _USUAL_OWNER * max(1, second) else owners


# Paragraphs two forms must share to be two people: a narrator who calls one man "Mr. Sikes"
# and "Bill Sikes" in a paragraph or two still means one.
_TOGETHER = 3


def _two_people(
    form: str, person: _Person, mentions: Counter[str], paragraphs: dict[str, set[int]]
) -> bool:
    """Is "Mr. Emerson" someone else than George Emerson? Yes when the two keep company in the
    same paragraphs (a father and son, two brothers): "Mr. Knightley" beside "Mr. John
    Knightley", or a man's first name alone beside the title form. (Women are called by their
    first name in narration and by title in speech, so for them only full forms count.)"""
    own = paragraphs.get(form, set())
    full = set().union(*(paragraphs.get(f, set()) for f in person.forms))
    together = len(own & full)
    male = _title_gender(form) == "male"
    share = 0.1 if male else _FEMALE_SHARE
    if together >= _TOGETHER and together >= share * min(len(own), len(full)):
        return True
    if not male:
        return False
    with_given = paragraphs.get(person.given.capitalize(), set())
    together = len(own & with_given)
    return together >= 3 and together >= 0.05 * len(own)


_FIRST_PERSON_TAG = re.compile(
    rf"[\u201d\"'\u2019]\s+(?:I\s+(?:{_VERB_ALT})|(?:{_VERB_ALT})\s+I)\b"
)
_VOCATIVE = re.compile(
    rf"(?:,\s+|^[\u201c\"'\u2018]|my\s+dear\s+|dear\s+)(?P<name>{NAME_RE.pattern})"
    r"(?=[,.!?;\u2014]|\s*[\u201d\"'\u2019])"
)
_FIRST_PERSON = re.compile(r"\b(?:I|me|my|myself)\b")


def first_person_share(blocks: list[str]) -> float:
    """First-person words per hundred words of narration (outside quotations)."""
    style = detect_style(blocks[:400])
    hits = words = 0
    for text in blocks:
        for seg in split_quotes(text, style):
            if not seg.dialogue:
                words += seg.text.count(" ") + 1
                hits += len(_FIRST_PERSON.findall(seg.text))
    return 100 * hits / words if words else 0.0


def _narrator(blocks: list[str], characters: list[Character]) -> str | None:
    """The first-person narrator, named by what the others call the narrator ("my dear Watson")
    in the paragraphs next to the narrator's own tagged speech. A book told in the third person
    (hardly an "I" in its narration) has none."""
    first_person = [i for i, t in enumerate(blocks) if _FIRST_PERSON_TAG.search(t)]
    if len(first_person) < 2 or first_person_share(blocks) < 1.0:
        return None
    index = CharacterList(characters=characters)
    votes: Counter[str] = Counter()
    for i in first_person:
        for j in (i - 1, i + 1):
            if 0 <= j < len(blocks) and not _FIRST_PERSON_TAG.search(blocks[j]):
                for m in _VOCATIVE.finditer(blocks[j]):
                    name = _clean(m.group("name"))
                    if not name or _key(name) in TITLES:
                        continue  # "Mlle", "Madame": a title is no name
                    c = index.resolve(name)
                    if c is not None:
                        votes[c.name] += 1
                    elif name and name.split()[-1].lower() not in _NOT_NAMES:
                        votes[name] += 1
    if not votes:
        return "Narrator"
    # The narrator's own speech is tagged "I said", seldom by name: someone named in many
    # tags is another speaker the narrator talks with.
    tags = {c.name: c.tagged for c in characters}
    return max(votes, key=lambda n: votes[n] / (1 + tags.get(n, 0)))
