"""Who speaks each quotation of a chapter, with how sure the guess is.

A sieve, strongest evidence first:
1. a speech tag next to the quotation: "said Holmes", "Holmes said", "said he", "I observed",
   "replied the doctor"; pronouns go to the character just named in the paragraph, else to the
   other party of the conversation;
2. a quotation that carries on from the paragraph before (its opening mark repeated) keeps that
   paragraph's speaker;
3. a paragraph whose narration names someone just before the quotation: "Holmes chuckled. “…”";
4. turn-taking: in an exchange of untagged paragraphs the two speakers alternate, counted from
   the nearest paragraph whose speaker is known; a name the quotation addresses ("my dear
   Watson") is never its speaker.
The author's corrections, keyed by the quotation's text and its neighbourhood, win over all of it
and anchor the turn-taking around them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.core.model import BlockKind, Chapter
from pipelines.script.characters import NAME_RE, TITLES, CharacterList, find_characters
from pipelines.script.dialogue import SPEECH_VERBS, QuoteStyle, detect_style, split_quotes, wordset

CONF_CORRECTED = 1.0
CONF_NAMED_TAG = 0.95
CONF_CONTINUES = 0.9
CONF_PRONOUN_TAG = 0.8
CONF_SUBJECT = 0.65
CONF_DESCRIPTOR = 0.6
CONF_TURN = 0.7
CONF_ADDRESSEE = 0.5
LOW_CONFIDENCE = 0.7  # below this a quotation is worth the author's look

_VERBS = "|".join(sorted(SPEECH_VERBS, key=len, reverse=True))
_PRONOUN = r"[Hh]e|[Ss]he|I|[Ww]e|[Tt]hey"
_DESCRIPTOR = r"(?:the|my|our|his|her|their|a|an)\s+(?:[a-z\-]+\s+){0,2}[a-z\-]+"
_SUBJECT = (
    rf"(?P<pron>(?:{_PRONOUN})\b)|(?P<name>(?:the\s+)?{NAME_RE.pattern})|(?P<desc>{_DESCRIPTOR})"
)
_ADVERB = r"(?:[a-z]+ly\s+)?"
# Tag at the start of the narration after a quotation: "said Holmes", "he answered".
_TAG_AFTER_VS = re.compile(rf"^\W*(?:{_VERBS})\s+{_ADVERB}(?:{_SUBJECT})\b")
_TAG_AFTER_SV = re.compile(rf"^\W*(?:{_SUBJECT})\s+{_ADVERB}(?:{_VERBS})\b")
# Tag at the end of the narration before a quotation: "Holmes said, “…”", "said he: “…”".
_TAG_BEFORE_SV = re.compile(
    rf"(?:^|[.!?;]\s+|\s)(?:{_SUBJECT})\s+{_ADVERB}(?:{_VERBS})\s*[,:]?\W*$"
)
_TAG_BEFORE_VS = re.compile(rf"(?:^|\s)(?:{_VERBS})\s+(?:{_SUBJECT})\s*[,:]?\W*$")
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
    chains: list[list[_Turn]] = [[]]
    last_block = -1
    previous_after = ""
    names: dict[str, str] = {}  # newcomer placeholder -> the name a tag gave them later
    seen: set[str] = set()  # everyone who has spoken so far in the chapter
    for turn in turns:
        if _breaks_conversation(chapter, last_block, turn.block_index):
            chains.append([])
            history = []
        # The narration since the last quotation: what a pronoun in a tag can point back to.
        between = [
            b.text
            for b in chapter.blocks[max(last_block + 1, turn.block_index - 3) : turn.block_index]
            if b.kind is not BlockKind.HEADING
        ]
        context = " ".join([previous_after, *between, turn.narration_before]).strip()
        chains[-1].append(turn)
        last_block = max(q.block_index for q in turn.quotes)
        previous_after = turn.quotes[-1].after
        _attribute_turn(turn, resolver, history, corrections, context)
        speaker = turn.speaker
        if speaker:
            _name_newcomer(turn, speaker, history, seen, resolver, names)
            history.append(names.get(speaker, speaker))
            seen.add(speaker)
    for q in quotes:
        if q.speaker and q.speaker.startswith(PLACEHOLDER):
            q.speaker = names.get(q.speaker, q.speaker)
    for chain in chains:
        _alternate(chain, characters)
    for q in quotes:
        if q.speaker and q.speaker.startswith(PLACEHOLDER):
            # Never named: somebody, but nobody the cast knows.
            q.speaker, q.confidence, q.method = None, 0.0, "unknown"
        if q.speaker:
            q.speaker = characters.canonical(q.speaker)
    return quotes


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


def _breaks_conversation(chapter: Chapter, last_block: int, block_index: int) -> bool:
    """A heading, a scene break or a long stretch of narration ends an exchange."""
    if last_block < 0:
        return True
    words = 0
    for b in chapter.blocks[last_block + 1 : block_index]:
        if b.kind in (BlockKind.HEADING, BlockKind.SCENE_BREAK):
            return True
        words += len(b.text.split())
    return words > 80


_NEWCOMER = re.compile(
    r"\b(?:[Aa]n?|[Oo]ur|[Tt]he)\s+(?:[a-z\-]+\s+){0,3}?(?P<who>man|woman|gentleman|lady|girl|boy|"
    r"fellow|stranger|visitor|client|youth|person)\b"
)
_FEMALE_NOUNS = frozenset({"woman", "lady", "girl"})
PLACEHOLDER = "?"  # prefix of a speaker known only by description, until a name turns up


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
        if words and words[0].lower() == "the":
            words = words[1:]
        if not words or words[0].lower() in _NOT_SUBJECT_NAMES:
            return None
        name = " ".join(words)
        c = self.characters.resolve(name)
        if c is not None:
            return c.name
        # Not a known character: believe it only with a title ("Inspector Gregson").
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
                out.append(m.group())  # "Mr. Jabez Wilson", met for the first time
        return out

    def pronoun(self, pron: str, context: str, history: list[str]) -> str | None:
        """He or she in a tag: the last person of that gender in view. With narration since the
        last quotation, that is whom it last named (or the last speaker, if it named nobody);
        straight after another quotation it is the other party of the exchange."""
        pron = pron.lower()
        if pron in ("i", "we"):
            return self.narrator
        gender = "female" if pron == "she" else "male" if pron == "he" else ""

        def fits(name: str) -> bool:
            g = self.gender(name)
            return name != self.narrator and (not gender or not g or g == gender)

        last = history[-1] if history else None
        if context.strip() and (newcomer := self.newcomer(context, gender)) is not None:
            return newcomer
        if not context.strip():
            for name in reversed(history):
                if name != last and fits(name):
                    return name
            return last if last and fits(last) else None
        for name in reversed(self.mentions(context)):
            if fits(name):
                return name
        for name in reversed(history):
            if fits(name):
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


def _find_tag(q: Quotation, before_narration: str) -> re.Match[str] | None:
    after = q.after
    m = _TAG_AFTER_VS.match(after) or _TAG_AFTER_SV.match(after)
    if m is not None:
        return m
    if (q.before and q.before.rstrip().endswith((",", ":"))) or q.before.strip() == "":
        return _TAG_BEFORE_VS.search(q.before) or _TAG_BEFORE_SV.search(q.before)
    return None


def _attribute_turn(
    turn: _Turn,
    resolver: _Resolver,
    history: list[str],
    corrections: Mapping[str, str],
    context: str,
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
        if m.group("name"):
            speaker = resolver.name(m.group("name"))
        elif m.group("pron"):
            own = q.before if q is not turn.quotes[0] else ""
            speaker = resolver.pronoun(m.group("pron"), f"{context} {own}", history)
            if m.group("pron").lower() not in ("i", "we"):
                confidence = CONF_PRONOUN_TAG
        elif m.group("desc"):
            speaker = resolver.descriptor(history)
            confidence = CONF_DESCRIPTOR
        if speaker:
            q.speaker, q.confidence, q.method = speaker, confidence, "tag"
        q.tagged = True
    known = [q for q in turn.quotes if q.speaker]
    first = turn.quotes[0]
    if not known and first.continues and history:
        for q in turn.quotes:
            q.speaker, q.confidence, q.method = history[-1], CONF_CONTINUES, "continues"
        return
    if not known:
        subject = _narration_subject(turn.narration_before, resolver, history, context)
        if subject is None:
            # Narration straight after the (last) quotation: "“Quite so.” Holmes leaned back."
            subject = _narration_subject_after(turn.quotes[-1].after, resolver, history)
        if subject is not None and subject not in first.addressed:
            for q in turn.quotes:
                q.speaker, q.confidence, q.method = subject, CONF_SUBJECT, "subject"
        return
    # Untagged quotations of the paragraph go with the nearest tagged one.
    for i, q in enumerate(turn.quotes):
        if q.speaker:
            continue
        nearest = min(known, key=lambda k: abs(turn.quotes.index(k) - i))
        q.speaker, q.confidence, q.method = nearest.speaker, nearest.confidence * 0.95, "tag"


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


def _alternate(chain: Sequence[_Turn], characters: CharacterList) -> None:
    """Fill the unknown turns of one exchange by turn-taking between its two speakers.

    Forward first (a reply goes to the speaker before the last one, or to whom the last one
    addressed), then backward from later anchors, until nothing changes."""
    n = len(chain)
    speakers: list[str | None] = [t.speaker for t in chain]
    confidence: list[float] = [max((q.confidence for q in t.quotes), default=0.0) for t in chain]

    def addressee(i: int) -> str | None:
        for raw in chain[i].quotes[-1].addressed:
            c = characters.resolve(raw)
            if c is not None and c.name != speakers[i]:
                return c.name
        return None

    def other_party(i: int) -> str | None:
        last = speakers[i]
        for j in range(i - 1, -1, -1):
            if speakers[j] and speakers[j] != last:
                return speakers[j]
        return None

    changed = True
    while changed:
        changed = False
        for i in range(1, n):
            if speakers[i] is not None or speakers[i - 1] is None:
                continue
            prev2 = speakers[i - 2] if i >= 2 else None
            guess, conf = None, 0.0
            if prev2 and prev2 != speakers[i - 1]:
                guess, conf = prev2, min(confidence[i - 2], CONF_TURN) - 0.05
            elif (name := addressee(i - 1)) is not None:
                guess, conf = name, CONF_ADDRESSEE
            elif (name := other_party(i - 1)) is not None:
                guess, conf = name, CONF_ADDRESSEE - 0.05
            if guess is not None:
                speakers[i], confidence[i] = guess, max(conf, 0.4)
                changed = True
        if changed:
            continue
        for i in range(n - 3, -1, -1):
            a, b = speakers[i + 1], speakers[i + 2]
            if speakers[i] is None and a and b and a != b:
                speakers[i], confidence[i] = b, max(min(confidence[i + 2], CONF_TURN) - 0.05, 0.4)
                changed = True
    for turn, speaker, conf in zip(chain, speakers, confidence, strict=True):
        if turn.speaker is None and speaker is not None:
            # A name the quotation addresses is not its speaker.
            if any(characters.canonical(a) == speaker for a in turn.quotes[0].addressed):
                continue
            for q in turn.quotes:
                q.speaker, q.confidence, q.method = speaker, conf, "turn"
