"""Who speaks each quotation of a chapter, with how sure the guess is.

Sieves, strongest evidence first, each recording its method and a confidence:
1. a speech tag next to the quotation, in any order and either side: "said Holmes", "Holmes
   said", "cried the sleepy Noah", "said he", "I observed", "was Mrs. Weston's parting
   question", "Matthew took his courage in both hands and replied:" (method "tag");
2. a quotation that carries on from the paragraph before (its opening mark repeated) keeps that
   paragraph's speaker ("continues");
3. a pronoun tag: the latest person of that gender the narration names, else the other party of
   the exchange, never someone the quotation speaks to ("pronoun"); a description ("said the
   old lady", "rejoined the other") likewise by its noun's gender ("descriptor");
4. a paragraph whose narration names someone just before the quotation: "Holmes chuckled. “…”"
   ("subject");
5. the scene decided as a whole (`pipelines.script.conversation`): the tags fixed, the guesses
   above weighed with turn-taking (two people alternate, a reply goes to whom the last turn
   addressed), vocatives (nobody speaks to themselves by name), the narration's mentions and
   the speakers carried over from before the scene ("turn");
6. last of all, the person the narration named most recently ("mention").
A first-person narrator speaks the "I said" tags. The author's corrections, keyed by the
quotation's text and its neighbourhood, win over all of it and anchor the scene around them.
Confidences are measured accuracies (see `_CALIBRATION`): LOW_CONFIDENCE picks out the
quotations that are wrong far more often than the rest.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.core.model import BlockKind, Chapter
from pipelines.script.characters import NAME_RE, TITLES, CharacterList, find_characters
from pipelines.script.conversation import TurnEvidence, decide_scene
from pipelines.script.dialogue import SPEECH_VERBS, QuoteStyle, detect_style, split_quotes, wordset

CONF_CORRECTED = 1.0
CONF_NAMED_TAG = 0.95
CONF_CONTINUES = 0.9
CONF_PRONOUN_TAG = 0.8
CONF_SUBJECT = 0.65
CONF_DESCRIPTOR = 0.6
CONF_MENTION = 0.3
# Below this a quotation is worth the author's look: on the PDNC development novels those
# below are right about half the time, those above more than nine times in ten.
LOW_CONFIDENCE = 0.7

_VERBS = "|".join(sorted(SPEECH_VERBS, key=len, reverse=True))
_PRONOUN = r"[Hh]e|[Ss]he|I|[Ww]e|[Tt]hey"
_DESCRIPTOR = r"(?:the|my|our|his|her|their|a|an)\s+(?:[a-z\-]+\s+){0,2}[a-z\-]+"
_SUBJECT = (
    rf"(?P<pron>(?:{_PRONOUN})\b)"
    # "the sleepy Noah", "the now mollified General": a name after a few words of description
    rf"|(?P<name>(?:(?:the|a|an)\s+(?:[a-z\-]+\s+){{0,3}})?{NAME_RE.pattern})"
    rf"|(?P<desc>{_DESCRIPTOR})"
)
_ADVERB = r"(?:[a-z]+ly\s+)?"
# Tag at the start of the narration after a quotation: "said Holmes", "he answered".
_TAG_AFTER_VS = re.compile(rf"^\W*{_ADVERB}(?:{_VERBS})\s+{_ADVERB}(?:{_SUBJECT})\b")
_TAG_AFTER_SV = re.compile(rf"^\W*(?:{_SUBJECT})\s+{_ADVERB}(?:{_VERBS})\b")
# Tag at the end of the narration before a quotation: "Holmes said, “…”", "said he: “…”".
_TAG_BEFORE_SV = re.compile(
    rf"(?:^|[.!?;]\s+|\s)(?:{_SUBJECT})\s+{_ADVERB}(?:{_VERBS})\s*[,:]?\W*$"
)
_TAG_BEFORE_VS = re.compile(rf"(?:^|\s)(?:{_VERBS})\s+(?:{_SUBJECT})\s*[,:]?\W*$")
# "was Mrs. Weston's parting question", "was his short, full answer".
_TAG_WAS_ANSWER = re.compile(
    rf"^\W*(?:was|came)\s+(?:(?P<pron>his|her)|(?P<name>{NAME_RE.pattern})['\u2019]s?"
    r"|(?P<desc>(?!x)x))\s+"
    r"(?:[a-z\-]+,?\s+){0,3}(?:answer|reply|rejoinder|question|comment|remark|observation|"
    r"response|retort|exclamation|cry|greeting|amendment|suggestion|advice|reflection|"
    r"verdict|conclusion|protest|objection|explanation|answers|words|thought)\b"
)
# "Matthew took his courage in both hands and replied:": the sentence's subject is the one
# speaking when it ends in a speech verb ("to Anne" allowed) and a colon or comma.
_TAG_BEFORE_SUBJECT = re.compile(
    rf"(?:^|[.!?;]\s+)(?:(?P<pron>(?:{_PRONOUN})\b)|(?P<name>{NAME_RE.pattern})|(?P<desc>(?!x)x))"
    rf"(?:(?:(?![.!?;]).)*?\s)?(?:{_VERBS})(?:\s+to\s+(?:\w+\s+){{0,2}}?\w+)?\s*[,:]\W*$"
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"'\u2018])")
_SUBJECT_AT_START = re.compile(
    rf"^\W*(?:(?P<pron>(?:{_PRONOUN})\b)|(?P<name>(?:the\s+)?{NAME_RE.pattern}))"
)
_VOCATIVE = re.compile(
    rf"(?:,\s+|^\W|my\s+dear\s+|dear\s+)(?P<name>{NAME_RE.pattern})(?=\s*[,.!?;\u2014\u201d\"'\u2019])"
)
_NOT_SUBJECT_NAMES = wordset(
    "yes no oh ah well then now but and so there here what why his her its their it"
)


@dataclass(slots=True)
class Quotation:
    """One quotation of a chapter, where it sits, and who is taken to speak it."""

    block_index: int
    segment_index: int  # its place in `split_quotes(block.text)`
    text: str  # as written, marks included
    before: str  # the paragraph's narration just before it (since the previous quotation)
    after: str  # the narration just after it (up to the next quotation)
    closed: bool
    key: str = ""
    continues: bool = False  # carries on a quotation left open by the paragraph before
    speaker: str | None = None
    confidence: float = 0.0
    method: str = "unknown"  # corrected, tag, continues, subject, turn, addressee, unknown
    tagged: bool = False  # an explicit speech tag names (or points to) the speaker
    addressed: list[str] = field(default_factory=list)  # names it speaks to

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "block": self.block_index,
            "text": self.text,
            "speaker": self.speaker,
            "confidence": round(self.confidence, 2),
            "method": self.method,
        }


def quotation_key(text: str, before: str, after: str, previous_block: str) -> str:
    """A stable identity for a quotation: its words and a little of what surrounds it, so that
    a re-import of the same text finds the same key while the same words elsewhere do not."""
    parts = [_fold(text), _fold(before)[-40:], _fold(after)[:40], _fold(previous_block)[-40:]]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.translate({0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'"})
    return " ".join(text.lower().split())


def chapter_quotations(chapter: Chapter, style: QuoteStyle | None = None) -> list[Quotation]:
    """Every quotation in the chapter's paragraphs, in reading order, not yet attributed."""
    blocks = chapter.blocks
    if style is None:
        style = detect_style(b.text for b in blocks)
    out: list[Quotation] = []
    previous_text = ""
    open_at_end = False
    for bi, block in enumerate(blocks):
        if block.kind not in (BlockKind.PARAGRAPH, BlockKind.QUOTE, BlockKind.VERSE):
            open_at_end = False
            continue
        segments = split_quotes(block.text, style)
        quotes = [(si, s) for si, s in enumerate(segments) if s.dialogue]
        for n, (si, seg) in enumerate(quotes):
            before = segments[si - 1].text if si and not segments[si - 1].dialogue else ""
            after = (
                segments[si + 1].text
                if si + 1 < len(segments) and not segments[si + 1].dialogue
                else ""
            )
            q = Quotation(bi, si, seg.text, before, after, seg.closed)
            q.key = quotation_key(seg.text, before, after, previous_text)
            q.continues = n == 0 and si == 0 and open_at_end
            q.addressed = [m.group("name") for m in _VOCATIVE.finditer(seg.text)]
            out.append(q)
        if block.text.strip():
            open_at_end = (
                bool(quotes) and not quotes[-1][1].closed and quotes[-1][0] == (len(segments) - 1)
            )
            previous_text = block.text
    return out


@dataclass(slots=True)
class _Turn:
    """The quotations of one paragraph (or of a speech running over several)."""

    quotes: list[Quotation]
    block_index: int
    narration_before: str  # the paragraph's narration before its first quotation

    @property
    def speaker(self) -> str | None:
        return next((q.speaker for q in self.quotes if q.speaker), None)


def attribute(
    chapter: Chapter,
    characters: CharacterList | None = None,
    corrections: Mapping[str, str] | None = None,
    style: QuoteStyle | None = None,
) -> list[Quotation]:
    """The chapter's quotations, each with a speaker (None when nothing tells) and a confidence."""
    if characters is None:
        characters = find_characters(b.text for b in chapter.blocks)
    quotes = chapter_quotations(chapter, style)
    turns = _turns(chapter, quotes)
    resolver = _Resolver(characters)
    corrections = corrections or {}
    history: list[str] = []  # speakers of the recent turns, latest last
    last_block = -1
    previous_after = ""
    names: dict[str, str] = {}  # newcomer placeholder -> the name a tag gave them later
    seen: set[str] = set()  # everyone who has spoken so far in the chapter
    prev_addressed: list[str] = []  # whom the last turn spoke to
    scenes: list[list[tuple[_Turn, str, int]]] = [[]]  # turn, narration before it, its words
    carried: list[list[str]] = [[]]  # who talked last as each scene begins
    for turn in turns:
        if _breaks_scene(chapter, last_block, turn.block_index):
            pair = _last_two(history)
            heading = last_block < 0 or any(
                b.kind in (BlockKind.HEADING, BlockKind.SCENE_BREAK)
                for b in chapter.blocks[last_block + 1 : turn.block_index]
            )
            scenes.append([])
            carried.append(list(pair) if pair and not heading else history[-1:])
            history = []
        gap = [
            b.text
            for b in chapter.blocks[max(last_block + 1, 0) : turn.block_index]
            if b.kind is not BlockKind.HEADING
        ]
        scenes[-1].append((turn, " ".join(gap[-2:]), sum(len(t.split()) for t in gap)))
        # The narration since the last quotation: what a pronoun in a tag can point back to.
        between = [
            b.text
            for b in chapter.blocks[max(last_block + 1, turn.block_index - 3) : turn.block_index]
            if b.kind is not BlockKind.HEADING
        ]
        context = " ".join([previous_after, *between, turn.narration_before]).strip()
        last_block = max(q.block_index for q in turn.quotes)
        previous_after = _untagged(turn.quotes[-1].after)
        _attribute_turn(turn, resolver, history, corrections, context, prev_addressed)
        prev_addressed = [
            c.name for a in turn.quotes[-1].addressed if (c := characters.resolve(a)) is not None
        ]
        speaker = turn.speaker
        if speaker:
            _name_newcomer(turn, speaker, history, seen, resolver, names)
            history.append(names.get(speaker, speaker))
            seen.add(speaker)
    for q in quotes:
        if q.speaker and q.speaker.startswith(PLACEHOLDER):
            q.speaker = names.get(q.speaker, q.speaker)
    regulars = [
        name
        for name, _ in Counter(
            q.speaker for q in quotes if q.speaker and q.method == "tag" and q.confidence > 0.9
        ).most_common(3)
    ]
    for scene, before in zip(scenes, carried, strict=True):
        _decide(scene, before, resolver, regulars)
    _fill_from_mentions(chapter, turns, quotes, resolver)
    for q in quotes:
        if q.speaker and q.speaker.startswith(PLACEHOLDER):
            # Never named: somebody, but nobody the cast knows.
            q.speaker, q.confidence, q.method = None, 0.0, "unknown"
        if q.speaker:
            q.speaker = characters.canonical(q.speaker)
    return quotes


_PRONOUN_REACH = 3  # sentences of narration a "he" looks back before the exchange's people
_STRONG = ("corrected", "tag", "continues")  # methods whose speaker the scene takes as given


# Measured accuracy (PDNC development novels, bench/attribution_bench.py --pdnc) of a decided
# turn by how its speaker was found and by its margin over the next best person (0, 1, 2 ...
# points, the last entry for any more); the last value of each row: the scene's only person.
_CALIBRATION: dict[str, tuple[tuple[float, ...], float]] = {
    "turn": ((0.43, 0.64, 0.72, 0.8, 0.85, 0.9), 0.68),
    "pronoun": ((0.64, 0.7, 0.71, 0.82, 0.9, 0.93), 0.8),
    "descriptor": ((0.3, 0.35, 0.5, 0.6, 0.65, 0.8, 0.9), 0.85),
    "subject": ((0.65, 0.65, 0.7, 0.7, 0.8, 0.85), 0.7),
    "continues": ((0.7, 0.75, 0.8, 0.85, 0.9), 0.85),
    "tag": ((0.7, 0.75, 0.8, 0.85, 0.9), 0.8),
}


def _calibrated(method: str, margin: float, alone: bool) -> float:
    steps, only = _CALIBRATION.get(method, _CALIBRATION["turn"])
    if alone:
        return only
    return steps[min(len(steps) - 1, max(0, int(margin)))]


_SIR = re.compile(
    r"(?:^\W*|[,!?;]\s*|\b(?:my|dear)\s+)(?:(?P<m>sir|papa|father|uncle|brother|my\s+lord|"
    r"my\s+boy|my\s+man|young\s+man|old\s+man)|(?P<f>ma'am|madam|mamma|mama|mother|aunt|"
    r"my\s+lady|my\s+girl|my\s+dear\s+girl|ma\u2019am))\b(?=\s*[,.!?;\u2014\u201d\"'])",
    re.IGNORECASE,
)


def _addressee_gender(quotes: Sequence[Quotation]) -> str:
    """ "Yes, sir", "Oh, mamma!": the gender of the one the quotations speak to."""
    found = {"male" if m.group("m") else "female" for q in quotes for m in _SIR.finditer(q.text)}
    return found.pop() if len(found) == 1 else ""


def _tag_gender(quotes: Sequence[Quotation]) -> str:
    """The gender a pronoun or a gendered description in the quotations' tags gives their
    speaker."""
    for q in quotes:
        m = _find_tag(q, "")
        if m is None:
            continue
        if m.group("pron"):
            pron = _SUBJECT_FORM.get(m.group("pron").lower(), m.group("pron").lower())
            if pron in ("he", "she"):
                return "male" if pron == "he" else "female"
        elif m.group("desc"):
            g = _NOUN_GENDER.get(m.group("desc").lower().split()[-1], "")
            if g:
                return g
    return ""


def _decide(
    scene: Sequence[tuple[_Turn, str, int]],
    carried: Sequence[str],
    resolver: _Resolver,
    regulars: Sequence[str],
) -> None:
    """Settle the scene's speakers together (see `pipelines.script.conversation`)."""
    if not scene:
        return
    canonical = resolver.characters.canonical
    evidence: list[TurnEvidence] = []
    teller = resolver.characters.narrator

    def in_story(name: str) -> bool:
        """ "I" in narration names the narrator only in a book told in the first person."""
        return name != resolver.narrator or name == teller

    for turn, before, gap in scene:
        first = turn.quotes[0]
        e = TurnEvidence(gap_words=gap)
        sp = turn.speaker
        if sp:
            method = next(q.method for q in turn.quotes if q.speaker)
            conf = max(q.confidence for q in turn.quotes if q.speaker)
            if method in _STRONG and conf >= CONF_CONTINUES - 0.01:
                e.fixed = sp
            else:
                e.guess, e.guess_confidence = sp, conf
        # A speech running over several paragraphs is judged by its first one: what follows
        # may retell a conversation ("‘Why that?’ I asks") with its own tags and names.
        opening = [q for q in turn.quotes if q.block_index == first.block_index]
        e.addressed = {canonical(n) for q in opening for n in _spoken_to(q)}
        e.gender = _tag_gender(opening)
        e.addressee_gender = _addressee_gender(opening)
        e.third_person = any(
            (m := _find_tag(q, "")) is not None
            and (
                m.group("desc")
                or (m.group("pron") or "").lower() in ("he", "she", "they", "his", "her")
            )
            for q in opening
        )
        own = " ".join([first.before, *(q.after for q in opening)])
        e.own_mentions = [n for n in resolver.mentions(own) if in_story(n)]
        e.before_mentions = [n for n in resolver.mentions(before) if in_story(n)]
        evidence.append(e)
    people = {n for e in evidence for n in (e.fixed, e.guess, *e.own_mentions, *e.before_mentions)}
    genders = {n: resolver.gender(n) for n in people | set(carried) | set(regulars) if n}
    decided = decide_scene(
        evidence, [canonical(c) for c in carried], resolver.characters.narrator, genders, regulars
    )
    for (turn, _, _), e, d in zip(scene, evidence, decided, strict=True):
        if e.fixed or d.speaker is None:
            continue
        g = resolver.gender(d.speaker)
        if e.gender and g and g != e.gender:
            continue  # "she said" and no woman in the scene: the sieves' guess, or later
        if e.third_person and d.speaker == resolver.characters.narrator:
            continue  # "he said" is never the one telling the story
        method = "turn"
        if d.speaker == e.guess:
            method = next(q.method for q in turn.quotes if q.speaker)
        conf = _calibrated(method, d.margin, d.alone)
        for q in turn.quotes:
            q.speaker, q.confidence, q.method = d.speaker, conf, method


_MENTION_WINDOW = 12  # paragraphs back in which a recent mention may be the speaker


def _last_two(history: Sequence[str]) -> tuple[str, str] | None:
    """The last two people to speak, the latest first."""
    if not history:
        return None
    last = history[-1]
    for name in reversed(history):
        if name != last:
            return (last, name)
    return None


def _fill_from_mentions(
    chapter: Chapter, turns: Sequence[_Turn], quotes: Sequence[Quotation], resolver: _Resolver
) -> None:
    """The last resort for a quotation nothing else placed: the person the narration named
    most recently (a pronoun tag: of that gender), not the one it speaks to, nor (in a running
    exchange) the speaker just before."""
    narration: dict[int, str] = {}
    for bi, block in enumerate(chapter.blocks):
        narration[bi] = block.text
    for q in quotes:
        narration[q.block_index] = narration[q.block_index].replace(q.text, " \u2026 ")
    said: dict[int, str] = {}  # block -> who speaks in it
    for q in quotes:
        if q.speaker and not q.speaker.startswith(PLACEHOLDER):
            said.setdefault(q.block_index, q.speaker)
    for i, turn in enumerate(turns):
        if turn.speaker is not None:
            continue
        gender = ""
        for q in turn.quotes:
            m = _find_tag(q, "")
            if m is not None and m.group("pron"):
                pron = m.group("pron").lower()
                gender = "female" if pron == "she" else "male" if pron == "he" else ""
            elif m is not None and m.group("desc"):
                gender = _NOUN_GENDER.get(m.group("desc").lower().split()[-1], "")
        exclude = {resolver.characters.canonical(n) for q in turn.quotes for n in _spoken_to(q)}
        if i and turns[i - 1].speaker and turn.block_index - turns[i - 1].block_index <= 1:
            exclude.add(resolver.characters.canonical(turns[i - 1].speaker or ""))
        found = None
        first = turn.quotes[0].block_index
        for bi in range(first, max(-1, first - _MENTION_WINDOW), -1):
            spoke = [s for s in (said.get(bi),) if s and bi != first]
            for name in [*reversed(resolver.mentions(narration.get(bi, ""))), *spoke]:
                g = resolver.gender(name)
                if name == resolver.narrator and resolver.characters.narrator is None:
                    continue
                if resolver.characters.canonical(name) in exclude or (gender and g and g != gender):
                    continue
                found = name
                break
            if found:
                break
        if found is not None:
            for q in turn.quotes:
                q.speaker, q.confidence, q.method = found, CONF_MENTION, "mention"


def _name_newcomer(
    turn: _Turn,
    speaker: str,
    history: list[str],
    seen: set[str],
    resolver: _Resolver,
    names: dict[str, str],
) -> None:
    """A newcomer is the first new name a speech tag gives while the newcomer is in the
    exchange: "returned the King" after twenty turns of "our visitor"."""
    if speaker.startswith(PLACEHOLDER) or speaker == resolver.narrator or speaker in seen:
        return
    if not any(q.tagged and q.method == "tag" for q in turn.quotes):
        return
    recent = history[-6:]
    waiting = [p for p in recent if p.startswith(PLACEHOLDER) and p not in names]
    if not waiting:
        return
    placeholder = waiting[-1]
    names[placeholder] = speaker
    history[:] = [speaker if h == placeholder else h for h in history]


def _turns(chapter: Chapter, quotes: list[Quotation]) -> list[_Turn]:
    turns: list[_Turn] = []
    for q in quotes:
        if turns and (q.continues or turns[-1].quotes[-1].block_index == q.block_index):
            turns[-1].quotes.append(q)
            continue
        first_seg_before = q.before if q.segment_index <= 1 else ""
        turns.append(_Turn([q], q.block_index, first_seg_before))
    return turns


# Narration longer than this between two quotations ends the scene: whom a pronoun may mean
# starts afresh, and the next scene is decided on its own (carrying over who talked last).
_SCENE_WORDS = 150


def _breaks_scene(chapter: Chapter, last_block: int, block_index: int) -> bool:
    """A heading, a scene break or a long stretch of narration ends a scene."""
    if last_block < 0:
        return True
    words = 0
    for b in chapter.blocks[last_block + 1 : block_index]:
        if b.kind in (BlockKind.HEADING, BlockKind.SCENE_BREAK):
            return True
        words += len(b.text.split())
    return words > _SCENE_WORDS


_NEWCOMER = re.compile(
    r"\b(?:[Aa]n?|[Oo]ur|[Tt]he)\s+(?:[a-z\-]+\s+){0,3}?(?P<who>man|woman|gentleman|lady|girl|boy|"
    r"fellow|stranger|visitor|client|youth|person)\b"
)
_FEMALE_NOUNS = frozenset({"woman", "lady", "girl"})
# Nouns of a descriptive speech tag that tell the speaker's gender.
_MALE_NOUNS = wordset(
    "man gentleman boy fellow youth lad husband father brother son uncle master sir lord king "
    "gentlemen grandfather nephew bachelor"
)
_FEMALE_NOUN_WORDS = wordset(
    "woman lady girl wife mother sister daughter aunt mistress matron maid widow queen niece "
    "grandmother miss dame governess housekeeper"
)
_NOUN_GENDER = {
    **dict.fromkeys(_MALE_NOUNS, "male"),
    **dict.fromkeys(_FEMALE_NOUN_WORDS, "female"),
}
PLACEHOLDER = "?"  # prefix of a speaker known only by description, until a name turns up


_SUBJECT_FORM = {"his": "he", "her": "she"}


def _unpossessive(name: str) -> str:
    return re.sub(r"['\u2019]s$", "", name)


class _Resolver:
    def __init__(self, characters: CharacterList) -> None:
        self.characters = characters
        self.narrator = characters.narrator or "Narrator"
        self.newcomers: dict[str, str] = {}  # placeholder -> gender

    def gender(self, name: str) -> str:
        if name.startswith(PLACEHOLDER):
            return self.newcomers.get(name, "")
        return self.characters.gender(name)

    def newcomer(self, context: str, gender: str) -> str | None:
        """A person the narration brings in by description after naming anyone else:
        "A man entered who could hardly have been less than six feet six"."""
        intro = None
        for m in _NEWCOMER.finditer(context):
            intro = m
        if intro is None or (
            intro.group().split()[0].lower() != "a"
            and intro.group("who") not in ("stranger", "visitor", "client")
        ):
            return None
        if any(
            m.start() > intro.start()
            for m in re.finditer(rf"{NAME_RE.pattern}", context)
            if self.characters.resolve(m.group())
        ):
            return None
        g = "female" if intro.group("who") in _FEMALE_NOUNS else "male"
        if gender and g != gender:
            return None
        for name, known in self.newcomers.items():
            if known == g and name.endswith(intro.group("who")):
                return name  # the same description again: the same person
        name = f"{PLACEHOLDER}{len(self.newcomers)} {intro.group('who')}"
        self.newcomers[name] = g
        return name

    def name(self, raw: str) -> str | None:
        words = raw.split()
        if words and words[0].lower() in ("the", "a", "an"):
            words = words[1:]
        while len(words) > 1 and words[0].islower():
            words = words[1:]  # "sleepy Noah"
        if not words or words[0].lower() in _NOT_SUBJECT_NAMES:
            return None
        name = " ".join(words)
        c = self.characters.resolve(name)
        if c is not None:
            return c.name
        # Not a known character: believe it only with a title ("Inspector Gregson").
        name = _unpossessive(name)
        return name if words[0].rstrip(".").lower() in TITLES and len(words) > 1 else None

    def mentions(self, text: str) -> list[str]:
        """Characters named in narration, in order (the first-person narrator as "I")."""
        out: list[str] = []
        for m in re.finditer(rf"{NAME_RE.pattern}|\bI\b", text):
            if m.group() == "I":
                out.append(self.narrator)
                continue
            c = self.characters.resolve(m.group())
            if c is not None:
                out.append(c.name)
            elif m.group().split()[0].rstrip(".").lower() in TITLES and " " in m.group():
                out.append(_unpossessive(m.group()))  # "Mr. Jabez Wilson", met the first time
        return out

    def pronoun(
        self,
        pron: str,
        context: str,
        history: list[str],
        addressed: Sequence[str] = (),
        spoken_to: Sequence[str] = (),
    ) -> str | None:
        """He or she in a tag: the last person of that gender in view. With narration since the
        last quotation, that is the subject of the latest sentence that names someone fitting
        ("Emma looked at Harriet. “…,” she said" is Emma); straight after another quotation it
        is whom that one addressed, else the other party of the exchange."""
        pron = _SUBJECT_FORM.get(pron.lower(), pron.lower())
        if pron in ("i", "we"):
            return self.narrator
        gender = "female" if pron == "she" else "male" if pron == "he" else ""

        not_me = {self.characters.canonical(n) for n in spoken_to}

        def fits(name: str) -> bool:
            g = self.gender(name)
            return (
                name != self.narrator
                and (not gender or not g or g == gender)
                and self.characters.canonical(name) not in not_me
            )

        last = history[-1] if history else None
        if context.strip() and (newcomer := self.newcomer(context, gender)) is not None:
            return newcomer
        if not context.strip():
            for name in addressed:
                if name != last and fits(name) and self.gender(name):
                    return name
            for name in reversed(history):
                if name != last and fits(name):
                    return name
            return last if last and fits(last) else None
        sentences = _SENTENCES.split(context)
        for sentence in reversed(sentences[-_PRONOUN_REACH:]):
            for name in self.mentions(sentence):
                if fits(name):
                    return name
        # Further back, the people of the exchange come before those the narration named.
        for name in reversed(history[-4:]):
            if fits(name):
                return name
        for sentence in reversed(sentences[:-_PRONOUN_REACH]):
            for name in self.mentions(sentence):
                if fits(name):
                    return name
        for name in reversed(history):
            if fits(name):
                return name
        return None

    def described(
        self, desc: str, context: str, history: list[str], spoken_to: Sequence[str] = ()
    ) -> str | None:
        """ "said the old man", "returned the matron": a tag like this nearly always marks a
        change of speaker, so someone other than the last one: the person of the noun's gender
        the narration named last, else from the exchange; "rejoined the other" is the other
        party. Nobody fitting: the description itself speaks ("The Driver")."""
        words = desc.lower().split()
        noun = words[-1]
        if words[0] in ("a", "an"):
            return None  # somebody new, whom the cast does not know
        if noun == "other":
            return self.descriptor(history)
        gender = _NOUN_GENDER.get(noun, "")
        last = history[-1] if history else None
        not_me = {self.characters.canonical(n) for n in spoken_to}

        def fits(name: str) -> bool:
            g = self.gender(name)
            return (
                name not in (self.narrator, last)
                and (not gender or not g or g == gender)
                and self.characters.canonical(name) not in not_me
            )

        if gender:
            for sentence in reversed(_SENTENCES.split(context)):
                for name in self.mentions(sentence):
                    if fits(name):
                        return name
        for name in reversed(history):
            if fits(name) and (gender or name.startswith(PLACEHOLDER)):
                return name
        if not gender:
            return self.descriptor(history)
        for name in reversed(history):
            if name != self.narrator and self.gender(name) in ("", gender):
                return name
        return None

    def descriptor(self, history: list[str]) -> str | None:
        """ "said my companion", "asked our visitor": someone other than the last speaker and
        the narrator, as a tag of this kind nearly always marks a change of speaker."""
        last = history[-1] if history else None
        for name in reversed(history):
            if name.startswith(PLACEHOLDER) and name != last:
                return name
        for name in reversed(history):
            if name not in (last, self.narrator):
                return name
        return None


def _untagged(after: str) -> str:
    """The narration after a quotation without its speech tag: "said Harriet, smiling." names
    the speaker just gone, not someone a later "she said" could mean."""
    if _TAG_AFTER_VS.match(after) or _TAG_AFTER_SV.match(after):
        parts = _SENTENCES.split(after.strip(), maxsplit=1)
        return parts[1] if len(parts) > 1 else ""
    return after


_TO_WHOM = re.compile(rf"^\W*\w+\s+(?:\w+\s+)?(?:\w+ly\s+)?to\s+(?P<name>{NAME_RE.pattern})")


def _find_tag(q: Quotation, before_narration: str) -> re.Match[str] | None:
    after = q.after
    m = _TAG_AFTER_VS.match(after) or _TAG_AFTER_SV.match(after) or _TAG_WAS_ANSWER.match(after)
    if m is not None:
        return m
    if (q.before and q.before.rstrip().endswith((",", ":"))) or q.before.strip() == "":
        return (
            _TAG_BEFORE_VS.search(q.before)
            or _TAG_BEFORE_SV.search(q.before)
            or _TAG_BEFORE_SUBJECT.search(q.before)
        )
    return None


def _attribute_turn(
    turn: _Turn,
    resolver: _Resolver,
    history: list[str],
    corrections: Mapping[str, str],
    context: str,
    prev_addressed: Sequence[str] = (),
) -> None:
    # Explicit tags, quotation by quotation.
    for q in turn.quotes:
        if q.key in corrections:
            q.speaker, q.confidence, q.method, q.tagged = corrections[q.key], 1.0, "corrected", True
            continue
        m = _find_tag(q, turn.narration_before)
        if m is None:
            continue
        speaker: str | None = None
        confidence = CONF_NAMED_TAG
        method = "tag"
        if m.group("name"):
            speaker = resolver.name(m.group("name"))
        elif m.group("pron"):
            own = q.before if q is not turn.quotes[0] else ""
            speaker = resolver.pronoun(
                m.group("pron"), f"{context} {own}", history, prev_addressed, _spoken_to(q)
            )
            if m.group("pron").lower() not in ("i", "we"):
                confidence, method = CONF_PRONOUN_TAG, "pronoun"
        elif m.group("desc"):
            own = q.before if q is not turn.quotes[0] else ""
            speaker = resolver.described(
                m.group("desc"), f"{context} {own}", history, _spoken_to(q)
            )
            confidence, method = CONF_DESCRIPTOR, "descriptor"
        if speaker:
            q.speaker, q.confidence, q.method = speaker, confidence, method
        q.tagged = True
    known = [q for q in turn.quotes if q.speaker]
    first = turn.quotes[0]
    if not known and first.continues and history:
        for q in turn.quotes:
            q.speaker, q.confidence, q.method = history[-1], CONF_CONTINUES, "continues"
        return
    if not known:
        subject = _narration_subject(turn.narration_before, resolver, history, context)
        confidence = CONF_SUBJECT
        if subject is None:
            # Narration straight after the (last) quotation: "“Quite so.” Holmes leaned back."
            subject = _narration_subject_after(turn.quotes[-1].after, resolver, history)
        spoken_to = {resolver.characters.canonical(n) for n in _spoken_to(first)}
        if subject is not None and resolver.characters.canonical(subject) not in spoken_to:
            for q in turn.quotes:
                q.speaker, q.confidence, q.method = subject, confidence, "subject"
        return
    # Untagged quotations of the paragraph go with the nearest tagged one.
    for i, q in enumerate(turn.quotes):
        if q.speaker:
            continue
        nearest = min(known, key=lambda k: abs(turn.quotes.index(k) - i))
        q.speaker, q.confidence = nearest.speaker, nearest.confidence * 0.95
        q.method = nearest.method


def _spoken_to(q: Quotation) -> list[str]:
    """Names the quotation speaks to: its vocatives, and "to Lucy" in its tag."""
    out = list(q.addressed)
    if (m := _TO_WHOM.match(q.after)) is not None:
        out.append(m.group("name"))
    return out


def _narration_subject(
    narration: str, resolver: _Resolver, history: list[str], context: str
) -> str | None:
    """The subject of the last sentence before the quotation: "Holmes chuckled. “…”"."""
    text = narration.strip()
    if not text:
        return None
    last = _SENTENCES.split(text)[-1]
    m = _SUBJECT_AT_START.match(last)
    if m is None:
        names = resolver.mentions(last)
        return names[0] if names else None
    if m.group("name"):
        return resolver.name(m.group("name"))
    return resolver.pronoun(m.group("pron"), context, history)


def _narration_subject_after(after: str, resolver: _Resolver, history: list[str]) -> str | None:
    text = after.strip()
    if not text:
        return None
    m = _SUBJECT_AT_START.match(_SENTENCES.split(text)[0])
    if m is None or not m.group("name"):
        return None
    return resolver.name(m.group("name"))
