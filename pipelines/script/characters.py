"""The book's characters: names found in the text, aliases merged, a gender guessed for each.

No language model: a name is a capitalised word (or run of them) that the book writes
capitalised in mid-sentence and seldom in lower case, or one that stands in a speech tag
("said Holmes"). Forms that share a surname and agree on first name and title are one person:
"Sherlock Holmes", "Mr. Holmes", "Holmes". Gender comes from titles (Mr., Mrs., Lady), then
from the pronouns that follow the name's mentions.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pipelines.script.dialogue import SPEECH_VERBS, wordset

MALE_TITLES = wordset(
    "mr mister sir lord dr doctor inspector colonel captain major general professor king "
    "count baron duke prince father uncle master reverend rev sergeant lieutenant constable "
    "mr. monsieur herr signor don emperor"
)
FEMALE_TITLES = wordset(
    "mrs miss ms lady madam madame mme mlle queen duchess princess countess baroness aunt "
    "mother sister dame mistress"
)
TITLES = MALE_TITLES | FEMALE_TITLES
_NAME_TOKEN = r"(?:St\.?\s+|Mc|Mac|O['\u2019])?[A-Z][a-z]+(?:['\u2019-][A-Z]?[a-z]+)*"
_TITLE_TOKEN = r"(?:Mr|Mrs|Ms|Dr|St|Messrs)\.?|" + "|".join(
    sorted({t.capitalize() for t in TITLES if "." not in t and len(t) > 2}, key=len, reverse=True)
)
NAME_RE = re.compile(rf"(?:(?:{_TITLE_TOKEN})\s+)?{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,2}}")
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
    "stave english french german american london street square road lane house hall park"
)
_SENTENCE_END = re.compile(r"(?:^|[.!?:;\u201c\u201d\u2018\"(\u2014]\s*|\n)$")
_PRONOUN_AFTER = re.compile(r"\b(he|his|him|himself|she|her|hers|herself)\b", re.IGNORECASE)
_MALE_NAMES = wordset(
    "john james william george charles thomas henry edward robert richard arthur joseph "
    "frederick albert alfred walter harry jack peter paul david michael samuel francis "
    "sherlock mycroft jabez vincent hosmer james ebenezer bob tim fred jacob hatter"
)
_FEMALE_NAMES = wordset(
    "mary alice elizabeth jane anne anna ann margaret sarah emily helen catherine kate irene "
    "violet julia helen hatty hattie martha susan lucy ellen emma charlotte belle fanny dinah"
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
    _index: dict[str, Character] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._index = {}
        ordered = sorted(self.characters, key=lambda c: c.count)
        # Surnames and untitled forms first, the forms actually seen last so that they win;
        # within each, the most-mentioned last, so an ambiguous short form goes to the main
        # character.
        for c in ordered:
            for alias in c.aliases | {c.name}:
                words = _strip_title(_key(alias)).split()
                if len(words) > 1 and _key(alias).split()[0] not in TITLES:
                    self._index[words[0]] = c  # "Sherlock", "Mary"
        for c in ordered:
            for alias in c.aliases | {c.name}:
                bare = _strip_title(_key(alias))
                self._index[bare] = c
                self._index[bare.split()[-1]] = c
        for c in ordered:
            for alias in c.aliases | {c.name}:
                self._index[_key(alias)] = c

    def resolve(self, name: str) -> Character | None:
        key = _key(name)
        found = self._index.get(key)
        if found is None:
            # "Mr. Jabez Wilson" when only "Jabez Wilson" was seen; "Sherlock" alone.
            bare = _strip_title(key)
            found = self._index.get(bare)
            if found is None and bare:
                parts = bare.split()
                found = self._index.get(parts[-1]) or self._index.get(parts[0])
        return found

    def canonical(self, name: str) -> str:
        c = self.resolve(name)
        return c.name if c else name

    def gender(self, name: str | None) -> str:
        if not name:
            return ""
        c = self.resolve(name)
        return c.gender if c else _title_gender(name)

    def names(self) -> list[str]:
        return [c.name for c in self.characters]

    def to_dicts(self) -> list[dict[str, object]]:
        return [c.to_dict() for c in self.characters]


def _key(name: str) -> str:
    name = name.replace("\u2019", "'").replace(".", "")
    return " ".join(w for w in name.lower().split() if w != "the")


def _strip_title(key: str) -> str:
    words = key.split()
    while len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    return " ".join(words)


def _title_gender(name: str) -> str:
    first = _key(name).split()[:1]
    if not first:
        return ""
    if first[0] in FEMALE_TITLES:
        return "female"
    if first[0] in MALE_TITLES:
        return "male"
    if first[0] in _FEMALE_NAMES:
        return "female"
    if first[0] in _MALE_NAMES:
        return "male"
    return ""


_TAG_AFTER = re.compile(
    rf"[,!?\u2014]\s*[\u201d\"'\u2019]\s+(?:{'|'.join(sorted(SPEECH_VERBS))})\s+"
    rf"(?P<name>(?:the\s+)?{NAME_RE.pattern})"
)
_TAG_BEFORE = re.compile(
    rf"[\u201d\"'\u2019]\s+(?P<name>(?:the\s+)?{NAME_RE.pattern})\s+"
    rf"(?:{'|'.join(sorted(SPEECH_VERBS))})\b"
)


def find_characters(texts: Iterable[str]) -> CharacterList:
    """The characters of a book (or chapter) from its blocks' written text."""
    blocks = list(texts)
    mentions: Counter[str] = Counter()
    mid_sentence: Counter[str] = Counter()
    tagged: Counter[str] = Counter()
    lower_words: Counter[str] = Counter()
    pronouns: dict[str, Counter[str]] = defaultdict(Counter)
    for text in blocks:
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
            if not _SENTENCE_END.search(text[max(0, m.start() - 3) : m.start()]):
                mid_sentence[form] += 1
            p = _PRONOUN_AFTER.search(text, m.end(), min(len(text), m.end() + 80))
            if p:
                pronouns[form][
                    "female" if p.group(1).lower().startswith(("she", "her")) else "male"
                ] += 1

    def is_name(form: str) -> bool:
        words = form.split()
        if words[0].rstrip(".").lower() in TITLES and len(words) > 1:
            return True
        if tagged[form] >= 1 and words[-1].lower() not in _NOT_NAMES:
            return True
        last = words[-1].lower()
        if last in _NOT_NAMES or any(w.lower() in _NOT_NAMES for w in words):
            return False
        # A proper noun: written capitalised mid-sentence, and hardly ever in lower case.
        return mid_sentence[form] >= 2 and lower_words[last] * 5 < mentions[form]

    names = [f for f in set(mentions) | set(tagged) if is_name(f)]
    characters = _merge(names, mentions, tagged, pronouns)
    return CharacterList(characters=characters, narrator=_narrator(blocks, characters))


def _clean(form: str) -> str:
    words = form.replace("\u2019", "'").split()
    if words and words[0].lower() == "the":
        words = words[1:]
    # "Sherlock Holmes's" -> the possessive is not part of the name.
    if words and words[-1].endswith("'s"):
        words[-1] = words[-1][:-2]
    while words and words[-1].lower() in _NOT_NAMES:
        words.pop()
    while words and words[0].lower() in _NOT_NAMES - TITLES:
        words = words[1:]
    return " ".join(words)


def _merge(
    names: list[str],
    mentions: Counter[str],
    tagged: Counter[str],
    pronouns: dict[str, Counter[str]],
) -> list[Character]:
    """Group name forms into people by surname, keeping apart forms that disagree."""
    by_surname: dict[str, list[str]] = defaultdict(list)
    for form in names:
        by_surname[_strip_title(_key(form)).split()[-1]].append(form)
    people: list[Character] = []
    for forms in by_surname.values():
        groups: list[list[str]] = []
        # Longest forms first: each one founds a person or joins the one it agrees with.
        for form in sorted(forms, key=lambda f: (-len(f.split()), -mentions[f])):
            for group in groups:
                if _compatible(form, group[0]):
                    group.append(form)
                    break
            else:
                groups.append([form])
        for group in groups:
            count = sum(mentions[f] for f in group)
            n_tagged = sum(tagged[f] for f in group)
            titled = any(_title_gender(f) for f in group)
            votes: Counter[str] = Counter()
            for f in group:
                votes.update(pronouns.get(f, {}))
            # A person: named in a speech tag, given a title or a known first name, or often
            # followed by a personal pronoun. Places and institutions rarely are.
            often_he_or_she = sum(votes.values()) >= max(4, count // 2)
            if not (n_tagged or titled or often_he_or_she) or (count < 2 and not n_tagged):
                continue
            # The person's name: the fullest form without a title that is used at least twice,
            # else the most frequent.
            plain = [f for f in group if _strip_title(_key(f)) == _key(f) and mentions[f] >= 2]
            name = max(plain, key=lambda f: (len(f.split()), mentions[f])) if plain else group[0]
            gender = ""
            for f in group:
                gender = gender or _title_gender(f)
            if not gender:
                top = votes.most_common(2)
                if top and (len(top) == 1 or top[0][1] >= 2 * top[1][1]) and top[0][1] >= 2:
                    gender = top[0][0]
            people.append(
                Character(
                    name=name,
                    aliases=set(group),
                    count=count,
                    gender=gender,
                    tagged=n_tagged,
                )
            )
    return _merge_first_names(people)


def _merge_first_names(people: list[Character]) -> list[Character]:
    """ "Bob" joins "Bob Cratchit" when exactly one person has that first name."""
    by_first: dict[str, list[Character]] = defaultdict(list)
    for c in people:
        words = _strip_title(_key(c.name)).split()
        if len(words) > 1:
            by_first[words[0]].append(c)
    out: list[Character] = []
    for c in people:
        words = _key(c.name).split()
        owners = by_first.get(words[0], []) if len(words) == 1 else []
        if len(owners) == 1 and owners[0] is not c:
            owner = owners[0]
            owner.aliases |= c.aliases
            owner.count += c.count
            owner.tagged += c.tagged
            owner.gender = owner.gender or c.gender
            continue
        out.append(c)
    out.sort(key=lambda c: (-c.count, c.name))
    return out


def _compatible(form: str, founder: str) -> bool:
    """Can `form` be the same person as `founder` (a longer or equal form, same surname)?"""
    a, b = _key(form).split(), _key(founder).split()
    ta = a[0] if a[0] in TITLES and len(a) > 1 else ""
    tb = b[0] if b[0] in TITLES and len(b) > 1 else ""
    if ta and tb and (ta != tb and {ta, tb} <= FEMALE_TITLES):
        return False  # Miss Rucastle and Mrs. Rucastle
    ga, gb = _title_gender(form), _title_gender(founder)
    if ga and gb and ga != gb:
        return False  # Mr. Hudson and Mrs. Hudson; Bob Cratchit and Mrs. Cratchit
    na, nb = _strip_title(" ".join(a)).split(), _strip_title(" ".join(b)).split()
    # John Turner and Alice Turner are two people.
    return not (len(na) > 1 and len(nb) > 1 and na[0] != nb[0])


_FIRST_PERSON_TAG = re.compile(
    rf"[\u201d\"'\u2019]\s+(?:I\s+(?:{'|'.join(sorted(SPEECH_VERBS))})|"
    rf"(?:{'|'.join(sorted(SPEECH_VERBS))})\s+I)\b"
)
_VOCATIVE = re.compile(
    rf"(?:,\s+|^[\u201c\"'\u2018]|my\s+dear\s+|dear\s+)(?P<name>{NAME_RE.pattern})"
    r"(?=[,.!?;\u2014]|\s*[\u201d\"'\u2019])"
)


def _narrator(blocks: list[str], characters: list[Character]) -> str | None:
    """The first-person narrator, named by what the others call the narrator ("my dear Watson")
    in the paragraphs next to the narrator's own tagged speech."""
    first_person = [i for i, t in enumerate(blocks) if _FIRST_PERSON_TAG.search(t)]
    if len(first_person) < 2:
        return None
    index = CharacterList(characters=characters)
    votes: Counter[str] = Counter()
    for i in first_person:
        for j in (i - 1, i + 1):
            if 0 <= j < len(blocks) and not _FIRST_PERSON_TAG.search(blocks[j]):
                for m in _VOCATIVE.finditer(blocks[j]):
                    name = _clean(m.group("name"))
                    c = index.resolve(name)
                    if c is not None:
                        votes[c.name] += 1
                    elif name and name.split()[-1].lower() not in _NOT_NAMES:
                        votes[name] += 1
    if votes:
        return votes.most_common(1)[0][0]
    return "Narrator"
