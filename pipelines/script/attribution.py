"""Who speaks each quotation of a chapter, with how sure the guess is.

Sieves, strongest evidence first, each recording its method and a confidence:
1. a speech tag next to the quotation, in any order and either side: "said Holmes", "Holmes
   said", "cried the sleepy Noah", "remarked skeptical Anne", "put in Freddy", "Tom was
   saying", "said he", "I observed", "was Mrs. Weston's parting question", the subject of
   the clause leading into it ("Then Mrs. Grey opened the door and said:", "Tom, seeing his
   chance, added:"), also from a paragraph of narration ending so; a description that names
   someone outright: the one person with that title or office ("said the doctor", "said
   the beadle" after "Mr. Bumble, the beadle"), else a functionary or a singled-out stranger
   who speaks as that ("The turnkey", "The gentleman in the white waistcoat", "said a
   sleepy-faced carpenter"), kin of someone in the exchange ("said her husband": Mr. Grey after
   Mrs. Grey) (method "tag");
2. a quotation that carries on from the paragraph before (its opening mark repeated) keeps that
   paragraph's speaker ("continues"); tags retold inside it do not change it;
3. a pronoun tag: the latest person of that gender the narration names as a subject (not after
   a preposition, not a possessive), else the other party of the exchange, never someone the
   quotation speaks to ("pronoun"); a description ("said the old lady", "rejoined the
   other") likewise by its noun's gender, and the same description again in the exchange is
   the same person ("descriptor");
4. a paragraph whose narration names someone just before the quotation: "Holmes chuckled. “…”"
   ("subject"); words the narration quotes in passing, with no punctuation before them ("he
   had answered “the railway.”"), by the subject of the sentence's speech verb ("embedded",
   which the scene takes as given);
5. the scene decided as a whole (`pipelines.script.conversation`): the tags fixed, the guesses
   above weighed with turn-taking (two people alternate, a reply goes to whom the last turn
   addressed), vocatives (nobody speaks to themselves by name), the narration's mentions,
   how each person talks in the book's tagged speech (`pipelines.script.idiolect`) and the
   speakers carried over from before the scene ("turn"); a paragraph whose tags give two
   speakers is two turns;
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipelines.core.model import BlockKind, Chapter
from pipelines.script.characters import (
    FUNCTIONARIES,
    NAME_RE,
    NOUN_GENDER,
    OCCUPATIONS,
    TITLES,
    CharacterList,
    find_characters,
)
from pipelines.script.conversation import TurnEvidence, decide_scene
from pipelines.script.dialogue import (
    SPEECH_VERBS,
    QuoteStyle,
    Segment,
    detect_style,
    split_quotes,
    wordset,
)
from pipelines.script.idiolect import Idiolects
from pipelines.script.idiolect import words as speech_words

CONF_CORRECTED = 1.0
CONF_NAMED_TAG = 0.95
CONF_CONTINUES = 0.9
CONF_PRONOUN_TAG = 0.8
CONF_SUBJECT = 0.65
CONF_EMBEDDED = 0.9  # 13 of 14 right (PDNC development novels)
CONF_DESCRIPTOR = 0.6
CONF_MENTION = 0.3
# Below this a quotation is worth the author's look: on the PDNC development novels those
# below are right about half the time, those above more than nine times in ten.
LOW_CONFIDENCE = 0.7
# The idiolects' second round learns from quotations at least this sure (right about nineteen
# times in twenty on those novels); 0.65 and 0.9 did a little worse there.
SELF_TRAINED = 0.8

_VERBS = "|".join(sorted(SPEECH_VERBS, key=len, reverse=True))
_PRONOUN = r"[Hh]e|[Ss]he|I|[Ww]e|[Tt]hey"
# Words that link or govern a noun phrase: never part of a description or of the words
# before a name ("said to Anne" is no "said Anne", "the rake and cheerfully" no description).
_LINKS = (
    r"(?:to|at|with|for|of|from|by|in|on|into|upon|about|after|before|towards?|among|behind|"
    r"beside|near|over|under|through|against|without|within|and|or|but|that|than|as|so|then|"
    r"when|while|if|because|whom|who|which|what|was|were|is|had|has|not|all)\b"
)
# "in the same tone", "with the air of …": how it is said, not who says it.
_MANNER = r"(?:voice|tone|manner|way|air|look|smile|same|utmost|greatest|most)\b"
# Adjectives ending in -ly, which describe ("the surly one", "a burly fellow"), unlike the
# adverbs that end a tag ("said the man quietly").
_LY_ADJECTIVES = (
    r"(?:ugly|surly|burly|portly|elderly|lubberly|stately|lovely|kindly|comely|homely|sickly|"
    r"jolly|holy|silly|friendly|lonely|lively|manly|ghastly|curly|grizzly|wily|oily|scholarly|"
    r"gentlemanly|motherly|fatherly|saintly|shapely|beastly|deadly|unruly|wrinkly)\b"
)
_DESC_WORD = rf"(?!{_LINKS})(?!(?!{_LY_ADJECTIVES})[a-z]+ly\b(?!-))[a-z\-]+"
# "the old man", "that brisk official", "another voice", "one of the women".
_DESCRIPTOR = (
    r"(?:the|my|our|his|her|their|a|an|this|that|another|one\s+of\s+the)\s+"
    rf"(?:{_DESC_WORD}\s+){{0,3}}{_DESC_WORD}"
    # "the gentleman in the white waistcoat": a description that singles someone out
    rf"(?:\s+(?:in|with)\s+the\s+(?:{_DESC_WORD}\s+){{0,2}}(?!{_MANNER}){_DESC_WORD})?"
)
_SUBJECT = (
    rf"(?P<pron>(?:{_PRONOUN})\b)"
    # "the sleepy Noah", "the now mollified General", "poor Oliver", "skeptical Anne": a name
    # after a few words of description
    rf"|(?P<name>(?:(?:the|a|an)\s+)?(?:{_DESC_WORD}\s+){{0,3}}"
    # "Mr. Grey's wife" is no "Mr. Grey": a possessive name is part of a description.
    rf"{NAME_RE.pattern}(?<!['\u2019]s)(?<!\bMr)(?<!\bMrs)(?<!\bDr)(?<!\bMs)(?!['\u2019\w]))"
    # "a man's voice" is no man speaking; "the apothecary's deputy" is the deputy
    rf"|(?P<desc>{_DESCRIPTOR}(?!['\u2019]s\b)|{NAME_RE.pattern}['\u2019]s\s+(?:{_DESC_WORD}\s+){{0,2}}{_DESC_WORD}"
    rf"|the\s+{_DESC_WORD}['\u2019]s\s+(?:{_DESC_WORD}\s+){{0,1}}{_DESC_WORD})"
)
_ADVERB = r"(?:(?:[a-z]+ly|soon|then|now|again|still|presently|at\s+last|at\s+length)\s+)?"
# Tag at the start of the narration after a quotation: "said Holmes", "he answered".
# "put in Freddy", "broke in the other", "went on Tom"; "Tom was saying".
_PARTICLE_OPT = r"(?:\s+(?:in|on|out|up))?"
# "Tom was saying", "he kept repeating", "the other seemed to answer".
_AUXILIARY = r"(?:(?:was|were|had|has|is|would|could|kept|began|continued|seemed\s+to)\s+)?"
_TAG_AFTER_VS = re.compile(rf"^\W*{_ADVERB}(?:{_VERBS}){_PARTICLE_OPT}\s+{_ADVERB}(?:{_SUBJECT})\b")
_TAG_AFTER_ANY_VS = re.compile(rf"^\W*[a-z]{{3,}}ed\s+(?:{_SUBJECT})\b")
_TAG_AFTER_SV = re.compile(rf"^\W*(?:{_SUBJECT})\s+{_AUXILIARY}{_ADVERB}(?:{_VERBS})\b")
# Tag at the end of the narration before a quotation: "Holmes said, “…”", "said he: “…”".
_TAG_BEFORE_SV = re.compile(
    rf"(?:^|[.!?;]\s+|\s)(?:{_SUBJECT})\s+{_ADVERB}(?:{_VERBS})\s*[,:]?\W*$"
)
_TAG_BEFORE_VS = re.compile(rf"(?:^|\s)(?:{_VERBS})\s+(?:{_SUBJECT})\s*[,:]?\W*$")
# "was Mrs. Weston's parting question", "was his short, full answer".
_ANSWER_NOUNS = (
    r"(?:answer|reply|rejoinder|question|comment|remark|observation|response|retort|"
    r"exclamation|cry|greeting|amendment|suggestion|advice|reflection|verdict|conclusion|"
    r"protest|objection|explanation|answers|words|thought)"
)
_TAG_WAS_ANSWER = re.compile(
    rf"^\W*(?:was|came)\s+(?:(?P<pron>his|her)|(?P<name>{NAME_RE.pattern})['\u2019]s?"
    # "was the croupier's polite reply" (in a text that lost its apostrophes, "croupier s")
    r"|(?P<desc>the\s+[a-z\-]+)(?:['\u2019]|\s)s)\s+"
    rf"(?:[a-z\-]+,?\s+){{0,3}}{_ANSWER_NOUNS}\b"
)
# "was the only suggestion he could offer", "was all the answer Tom made".
_TAG_WAS_ANSWER_OF = re.compile(
    rf"^\W*was\s+(?:the|all\s+the)\s+(?:[a-z\-]+\s+){{0,2}}{_ANSWER_NOUNS}\s+(?:that\s+)?"
    rf"(?:(?P<pron>(?:{_PRONOUN})\b)|(?P<name>{NAME_RE.pattern})|(?P<desc>(?!x)x))"
    r"\s+(?:could\s+|would\s+|did\s+)?(?:make|made|give|gave|offer|find|found|get|got)\b"
)
# "his last words to Anne were,", "Tom's answer was:": the speech that follows is theirs.
_TAG_WORDS_WERE = re.compile(
    rf"(?:^|\s)(?:(?P<pron>[Hh]is|[Hh]er)|(?P<name>{NAME_RE.pattern})['\u2019]s?|(?P<desc>(?!x)x))"
    rf"\s+(?:[a-z\-]+\s+){{0,3}}{_ANSWER_NOUNS}\b(?:\s+to\s+(?:[\w.]+\s+){{0,2}}?[\w.]+)?"
    r"\s+(?:were|was)\s*[,:\-\u2014]*\W*$"
)
# "the spontaneous burst of Anne's feelings:", "the answer of Mr. Grey:": the speech is theirs.
_TAG_NOUN_OF = re.compile(
    rf"\b(?:{_ANSWER_NOUNS}|burst|outburst)\s+of\s+(?:(?P<pron>his|her)\s+[a-z\-]+"
    rf"|(?P<name>{NAME_RE.pattern})(?:['\u2019]s\s+(?:[a-z\-]+\s+){{0,2}}[a-z\-]+)?|(?P<desc>(?!x)x))"
    r"\s*[,:\-\u2014]+\W*$"
)
# "Gilbert it was who spoke up stoutly.", "It was Tom who answered.": the cleft names who speaks.
# only verbs of speech alone: "It was Miss Grey who returned" may be her coming back
_CLEFT_VERBS = "spoke|said|answered|replied|asked|cried|exclaimed|interrupted|remarked|whispered"
_CLEFT_END = rf"\s+(?:who|that)\s+{_ADVERB}(?:{_CLEFT_VERBS})\b[^.!?;]{{0,60}}[.:,]\W*$"
# "and as clearly heard Emma opposing it with eager warmth.", "the bustle of Mr. Grey calling on
# every body to dance.": the one heard at it, right before the words, speaks them.
_TAG_HEARD = re.compile(
    rf"\b(?:heard|hear|hears|hearing|bustle\s+of|voice\s+of)\s+(?P<name>{NAME_RE.pattern})"
    rf"(?P<pron>(?!x)x)?(?P<desc>(?!x)x)?(?<!['\u2019]s)\s+(?:[a-z]+ly\s+)?[a-z]{{3,}}ing\b"
    r"[^.!?;\u201c\"]{0,80}[.:,]\W*$"
)
_TAG_CLEFTS = tuple(
    re.compile(rf"(?:^|[.!?;]\s+){form}(?P<pron>(?!x)x)?(?P<desc>(?!x)x)?{_CLEFT_END}")
    for form in (
        rf"(?P<name>{NAME_RE.pattern})\s+it\s+was",
        rf"It\s+was\s+(?P<name>{NAME_RE.pattern})",
    )
)
# "accosted her with,", "made the inquiry of--", "concluded thus:": narration that hands the
# floor to its subject without a speech verb.
_HANDS_OVER = re.compile(r"\b(?:with|of|thus|as\s+follows)$")
# "Matthew took his courage in both hands and replied:", "Diana whispered to Anne,": the
# speaker of narration leading into a quotation is the subject of its last clause's speech verb.
_SUBJECT_RE = re.compile(_SUBJECT)
# Speech verbs and their participles: "said", "observing", "replying".
_PARTICIPLES = {v[:-2] + "ing" for v in SPEECH_VERBS if v.endswith("ed") and not v.endswith("ied")}
_CLAUSE_VERB = re.compile(
    rf"\b(?:{_VERBS}|{'|'.join(sorted(_PARTICIPLES))}|saying|asking|crying|replying)\b"
)
# "went on", "put in", "broke out": these only speak with their particle.
_PARTICLE_VERBS = wordset("went put broke")
_PARTICLE = re.compile(r"\s+(?:on|in|out|off)\b")
_TAIL_STOP = re.compile(rf"\b(?:{_PRONOUN}|that|which|who|and|but|if)\b|[A-Z]")
_TAIL_ASIDE = re.compile(r",[^,]*,?")
_TAIL_ADDRESSEE = re.compile(rf"\b(?:to|at|with|towards?)\s+(?:{NAME_RE.pattern}|\w+)")
_TAIL_PAIR = re.compile(r"\b[a-z]+\s+and\s+[a-z]+\s*$")
_TAIL_WORDS = 8  # "said in a low voice to his friend": an adverbial after the verb, no more
_PREPOSITIONS = (
    r"(?:to|at|with|for|of|from|by|in|on|into|upon|about|after|before|towards?|among|"
    r"behind|beside|near|over|under|through|against|without|within|than|like)\b"
)
_PREPOSITION_BEFORE = re.compile(
    rf"\b{_PREPOSITIONS}\s*(?:(?:the|a|an|his|her|their|my|our)\s+)?(?:[a-z\-]+\s+)?$"
    r"|['\u2019]s\s*$"
)
# Names for one office: the book's doctor is "the surgeon" as well.
_OFFICE_NAMES = (
    "doctor surgeon physician apothecary",
    "clergyman vicar curate priest chaplain parson rector",
    "lawyer attorney solicitor",
)
_SAME_OFFICE = {w: tuple(g.split()) for g in _OFFICE_NAMES for w in g.split()}
_PERSON_NOUNS = "|".join(sorted(set(NOUN_GENDER) | OCCUPATIONS, key=len, reverse=True))
_CLAUSE_SUBJECT = re.compile(
    rf"\b(?P<pron>(?:{_PRONOUN}))\b"
    rf"|(?P<desc>\b(?:[Tt]he|[Hh]is|[Hh]er|[Tt]heir|[Mm]y|[Oo]ur|[Tt]his|[Tt]hat)\s+(?:{_DESC_WORD}\s+){{0,2}}"
    rf"(?:{_PERSON_NOUNS}|other)\b)"
    rf"|{NAME_RE.pattern}"
)
_NOT_A_NAME = wordset(
    "when then while as and but so if though although after before once yet still now there "
    "here at in on it this that what why how where perhaps meanwhile presently suddenly"
)
# Not after "Mr." and the like: "Mrs. Weston smiled" is one sentence.
_NOT_AFTER_TITLE = (
    r"(?<!\bMr\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMme\.)(?<!\bMlle\.)"
)
_SENTENCES = re.compile(rf"(?<=[.!?]){_NOT_AFTER_TITLE}\s+(?=[A-Z\u201c\"'\u2018])")
_CLAUSES = re.compile(rf"(?:[!?;]|\.{_NOT_AFTER_TITLE})\s+")
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
    lead: str = ""  # a paragraph of narration just before, when it leads into this one ("…said:")
    nested: bool = False  # a quotation inside another: speech its speaker reports

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "block": self.block_index,
            "text": self.text,
            "speaker": self.speaker,
            "confidence": round(self.confidence, 2),
            "method": self.method,
            "nested": self.nested,
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
    recited = False  # an unmarked verse or extract inside a speech left open
    lead_in = ""
    for bi, block in enumerate(blocks):
        if block.kind not in (BlockKind.PARAGRAPH, BlockKind.QUOTE, BlockKind.VERSE):
            open_at_end = False
            continue
        segments = split_quotes(block.text, style)
        quotes = [(si, s) for si, s in enumerate(segments) if s.dialogue]
        if open_at_end and not quotes and block.kind is not BlockKind.PARAGRAPH:
            # "…Can it be woman?" / an indented line of verse / "Can it be Neptune?": the
            # speaker quotes the verse and talks on after it without a new opening mark.
            recited = True
            continue
        if recited and open_at_end and not quotes and block.text.strip():
            segments = [Segment(block.text, 0, len(block.text), True, closed=False)]
            quotes = [(0, segments[0])]
        recited = False
        for n, (si, seg) in enumerate(quotes):
            before = segments[si - 1].text if si and not segments[si - 1].dialogue else ""
            after = (
                segments[si + 1].text
                if si + 1 < len(segments) and not segments[si + 1].dialogue
                else ""
            )
            q = Quotation(bi, si, seg.text, before, after, seg.closed, nested=seg.nested)
            # A quotation cut around nested ones is known by the whole of it, as before it was.
            q.key = (
                quotation_key(seg.text, before, after, previous_text)
                if seg.whole is None
                else _whole_key(block.text, segments, si, seg.whole, before, previous_text)
            )
            q.continues = n == 0 and si == 0 and open_at_end
            q.addressed = [m.group("name") for m in _VOCATIVE.finditer(seg.text)]
            if si == 0 and lead_in:
                q.lead = lead_in
            out.append(q)
        # Narration closing a paragraph ("… Emma, speaking louder, said,") leads into the next.
        closing = segments[-1] if segments and not segments[-1].dialogue else None
        lead_in = _lead_in(closing.text) if closing and block.kind is BlockKind.PARAGRAPH else ""
        if block.text.strip():
            continued = bool(quotes) and quotes[0][0] == 0 and open_at_end
            open_at_end = (
                bool(quotes) and not quotes[-1][1].closed and quotes[-1][0] == (len(segments) - 1)
            ) or (continued and _retelling(segments))
            previous_text = block.text
    return out


def _retelling(segments: Sequence[Segment]) -> bool:
    """A paragraph of a speech that runs on, where the speaker retells a talk in the first
    person ("'Take him to the guard,' said I. The two closed in upon him."): what looks like
    narration after it is the storyteller's, so the speech runs on into the next paragraph
    even where the text lost the outer quotation mark."""
    if len(segments) < 2 or not segments[0].dialogue or segments[1].dialogue:
        return False
    m = _TAG_AFTER_VS.match(segments[1].text) or _TAG_AFTER_SV.match(segments[1].text)
    return m is not None and (m.group("pron") or "").lower() in ("i", "we")


def _whole_key(
    text: str,
    segments: list[Segment],
    si: int,
    whole: tuple[int, int],
    before: str,
    previous_text: str,
) -> str:
    """The key of a quotation cut around nested ones: its whole text's, with the narration
    after its last part."""
    last = si
    while last + 1 < len(segments) and segments[last + 1].end <= whole[1]:
        last += 1
    nxt = segments[last + 1] if last + 1 < len(segments) else None
    after = nxt.text if nxt is not None and not nxt.dialogue else ""
    return quotation_key(text[whole[0] : whole[1]], before, after, previous_text)


def _lead_in(text: str) -> str:
    """The last sentence of a narration paragraph that ends leading into speech ("… said:")."""
    text = text.rstrip()
    if not text.endswith((",", ":", "-", "\u2014", "\u2013")):
        return ""
    return _SENTENCES.split(text)[-1]


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
    *,
    sieves_only: bool = False,
) -> list[Quotation]:
    """The chapter's quotations, each with a speaker (None when nothing tells) and a confidence;
    `sieves_only`: what the sieves find, before the scenes are decided (a speech tag's speaker is
    settled there already)."""
    if characters is None:
        characters = find_characters(b.text for b in chapter.blocks)
    quotes = chapter_quotations(chapter, style)
    turns = _turns(chapter, quotes)
    resolver = _Resolver(characters)
    resolver.voices = _tagged_voices(quotes, characters)
    resolver.chapter = chapter
    corrections = corrections or {}
    history: list[str] = []  # speakers of the recent turns, latest last
    last_block = -1
    previous_after = ""
    names: dict[str, str] = {}  # newcomer placeholder -> the name a tag gave them later
    seen: set[str] = set()  # everyone who has spoken so far in the chapter
    prev_addressed: list[str] = []  # whom the last turn spoke to
    scenes: list[list[tuple[_Turn, str, int]]] = [[]]  # turn, narration before it, its words
    carried: list[list[str]] = [[]]  # who talked last as each scene begins
    routes: dict[int, str] = {}  # paragraph -> how its pronoun was resolved (`_Resolver.basis`)
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
        gap_text, gap_words = " ".join(gap[-2:]), sum(len(t.split()) for t in gap)
        # The narration since the last quotation: what a pronoun in a tag can point back to.
        between = [
            b.text
            for b in chapter.blocks[max(last_block + 1, turn.block_index - 3) : turn.block_index]
            if b.kind is not BlockKind.HEADING
        ]
        context = " ".join([previous_after, *between, turn.narration_before]).strip()
        # the narration in view starts where the last speech ended (none of it cut off)
        resolver.after_speech = (
            bool(previous_after.strip()) or turn.block_index - 3 <= last_block + 1
        )
        last_block = max(q.block_index for q in turn.quotes)
        previous_after = _untagged(turn.quotes[-1].after)
        resolver.basis = ""
        _attribute_turn(turn, resolver, history, corrections, context, prev_addressed)
        routes[turn.block_index] = resolver.basis
        prev_addressed = [
            c for a in turn.quotes[-1].addressed if (c := resolver.resolve(a)) is not None
        ]
        for k, part in enumerate(_split_turn(turn)):
            scenes[-1].append((part, gap_text, gap_words) if k == 0 else (part, "", 0))
            speaker = part.speaker
            if speaker:
                _name_newcomer(part, speaker, history, seen, resolver, names)
                history.append(names.get(speaker, speaker))
                seen.add(speaker)
    for q in quotes:
        if q.speaker and q.speaker.startswith(PLACEHOLDER):
            q.speaker = names.get(q.speaker, q.speaker)
    if not sieves_only:
        regulars = _regulars(chapter, quotes, resolver)
        for scene, before in zip(scenes, carried, strict=True):
            _decide(scene, before, resolver, regulars, routes)
        _fill_from_mentions(chapter, turns, quotes, resolver)
    where = _chapter_label(chapter.title)
    for q in quotes:
        if q.speaker and q.speaker.startswith(PLACEHOLDER):
            # Never named: somebody, but nobody the cast knows.
            q.speaker, q.confidence, q.method = None, 0.0, "unknown"
        if q.speaker:
            # The author's own name for a speaker stands as they typed it when it is no
            # character's (someone new); anything else is the cast's name for whom it names.
            name = characters.typed_name if q.method == "corrected" else characters.canonical
            q.speaker = name(q.speaker)
            # Somebody known only by description ("The clerk") is somebody of this chapter:
            # the clerk of another chapter is another person, cast apart.
            if (
                where
                and q.method != "corrected"
                and q.speaker.startswith("The ")
                and characters.resolve(q.speaker) is None
            ):
                q.speaker = f"{q.speaker} ({where})"
    return quotes


def _chapter_label(title: str) -> str:
    """A chapter's short name for its strangers: "Chapter XI" of "Chapter XI: The Clerk"."""
    head = re.split(r"[:.\u2014]|\s[-\u2013]\s", title.strip(), maxsplit=1)[0].split()
    return " ".join(head[:3])


def learn_idiolects(chapters: Iterable[Chapter], characters: CharacterList) -> Idiolects:
    """How the book's people talk (`CharacterList.idiolects`), learned in two rounds: first
    from the quotations a speech tag names (right 98% of the time on annotated novels), by a
    pass of the sieves alone, which do not read the idiolects; then, with those, the scenes
    are decided and every quotation settled at SELF_TRAINED confidence or more (the tags, and
    the untagged turns the scene leaves no doubt about) teaches its speaker's words. Twice the
    speech to learn from: each person's model is surer, most of all for those the book seldom
    tags; and who calls someone "papa" or "aunt" (`Idiolects.kin_speakers`). `characters` is
    left as it was given."""
    chapters = list(chapters)
    tagged = Idiolects.learn(
        (q.speaker, q.text)
        for chapter in chapters
        for q in attribute(chapter, characters, sieves_only=True)
        if q.speaker and q.method == "tag" and q.confidence >= CONF_NAMED_TAG - 0.01
    )
    given = characters.idiolects
    characters.idiolects = tagged
    try:
        return Idiolects.learn(
            (q.speaker, q.text)
            for chapter in chapters
            for q in _opening_paragraphs(attribute(chapter, characters))
            if q.speaker and q.confidence >= SELF_TRAINED
        )
    finally:
        characters.idiolects = given


def _opening_paragraphs(quotes: list[Quotation]) -> list[Quotation]:
    """The quotations less those of paragraphs that carry on a speech: a story told over
    pages is one turn, and would teach its teller's way of talking as a narrator's."""
    carried_on = {q.block_index for q in quotes if q.continues}
    return [q for q in quotes if q.block_index not in carried_on]


def _split_turn(turn: _Turn) -> list[_Turn]:
    """A paragraph whose tags give two speakers ("'…,' asked Tom. Sam answered: '…'") is two
    turns of the exchange, so that what comes next answers the second."""
    parts: list[_Turn] = []
    for q in turn.quotes:
        tagged = q.tagged and q.speaker is not None and q.method in ("tag", "corrected")
        # A speech carried over into more paragraphs may retell a talk with its own tags.
        own = q.block_index == turn.block_index
        if parts and tagged and own and parts[-1].speaker not in (None, q.speaker):
            parts.append(_Turn([q], q.block_index, q.before))
        else:
            if not parts:
                parts.append(_Turn([], turn.block_index, turn.narration_before))
            parts[-1].quotes.append(q)
    return parts


def _regulars(chapter: Chapter, quotes: Sequence[Quotation], resolver: _Resolver) -> list[str]:
    """The chapter's main people: those its tags name most, then those its narration names
    most (a scene between two people, one never named in it, still has both to choose from)."""
    tagged = Counter(
        q.speaker for q in quotes if q.speaker and q.method == "tag" and q.confidence > 0.9
    )
    out = [name for name, _ in tagged.most_common(3)]
    spoken = {q.text for q in quotes}
    named: Counter[str] = Counter()
    for block in chapter.blocks:
        text = block.text
        for said in spoken & {s.text for s in split_quotes(text) if s.dialogue}:
            text = text.replace(said, " ")
        named.update(n for n in resolver.mentions(text) if n != resolver.narrator)
    for name, _ in named.most_common(_REGULARS_NAMED):
        if name not in out and not name.startswith(PLACEHOLDER):
            out.append(name)
    return out


_REGULARS_NAMED = 2  # people the chapter's narration names most, added to its regulars


_PRONOUN_REACH = 3  # sentences of narration a "he" looks back before the exchange's people
# methods whose speaker the scene takes as given
_STRONG = ("corrected", "tag", "continues", "embedded")


# Measured accuracy (PDNC development novels, bench/attribution_bench.py --pdnc) of a decided
# turn by how its speaker was found and by its margin over the next best person (0, 1, 2 ...
# points, the last entry for any more); the last value of each row: the scene's only person.
# A turn one point ahead measures 0.70 (+-0.013, 1,317 turns): kept at 0.69, under
# LOW_CONFIDENCE, so that these chain turns, wrong three times in ten, are still offered for review.
_CALIBRATION: dict[str, tuple[tuple[float, ...], float]] = {
    "turn": ((0.47, 0.69, 0.82, 0.85, 0.89, 0.92), 0.25),
    "pronoun": ((0.7, 0.73, 0.73, 0.9), 0.7),
    "descriptor": ((0.36, 0.63, 0.63, 0.84), 0.3),
    "subject": ((0.4, 0.85), 0.5),
    "continues": ((0.7, 0.75, 0.8, 0.85, 0.9), 0.85),
    "tag": ((0.7, 0.75, 0.8, 0.85, 0.9), 0.8),
}


# Measured accuracy (PDNC development novels, before the scene is decided) of a sieve's guess
# by its method and, for a pronoun, the route that resolved it (`_Resolver.basis`): the scene
# weighs a strong guess more than a weak one. "narration": the latest subject named before.
_RELIABILITY: dict[tuple[str, str], float] = {
    ("pronoun", "addressed"): 0.85,
    ("pronoun", "same speaker"): 0.9,
    ("pronoun", "narration"): 0.78,
    ("pronoun", "other party"): 0.77,
    ("pronoun", "exchange"): 0.68,
    ("pronoun", "history"): 0.5,
    ("pronoun", "newcomer"): 0.15,
    ("descriptor", ""): 0.57,
    ("subject", ""): 0.75,
    ("subject", "narration"): 0.4,
    ("subject", "exchange"): 0.1,
}


def _reliability(method: str, route: str, confidence: float) -> float:
    """How often a guess found this way is right (its sieve's confidence where unmeasured)."""
    route = "narration" if route.startswith("narration") else route
    return _RELIABILITY.get((method, route), _RELIABILITY.get((method, ""), confidence))


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
            g = NOUN_GENDER.get(m.group("desc").lower().split()[-1], "")
            if g:
                return g
    return ""


def _tag_grown(quotes: Sequence[Quotation]) -> bool:
    """Whether a tag of the quotations describes a grown-up ("said the old gentleman")."""
    for q in quotes:
        m = _find_tag(q, "")
        if m is not None and m.group("desc"):
            return _grown_up(m.group("desc"))
    return False


def _grown_up(desc: str) -> bool:
    words = _SINGLED_OUT.split(desc.lower())[0].split()
    return words[-1] in _GROWN_UPS and not {"young", "little"} & set(words)


def _decide(
    scene: Sequence[tuple[_Turn, str, int]],
    carried: Sequence[str],
    resolver: _Resolver,
    regulars: Sequence[str],
    routes: Mapping[int, str] | None = None,
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

    idiolects = resolver.characters.idiolects
    kin: list[set[str]] = []
    for turn, before, gap in scene:
        first = turn.quotes[0]
        e = TurnEvidence(gap_words=gap, narrated=bool(first.before.strip()))
        e.ends_in_speech = not turn.quotes[-1].after.strip()
        sp = turn.speaker
        if sp:
            method = next(q.method for q in turn.quotes if q.speaker)
            conf = max(q.confidence for q in turn.quotes if q.speaker)
            if method in _STRONG and conf >= CONF_CONTINUES - 0.01:
                e.fixed = sp
            else:
                route = (routes or {}).get(turn.block_index, "")
                e.guess, e.guess_confidence = sp, _reliability(method, route, conf)
        # A speech running over several paragraphs is judged by its first one: what follows
        # may retell a conversation ("‘Why that?’ I asks") with its own tags and names.
        opening = [q for q in turn.quotes if q.block_index == first.block_index]
        # Only people: "Oh, dear!" and "Why, yes" name nobody.
        e.addressed = {
            resolver.canonical(n)
            for q in opening
            for n in _spoken_to(q)
            if resolver._mention(n) is not None or canonical(n) == teller
        }
        e.named = {
            canonical(n)
            for q in opening
            for n in resolver.mentions(q.text)
            if n != resolver.narrator
        } - e.addressed
        e.teller = _teller(turn, resolver)
        e.gender = _tag_gender(opening)
        e.grown = _tag_grown(opening)
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
        e.faced = _faced(f"{before} {own}", resolver) - {sp}
        e.words = [w for q in opening for w in speech_words(q.text)]
        if idiolects is not None:
            # who the book heard call someone "papa", by canonical name
            kin.append({p for q in opening for p in idiolects.kin_speakers(q.text)})
        e.own_mentions = [n for n in resolver.mentions(own) if in_story(n)]
        e.before_mentions = [n for n in resolver.mentions_alone(before) if in_story(n)]
        evidence.append(e)
    people = {n for e in evidence for n in (e.fixed, e.guess, *e.own_mentions, *e.before_mentions)}
    genders = {n: resolver.gender(n) for n in people | set(carried) | set(regulars) if n}
    anonymous = {n for n in people if n and n.startswith("The ") and canonical(n) == n}
    names = {n for n in people | set(carried) | set(regulars) | {teller} if n}
    for e, heard in zip(evidence, kin, strict=False):  # none without idiolects
        e.kin = {n for n in names if canonical(n) in heard} if heard else set()

    def style(tokens: Sequence[str], names: Sequence[str]) -> list[float]:
        assert idiolects is not None
        return idiolects.score(tokens, [canonical(n) for n in names])

    decided = decide_scene(
        evidence,
        [canonical(c) for c in carried],
        resolver.characters.narrator,
        genders,
        regulars,
        {n for n in anonymous if resolver.characters.resolve(n) is None},
        style if idiolects else None,
        {n for n in names if canonical(n) in resolver.characters.young},
    )
    for (turn, _, _), e, d in zip(scene, evidence, decided, strict=True):
        if e.fixed or d.speaker is None:
            continue
        g = resolver.gender(d.speaker)
        if e.gender and g and g != e.gender:
            continue  # "she said" and no woman in the scene: the sieves' guess, or later
        if e.grown and canonical(d.speaker) in resolver.characters.young:
            continue  # "said the old gentleman" is none of the children
        if e.third_person and d.speaker == resolver.characters.narrator:
            continue  # "he said" is never the one telling the story
        method = "turn"
        if d.speaker == e.guess:
            method = next(q.method for q in turn.quotes if q.speaker)
        conf = _calibrated(method, d.margin, d.alone)
        for q in turn.quotes:
            q.speaker, q.confidence, q.method = d.speaker, conf, method


# "turning to Tom", "looked at Mrs. Grey", "asked Harriet": whom the narration has the
# speaker face or speak to, one word between at most ("turned round to Tom").
_FACING = re.compile(
    r"\b(?:(?:turn(?:ed|ing)|look(?:ed|ing)|glanc(?:ed|ing)|nodd(?:ed|ing)|smil(?:ed|ing)|"
    r"bow(?:ed|ing)|went|came|going|coming|stepp(?:ed|ing)|address(?:ed|ing)|spoke|speaking|"
    r"said|whispered|call(?:ed|ing)|cried)\s+(?:\w+\s+)?(?:to|at|towards?|upon)|"
    r"ask(?:ed|ing)|tell(?:ing)?|told|answer(?:ed|ing)|interrupt(?:ed|ing)|thank(?:ed|ing)|"
    r"assur(?:ed|ing)|begg(?:ed|ing)|remind(?:ed|ing)|address(?:ed|ing)|bade|bid|accost(?:ed|ing))"
    rf"\s+(?P<name>{NAME_RE.pattern})(?![\w'\u2019])"
)


# A retold talk inside a speech: "Well, Small, what is it?' he asked", tag and all.
_RETOLD_TAG = re.compile(
    rf"[,.!?;—’'\s]\s+(?:(?:he|she)\s+{_ADVERB}(?:{_VERBS})|(?:{_VERBS})\s+(?:he|she|the\s+[a-z]+))\b"
)


def _teller(turn: _Turn, resolver: _Resolver) -> str | None:
    """Who tells a story that runs over several paragraphs and retells its talk: the one the
    others in it call by name ("'Well, Small, what is it?' he asked"), three times at least and
    twice as often as anyone else."""
    votes: Counter[str] = Counter()
    # A paragraph at a time: where lost marks cut a retold talk around its tags, the vocative
    # and the tag are parts of one paragraph's quotation.
    paragraphs: dict[int, list[Quotation]] = {}
    for q in turn.quotes:
        if q.block_index != turn.block_index:
            paragraphs.setdefault(q.block_index, []).append(q)
    for parts in paragraphs.values():
        if not _RETOLD_TAG.search(" ".join(q.text for q in parts)):
            continue
        for n in (n for q in parts for n in q.addressed):
            if (c := resolver._mention(n)) is not None and c != resolver.narrator:
                votes[resolver.canonical(c)] += 1
    ranked = votes.most_common(2)
    if not ranked or ranked[0][1] < 3 or (len(ranked) > 1 and ranked[0][1] < 2 * ranked[1][1]):
        return None
    return ranked[0][0]


def _faced(narration: str, resolver: _Resolver) -> set[str]:
    """The people the narration of a turn has its speaker face or speak to: not the speaker,
    and likely the one who answers."""
    out: set[str] = set()
    for m in _FACING.finditer(narration):
        name = resolver._mention(m.group("name"))
        if name is not None and name != resolver.narrator:
            out.add(resolver.characters.canonical(name))
    return out


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
                gender = NOUN_GENDER.get(m.group("desc").lower().split()[-1], "")
        exclude = {resolver.canonical(n) for q in turn.quotes for n in _spoken_to(q)}
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
    # Not someone the chapter had in view when the newcomer came: "stumbled against a tall
    # man … “Hah!” cried the man … said Oliver" does not make Oliver the man.
    waiting = [
        p
        for p in recent
        if p.startswith(PLACEHOLDER)
        and p not in names
        and speaker not in resolver.known_then.get(p, set())
    ]
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
PLACEHOLDER = "?"  # prefix of a speaker known only by description, until a name turns up


_GROWN_UPS = wordset("man gentleman woman lady")
_CHILD_NOUNS = wordset("child girl boy")
_SUBJECT_FORM = {"his": "he", "her": "she"}


def _unpossessive(name: str) -> str:
    return re.sub(r"['\u2019]s$", "", name)


_SINGLED_OUT = re.compile(r"\s+(?:in|with)\s+the\s")
# Nouns of people besides those that tell a gender and the trades: "a looker-on".
_PERSON_WORDS = wordset(
    "female person stranger looker-on bystander passer-by child creature deputy apprentice "
    "assistant pupil"
)
# Person nouns are often made so ("carpenter", "visitor", "countryman", "servant") ...
_PERSON_ENDINGS = ("er", "or", "ist", "man", "woman", "ant", "ent", "ian")
# ... but not these.
_NOT_PERSON_NOUNS = wordset(
    "manner corner number matter order power paper letter answer whisper murmur voice moment "
    "moments silence tone accent comment argument document instant element fragment"
)


_TITLE_REACH = 6  # paragraphs back in which a title alone finds its bearer
_ORDINALS = wordset("second third fourth fifth sixth")
_SINGULAR = {"men": "man", "women": "woman", "gentlemen": "gentleman", "children": "child"}


def _is_office(noun: str) -> bool:
    """An office or trade, alone or as a compound's last part ("the station-master")."""
    return noun in OCCUPATIONS or noun.rsplit("-", 1)[-1] in OCCUPATIONS


def _is_person_noun(word: str) -> bool:
    """Is the head noun of an indefinite description a person ("a grinning countryman"), not
    a voice or a while ("said a voice", "after a few moments added")?"""
    if word in _NOT_PERSON_NOUNS:
        return False
    return (
        word in NOUN_GENDER
        or word in OCCUPATIONS
        or word in _PERSON_WORDS
        or word.endswith(_PERSON_ENDINGS)
    )


# Kin a tag may call a speaker by: the gender, and the title that one of a family goes by.
_KIN: dict[str, tuple[str, str]] = {
    "husband": ("male", "Mr."),
    "father": ("male", "Mr."),
    "brother": ("male", ""),
    "son": ("male", ""),
    "uncle": ("male", ""),
    "wife": ("female", "Mrs."),
    "mother": ("female", "Mrs."),
    "sister": ("female", ""),
    "daughter": ("female", ""),
    "aunt": ("female", ""),
}
_DESCRIBED_REACH = 20  # turns of the scene back in which a description may mean the same one


def _description_key(desc: str) -> str:
    """A description as the same person would be described again: "the old gentleman", not
    "a"/"another" (somebody new each time) nor "the other" (whoever did not speak last)."""
    words = desc.lower().split()
    if not words or words[0] != "the" or words[-1] in ("other", "latter", "former"):
        return ""
    return " ".join(words)


_TITLE_NOUNS = {"dr": "doctor", "rev": "reverend", "prof": "professor", "capt": "captain"}


def _title_holders(characters: CharacterList) -> dict[str, str]:
    """Title -> the one person of the cast who bears it ("Doctor Grey", "Inspector Jones"), so
    that "said the inspector" names him; a title two people bear names neither."""
    holders: dict[str, set[str]] = {}
    for c in characters.characters:
        for alias in c.aliases:
            first = alias.split()[0].rstrip(".").lower() if " " in alias else ""
            title = _TITLE_NOUNS.get(first, first)
            if title in TITLES and title not in _FAMILY_TITLES:
                holders.setdefault(title, set()).add(c.name)
    return {t: next(iter(names)) for t, names in holders.items() if len(names) == 1}


# Titles too common to single anyone out ("the lady", "the master" may be anybody).
_FAMILY_TITLES = wordset("mr mrs miss ms mister master lady lord sir madam madame dame mistress")


class _Resolver:
    def __init__(self, characters: CharacterList) -> None:
        self.characters = characters
        self.narrator = characters.narrator or "Narrator"
        self.newcomers: dict[str, str] = {}  # placeholder -> gender
        self.known_then: dict[str, set[str]] = {}  # placeholder -> who was in view as they came
        self.by_title = _title_holders(characters)
        self.roles = characters.roles  # occupation -> who holds it ("the beadle")
        # "the old gentleman" -> whom the chapter's last tag of that description meant
        self.described_as: dict[str, str] = {}
        self.strangers: dict[str, str] = {}  # "The grinning countryman" -> gender, if told
        self.seen: set[str] = set()  # everyone the chapter has named or heard so far
        self.chapter: Chapter | None = None  # the chapter being attributed
        self._in_chapter: set[str] | None = None  # everyone it names, anywhere (`in_chapter`)
        self.voices: set[str] = set()  # whom the chapter's speech tags name (`_tagged_voices`)
        self.basis = ""  # what resolved the last pronoun ("narration0", "exchange" ...), to measure
        self.after_speech = False  # the narration in view starts where the last speech ended

    def gender(self, name: str) -> str:
        if name.startswith(PLACEHOLDER):
            return self.newcomers.get(name, "")
        if name in self.strangers:
            return self.strangers[name]
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
        self.known_then[name] = set(self.seen)
        return name

    def in_chapter(self) -> set[str]:
        """Everyone the chapter names anywhere: the book's one doctor may be "the doctor"
        before the chapter gives his name. Read once, when first asked."""
        if self._in_chapter is None:
            blocks = self.chapter.blocks if self.chapter is not None else []
            self._in_chapter = {n for b in blocks for n in self.mentions(b.text)}
        return self._in_chapter

    def resolve(self, form: str) -> str | None:
        """The character `form` names here. A title and a surname shared by father and son
        ("Mr. Emerson") name the son when the chapter has named him (George) and not the
        father: others call the son so when the father is not there."""
        c = self.characters.resolve(form)
        if c is None:
            return None
        # Only "Mr.": "Mrs. Honeychurch" is never her daughter, "Miss Bennet" the eldest only.
        if c.name not in self.voices and form.split()[0].rstrip(".").lower() in ("mr", "mister"):
            other = self.characters.namesake(form, c)
            if other is not None and other.name in self.voices:
                return other.name
        return c.name

    def canonical(self, form: str) -> str:
        return self.resolve(form) or form

    def name(self, raw: str) -> str | None:
        words = raw.split()
        if words and words[0].lower() in ("the", "a", "an"):
            words = words[1:]
        while len(words) > 1 and words[0].islower():
            words = words[1:]  # "sleepy Noah"
        if not words or words[0].lower() in _NOT_SUBJECT_NAMES:
            return None
        name = " ".join(words)
        if (found := self.resolve(name)) is not None:
            return found
        # Not a known character: believe it only with a title ("Inspector Gregson").
        name = _unpossessive(name)
        return name if words[0].rstrip(".").lower() in TITLES and len(words) > 1 else None

    def titled(self, title: str, q: Quotation) -> str | None:
        """ "muttered Mlle. under her breath": a title alone names whoever the paragraphs just
        before called by it ("she turned to Mlle. Blanche")."""
        bare = title.rstrip(".")
        if " " in bare or bare.lower() not in TITLES or self.chapter is None:
            return None
        blocks = self.chapter.blocks[max(0, q.block_index - _TITLE_REACH) : q.block_index]
        context = " ".join([*(b.text for b in blocks), q.before])
        called = rf"\b{re.escape(bare)}\.?\s+[A-Z][\w'\u2019-]+"
        for m in reversed(list(re.finditer(called, context))):
            if (found := self.resolve(_unpossessive(m.group()))) is not None:
                return found
        return None

    def mentions(
        self, text: str, subjects_first: bool = False, subjects_only: bool = False
    ) -> list[str]:
        """Characters named in narration, in order (the first-person narrator as "I"). With
        `subjects_first`, those that stand as a subject come before those governed by a
        preposition or a possessive ("turning to Tom, she said": Tom is no one's "she")."""
        out: list[str] = []
        governed: list[str] = []
        for m in re.finditer(rf"{NAME_RE.pattern}|\bI\b", text):
            name = self._mention(m.group())
            if name is None:
                continue
            if (
                subjects_first
                and m.group().endswith(("'s", "\u2019s"))
                and not _BODY_AFTER.match(text, m.end())
            ):
                continue  # "Mr. Beebe's books": their things, not them, are in the scene
            if (subjects_first or subjects_only) and (
                _governed(text[: m.start()])
                or _OBJECT_BEFORE.search(text, 0, m.start())
                or m.group().endswith(("'s", "\u2019s"))
            ):
                governed.append(name)
            else:
                out.append(name)
        return out if subjects_only else out + governed

    def mentions_alone(self, text: str) -> list[str]:
        """`mentions`, less those a sentence names only in a plural ("Holmes and Jones sat
        listening"): listeners, more likely than not."""
        out: list[str] = []
        for sentence in _SENTENCES.split(text):
            together = self._coordinated(sentence)
            out += [n for n in self.mentions(sentence) if n not in together]
        return out

    def _mention(self, form: str) -> str | None:
        if form == "I":
            return self.narrator
        if (found := self.resolve(form)) is not None:
            return found
        if form.split()[0].rstrip(".").lower() in TITLES and " " in form:
            return _unpossessive(form)  # "Mr. Jabez Wilson", met the first time
        return None

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

        not_me = {self.canonical(n) for n in spoken_to}

        def fits(name: str) -> bool:
            g = self.gender(name)
            return (
                name != self.narrator
                and (not gender or not g or g == gender)
                and self.characters.canonical(name) not in not_me
            )

        last = history[-1] if history else None
        if not context.strip():
            for name in addressed:
                if name != last and fits(name) and self.gender(name):
                    self.basis = "addressed"
                    return name
            for name in reversed(history):
                if name != last and fits(name):
                    self.basis = "other party"
                    return name
            self.basis = "same speaker"
            return last if last and fits(last) else None
        # Clauses after a semicolon count as sentences: "Tom left; but Sam stayed. He said"
        # means Sam.
        sentences = [c for s in _SENTENCES.split(context) for c in re.split(r";\s+", s)]
        # A sentence about "her" already ("She picked up Anne's gloves") names its "she"
        # earlier: it does not count against the reach, and only its subjects may be her.
        same = re.compile(rf"^\W*(?:(?:and|but|then|yet|so)\s+)?{pron}\b", re.IGNORECASE)
        reach = _PRONOUN_REACH + sum(1 for c in sentences[-2 * _PRONOUN_REACH :] if same.match(c))
        for k, sentence in enumerate(reversed(sentences)):
            if (
                k == len(sentences) - 1
                and k < reach
                and self.after_speech
                and same.match(sentence)
                and last is not None
                and fits(last)
            ):
                # "“…” He stopped, and held out his hands": the narration's first "he" after a
                # speech is its speaker, and so is the "he" that follows it.
                self.basis = "after speech"
                return last
            if k == reach:
                # Further back, the people of the exchange come before those the narration
                # named.
                for name in reversed(history[-4:]):
                    if fits(name):
                        self.basis = "exchange"
                        return name
            names = (
                self.mentions(sentence, subjects_only=True)
                if same.match(sentence)
                else self.mentions(sentence, subjects_first=True)
            )
            together = self._coordinated(sentence)
            for name in names:
                if fits(name) and name not in together:
                    self.basis = f"narration{min(k, 2)}"
                    return name
        if len(sentences) <= reach:
            for name in reversed(history[-4:]):
                if fits(name):
                    self.basis = "exchange"
                    return name
        for name in reversed(history):
            if fits(name):
                self.basis = "history"
                return name
        # Nobody of the exchange fits: someone the narration has just brought in by description
        # ("A tall man entered …"). Only now: the people already in view are far likelier.
        self.basis = "newcomer"
        return self.newcomer(context, gender)

    def _coordinated(self, sentence: str) -> set[str]:
        """Those the sentence names only as part of a plural ("Holmes and Jones sat"): no
        one's "he" or "she"."""
        joined = re.compile(rf"(?:{NAME_RE.pattern}|\bI\b|\b[Hh]e\b|\b[Ss]he\b)")
        alone: set[str] = set()
        together: set[str] = set()
        for m in re.finditer(NAME_RE.pattern, sentence):
            name = self._mention(m.group())
            if name is None:
                continue
            after = re.match(r",?\s+and\s+", sentence[m.end() :])
            before = re.search(r",?\s+and\s+$", sentence[: m.start()])
            if (after and joined.match(sentence, m.end() + after.end())) or (
                before and re.search(rf"(?:{joined.pattern}),?\s+and\s+$", sentence[: m.start()])
            ):
                together.add(name)
            else:
                alone.add(name)
        return together - alone

    def known_as(self, desc: str) -> str | None:
        """Who a description names outright: the one person of the cast with that title ("the
        doctor"), the one the narration gives that office ("Mr. Grey, the beadle"), else,
        for an office or a description that singles someone out ("the turnkey", "the man in
        the grey coat"), somebody the cast does not list, called so."""
        words = desc.lower().split()
        if words[0] in ("a", "an") and _is_person_noun(words[-1]):
            return self._stranger(words[1:])
        if words[:3] == ["one", "of", "the"] and len(words) > 3:
            # "inquired one of the magistrates": one of them, met here
            one = _SINGULAR.get(words[-1], words[-1].removesuffix("s"))
            if _is_person_noun(one):
                return self._stranger([*words[3:-1], one])
        if words[0] != "the":
            return None
        if _SINGLED_OUT.search(desc):
            return desc[0].upper() + desc[1:]
        noun = words[-1]
        if len(words) <= 3 and (holder := self._office_holder(noun)):
            if holder in self.seen or holder in self.in_chapter():
                return holder
            # The book's one Doctor Grey is nowhere in this chapter: another doctor, met here.
            return " ".join(words).capitalize()
        # "the turnkey", "the game-keeper" (a compound's last part names the trade)
        if noun in FUNCTIONARIES or noun.rsplit("-", 1)[-1] in FUNCTIONARIES:
            return " ".join(words).capitalize()
        return None

    def _office_holder(self, noun: str) -> str | None:
        """The cast's holder of an office, under its name or another for the same office: the
        book's Doctor Losberne is "the surgeon" too."""
        for office in (noun, *_SAME_OFFICE.get(noun, ())):
            if holder := self.by_title.get(office) or self.roles.get(office):
                return holder
        return None

    def relative(
        self,
        desc: str,
        history: Sequence[str],
        spoken_to: Sequence[str] = (),
        context: str = "",
    ) -> str | None:
        """ "said her husband", "replied his father": the one person of the cast of that kin's
        gender and family name, kin of someone just named in the narration ("Mr. Grey came in.
        His wife … said") or in the exchange (the last speakers first, then whom the quotation
        speaks to) of the possessive's gender."""
        words = desc.lower().split()
        if len(words) != 2 or words[0] not in ("his", "her") or words[1] not in _KIN:
            return None
        gender = "male" if words[0] == "his" else "female"
        recent = " ".join(_SENTENCES.split(context.strip())[-2:]) if context.strip() else ""
        named = list(reversed(self.mentions(recent, subjects_only=True)))
        for person in [*named, *reversed(history[-3:]), *spoken_to]:
            if self.gender(person) == gender and (kin := self._kin(person, words[1])):
                return kin
        return None

    def _kin(self, person: str, relation: str) -> str | None:
        """The one character of the person's family name who can be that relation: for a
        husband, wife, father or mother, the one called by the title and the family name alone
        ("Mr. Grey" for Mrs. Grey's husband or Ann Grey's father)."""
        me = self.characters.resolve(person)
        if me is None or len(me.name.split()) < 2:
            return None  # no family name to go by
        surname = me.name.split()[-1].lower()
        gender, title = _KIN[relation]
        family = [
            c
            for c in self.characters.characters
            if c is not me
            and c.gender == gender
            and any(
                a.lower() == f"{title.lower()} {surname}"
                if title
                else a.split()[-1].lower() == surname
                for a in c.aliases
            )
        ]
        return family[0].name if len(family) == 1 else None

    def _stranger(self, words: Sequence[str]) -> str:
        """ "said a sleepy-faced carpenter": somebody new, whom the tag introduces and the cast
        does not list; called by that description, and meant again by "the carpenter" while
        the exchange lasts."""
        name = "The " + " ".join(words)
        self.strangers[name] = NOUN_GENDER.get(words[-1], "")
        for k in range(len(words)):  # "the ugly hump-backed man", "the hump-backed man", …
            self.described_as["the " + " ".join(words[k:])] = name
        return name

    def described(
        self, desc: str, context: str, history: list[str], spoken_to: Sequence[str] = ()
    ) -> str | None:
        """Who a description in a tag means (see `_described`); the same description again in
        the same exchange ("said the old gentleman" twice, with talk between) is the same
        person, even when the narration names someone else in between."""
        key = _description_key(desc)
        earlier = self.described_as.get(key)
        not_me = {self.canonical(n) for n in spoken_to}
        if (
            earlier is not None
            and earlier in history[-_DESCRIBED_REACH:]
            and self.characters.canonical(earlier) not in not_me
            and (earlier != history[-1] or context.strip())
        ):
            return earlier
        found = self._described(desc, context, history, spoken_to)
        if found is not None and key:
            self.described_as[key] = found
        return found

    def _described(
        self, desc: str, context: str, history: list[str], spoken_to: Sequence[str] = ()
    ) -> str | None:
        """ "said the old man", "returned the matron": a tag like this nearly always marks a
        change of speaker, so someone other than the last one: the person of the noun's gender
        the narration named last, else from the exchange; "rejoined the other" is the other
        party. Nobody fitting: the description itself speaks ("The Driver")."""
        words = _SINGLED_OUT.split(desc.lower())[0].split()
        noun = words[-1]
        if words[0] in ("a", "an", "another", "one"):
            return None  # somebody new, whom the cast does not know
        if noun == "other":
            return self.descriptor(history)
        if len(words) == 2 and noun in _ORDINALS and (kind := _first_of_kind(history)):
            # "said the first housemaid. … said the second": the second housemaid
            return self._stranger([noun, kind])
        gender = NOUN_GENDER.get(noun, "")
        held = words[0] == "the" and "'s" in desc.replace("\u2019", "'")
        if not gender and held and _is_person_noun(noun):
            # "said the apothecary's deputy": a post held for someone, whom only it names
            return self._stranger(words[1:])
        last = history[-1] if history else None
        not_me = {self.characters.canonical(n) for n in spoken_to}
        # "the old gentleman", "the woman": a grown-up, not one of the book's children
        young = self.characters.young if _grown_up(desc) else set()

        def fits(name: str) -> bool:
            g = self.gender(name)
            return (
                name not in (self.narrator, last)
                and name not in self.strangers  # whom only their own description means
                and (not gender or not g or g == gender)
                and self.characters.canonical(name) not in not_me
                and self.characters.canonical(name) not in young
            )

        if noun in _CHILD_NOUNS and (child := self._child(gender, context, history, not_me)):
            return child
        # "A tall man wrapped in a cloak … ‘Hah!’ cried the man": the one just brought in.
        if (new := self.newcomer(context, gender)) is not None and new.endswith(f" {noun}"):
            return new
        if gender:
            for sentence in reversed(_SENTENCES.split(context)):
                for name in self.mentions(sentence, subjects_first=True):
                    if fits(name):
                        return name
        for name in reversed(history):
            if fits(name) and (gender or name.startswith(PLACEHOLDER)):
                return name
        if not gender:
            if words[0] == "the" and _is_office(noun):
                # "said the surgeon": someone of the exchange who is not a child, else
                # whoever holds the post in this scene, met here.
                young = self.characters.young
                grown = [n for n in history if self.characters.canonical(n) not in young]
                found = self.descriptor(grown)
                return found if found is not None else self._stranger(words[1:])
            if words[0] == "the" and _is_person_noun(noun) and _brought_on(context, noun):
                # "… to the aged pauper who opened it. “Why!” said the old pauper": the one
                # the narration has just brought on, no one of the exchange.
                return self._stranger(words[1:])
            return self.descriptor(history)
        if _introduces(context, words):
            # "The master was a fat, healthy man … “What!” said the master": nobody else
            # fits, and the narration has brought him on by that description.
            return self._stranger(words[1:])
        for name in reversed(history):
            if (
                name not in self.strangers
                and name != self.narrator
                and self.gender(name) in ("", gender)
                and self.characters.canonical(name) not in young
            ):
                return name
        return None

    def _child(self, gender: str, context: str, history: list[str], not_me: set[str]) -> str | None:
        """ "the child responded": one of the book's children, the one the narration or the
        exchange has in view, else the book's one child of that gender by far (a child
        heroine is "the child" before the chapter tells her name)."""
        last = history[-1] if history else None

        def fits(name: str) -> bool:
            c = self.characters.canonical(name)
            g = self.gender(name)
            return (
                c in self.characters.young
                and name != last
                and c not in not_me
                and (not gender or not g or g == gender)
            )

        for name in [*self.mentions(context), *history][::-1]:
            if fits(name):
                return name
        counts = sorted((c.count, c.name) for c in self.characters.characters if fits(c.name))[::-1]
        if counts and (len(counts) == 1 or counts[0][0] >= 3 * counts[1][0]):
            return counts[0][1]
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


def _introduces(context: str, words: Sequence[str]) -> bool:
    """Does a sentence of the narration open with the description as its subject ("The master
    was a fat, healthy man")?"""
    if len(words) < 2 or words[0] != "the" or words[-1] in _GROWN_UPS | _CHILD_NOUNS:
        return False  # "the girl", "the old gentleman" may well be someone the cast knows
    opening = re.compile(rf"^The\s+{re.escape(' '.join(words[1:]))}\s+[a-z]", re.IGNORECASE)
    return any(opening.match(s) for s in _SENTENCES.split(context.strip()))


def _brought_on(context: str, noun: str) -> bool:
    """Does the narration's last sentences speak of somebody by the noun ("the aged pauper")?"""
    recent = " ".join(_SENTENCES.split(context.strip())[-3:])
    called = rf"\b(?:the|a|an)\s+(?:[a-z\-]+\s+){{0,2}}{re.escape(noun)}\b"
    return re.search(called, recent, re.IGNORECASE) is not None


def _first_of_kind(history: Sequence[str]) -> str | None:
    """The kind of the latest speaker of the exchange called "the first" of it ("The first
    housemaid"), if any."""
    for name in reversed(history[-_DESCRIBED_REACH:]):
        parts = name.split()
        if len(parts) >= 3 and parts[0] == "The" and parts[1].lower() == "first":
            return " ".join(parts[2:])
    return None


def _untagged(after: str) -> str:
    """The narration after a quotation without its speech tag: "said Harriet, smiling." names
    the speaker just gone, not someone a later "she said" could mean."""
    if _TAG_AFTER_VS.match(after) or _TAG_AFTER_SV.match(after):
        parts = _SENTENCES.split(after.strip(), maxsplit=1)
        return parts[1] if len(parts) > 1 else ""
    return after


_TO_WHOM = re.compile(rf"^\W*\w+\s+(?:\w+\s+)?(?:\w+ly\s+)?to\s+(?P<name>{NAME_RE.pattern})")


def _find_tag(
    q: Quotation, before_narration: str, person: Callable[[str], bool] | None = None
) -> re.Match[str] | None:
    after = q.after
    m = (
        _TAG_AFTER_VS.match(after)
        or _TAG_AFTER_SV.match(after)
        or _TAG_WAS_ANSWER.match(after)
        or _TAG_WAS_ANSWER_OF.match(after)
    )
    if m is None and q.text.rstrip("\"'\u201d\u2019 ").endswith(","):
        # "“Yes, I know,” nodded the doctor": after a comma that leaves the sentence open, a
        # verb in the past before its subject is the tag, whichever verb it is.
        m = _TAG_AFTER_ANY_VS.match(after)
    if m is not None:
        return m
    before = q.before
    if not before.strip():
        # A paragraph of narration that ends "… and said:" speaks the quotation after it.
        before = q.lead
    if before.rstrip().endswith((",", ":", "-", "\u2014")) or not before.strip():
        return (
            _TAG_BEFORE_VS.search(before)
            or _TAG_BEFORE_SV.search(before)
            or _TAG_WORDS_WERE.search(before)
            or _TAG_NOUN_OF.search(before)
            or _clause_tag(before, person)
        )
    if before.rstrip().endswith("."):
        return _cleft(before)
    return None


def _cleft(narration: str) -> re.Match[str] | None:
    """A sentence just before the words that names who speaks them, though it ends in a full
    stop: a cleft ("Gilbert it was who spoke up.") or someone heard at it."""
    return next((m for r in (*_TAG_CLEFTS, _TAG_HEARD) if (m := r.search(narration))), None)


def _clause_tag(before: str, person: Callable[[str], bool] | None = None) -> re.Match[str] | None:
    """The subject of the last clause's speech verb in narration that leads into a quotation
    (it ends in a comma, colon or dash): "Then Mrs. Grey opened the door and said:", "Tom,
    seeing his chance, added:". The match is `_SUBJECT_RE`'s over that subject alone."""
    text = before.rstrip()
    if not text or text[-1] not in ",:-\u2014\u2013":
        return None
    clause = _CLAUSES.split(text)[-1].rstrip(",:-\u2014\u2013 ")
    verb = _last_speech_verb(clause)
    if verb is None and not text.endswith(":") and not _HANDS_OVER.search(clause):
        return None
    # No speech verb but a colon: "She rapped out:", "He cut her short with:" still hand the
    # floor to the clause's subject.
    head = clause[:verb].rstrip() if verb is not None else clause
    subject = None
    if head.endswith(","):
        # "Tom, seeing his chance, added": the words between the commas are an aside.
        cut = head[:-1].rfind(",")
        subject = _last_subject(head[:cut], person) if cut >= 0 else None
    subject = subject or _last_subject(head, person)
    if subject is None and text.endswith(":"):
        # "A few days later, when Ann came to Tom with a parcel, she thus began:" without the
        # "she": the one person the sentence brings on is the one who speaks.
        found = _subjects(head, person, subordinate=True)
        subject = found[0] if len(set(found)) == 1 else None
    if subject is None and (
        (verb is not None and _COORDINATED.match(clause)) or _PARTICIPIAL.match(clause)
    ):
        # "His wife looked up; and, turning round, added:", "Tom told them of the snow;
        # concluding with these words:": the last subject before the clause goes on ("…; Mrs.
        # Grey agreed; but added, that she …" is hers).
        sentence = _SENTENCES.split(text)[-1]
        subjects = _subjects(sentence[: len(sentence) - len(clause) - 1], person)
        subject = subjects[-1] if subjects else None
    if subject and subject.split()[0] in _CAPITAL_DETERMINERS:
        # "His wife gave him a look; and … added,": the description opens its sentence.
        subject = subject[0].lower() + subject[1:]
    return _SUBJECT_RE.fullmatch(subject) if subject else None


_CAPITAL_DETERMINERS = frozenset(["The", "His", "Her", "Their", "My", "Our", "This", "That"])


def _last_speech_verb(clause: str) -> int | None:
    """Where the clause's last speech verb starts, when only an adverbial follows it ("said in
    a low voice to Anne", "observing, as she passed,")."""
    found = None
    for m in _CLAUSE_VERB.finditer(clause):
        if m.group() in _PARTICLE_VERBS and not _PARTICLE.match(clause, m.end()):
            continue
        tail = _TAIL_ASIDE.sub(" ", _TAIL_ADDRESSEE.sub(" ", clause[m.end() :]))
        # "added, in a tone guarded and demure": two words of manner, no new clause.
        tail = _TAIL_PAIR.sub(" ", tail)
        if len(tail.split()) <= _TAIL_WORDS and not _TAIL_STOP.search(tail):
            found = m.start()
    return found


def _last_subject(head: str, person: Callable[[str], bool] | None = None) -> str | None:
    subjects = _subjects(head, person)
    return subjects[-1] if subjects else None


def _subjects(
    text: str, person: Callable[[str], bool] | None = None, *, subordinate: bool = False
) -> list[str]:
    """The names, personal pronouns and descriptions of people in the text that may be a
    subject: none governed by a preposition ("looked at Anne") or a possessive ("Anne's"),
    and with `person`, no name it does not know ("Dinner was on table"); with `subordinate`,
    the subjects of clauses a comma closes too ("when Tom came in, …")."""
    out: list[str] = []
    covered = 0  # where the last name read ends: "Then Mrs. Grey" is not also "Grey"
    for m in _CLAUSE_SUBJECT.finditer(text):
        start, form = m.start(), m.group()
        if start < covered:
            continue
        words = form.split()
        while words and words[0].lower() in _NOT_A_NAME:
            # "When Mr. Grey": the conjunction is no part of the name; read on from there.
            start = text.index(words[1], start + len(words[0])) if len(words) > 1 else m.end()
            words = words[1:]
        if words and m.group("pron") is None and m.group("desc") is None:
            rest = NAME_RE.match(text, start)
            words = rest.group().split() if rest else words
            covered = rest.end() if rest else m.end()
        if not words:
            continue
        possessive = words[-1].endswith(("'s", "\u2019s"))
        gerund = possessive and _GERUND_AFTER.match(text, start + len(" ".join(words)))
        if not gerund and _governed(text[:start]):
            continue
        if not subordinate and _subordinate(text[:start]) and _closed_by_comma(text[start:]):
            # "When Tom had gone, Ann said", "asking her how she did, … to say": the subject of
            # a clause the comma has closed.
            continue
        if possessive:
            if not gerund:
                continue  # "Anne's braid"
            # "without Mr. Grey's giving a sigh, and saying": the gerund's subject, whatever
            # governs it
            words[-1] = words[-1][:-2]
        plain = m.group("pron") is None and m.group("desc") is None
        if plain and person is not None and not person(" ".join(words)):
            continue
        out.append(" ".join(words))
    return out


# "Mr. Grey's giving": a possessive before a gerund is its subject; not before these nouns.
_GERUND_AFTER = re.compile(
    r"\s+(?!(?:morning|evening|wedding|building|feelings?|darling|clothing|painting|drawing"
    r"|writing|meaning|sitting|dining|being|ring|thing|king|wing|spring|string|lodging|offspring"
    r"|stocking|bedding|pudding|sibling|earnings|savings|belongings|surroundings)\b)[a-z]+ing\b"
)
_COORDINATED = re.compile(r"\W*(?:and|but|then|yet)\b")
_PARTICIPIAL = re.compile(r"\W*[a-z]+ing\b")
# "at last Miss Grey", "in reply Tom": a set phrase, no preposition governing the name after it.
_ADVERBIAL_BEFORE = re.compile(
    r"\b(?:at\s+(?:last|length|once|first|least|times)|in\s+(?:turn|short|fact|return|reply)"
    r"|of\s+course|after\s+all|by\s+and\s+by)\s*,?\s*$"
    # "--for Mr. Grey knew": "for" after a dash or a semicolon is a conjunction
    r"|(?:[;\u2014]|--)\s*for\s+$",
    re.IGNORECASE,
)
# "after which Tom", "upon which Ann": the relative goes on with the story ("and then"), its
# subject is the main one.
_RELATIVE_AS_THEN = re.compile(
    r"\b(?:after|upon|on|at|whereupon|with)\s+(?:which|whom|this|that)\s+$", re.IGNORECASE
)


# "Tom's face fell": a person whose face or hand the narration shows is there.
_BODY_AFTER = re.compile(
    r"\s+(?:\w+\s+)?(?:face|eyes?|hands?|head|lips|mouth|voice|brow|cheeks?|arms?|shoulders?"
    r"|heart|look|glance|tone|smile|expression|features|countenance)\b"
)


# "getting Harriet into the house", "kissed Ann", "as Tom described it": a name straight after
# a verb is its object, and one after "as" the subject of an aside; neither is the "she" of
# what follows.
_OBJECT_BEFORE = re.compile(r"(?:\b[a-z]{2,}(?:ing|ed)|\b[Aa]s)\s+$")


def _governed(before: str) -> bool:
    """Does the text before a name end in a preposition or a possessive that governs it?"""
    if _ADVERBIAL_BEFORE.search(before) or _RELATIVE_AS_THEN.search(before):
        return False
    return bool(_PREPOSITION_BEFORE.search(before))


# ", by saying", ", smiling,": a participle after the comma still has the clause's subject.
# (A tag's head ends where its verb was cut off: ", by" before "saying".)
_PARTICIPLE_AFTER = re.compile(
    r",\s*(?:(?:by|in|on|while|after)\s*$|(?:(?:by|in|on|while|after)\s+)?[a-z]+ing\b[^,]*,?\s*$)"
)


def _closed_by_comma(rest: str) -> bool:
    """Does a comma close the clause that begins `rest` before the main clause goes on ("when
    Tom had gone, Ann said"), not just before its own participle ("when Tom cut in, saying")?"""
    comma = rest.find(",")
    return comma >= 0 and not _PARTICIPLE_AFTER.match(rest, comma)


def _subordinate(before: str) -> bool:
    """Does the text before a name open a subordinate clause ("when Tom", "that Ann")?"""
    return bool(_SUBORDINATE_BEFORE.search(before)) and not _RELATIVE_AS_THEN.search(before)


_SUBORDINATE_BEFORE = re.compile(
    r"\b(?:how|what|why|whether|if|that|who|whom|which|when|where|though|although|because|"
    r"while|whilst|since|till|until|unless|lest|before|after)\s+$",
    re.IGNORECASE,
)


def _tagged_voices(quotes: Sequence[Quotation], characters: CharacterList) -> set[str]:
    """Who speaks in the chapter by a tag's name, taking "Mr. Emerson" at its face."""
    out: set[str] = set()
    for q in quotes:
        m = _find_tag(q, "", lambda n: characters.resolve(n) is not None)
        if m is not None and m.group("name") and (c := characters.resolve(m.group("name"))):
            out.add(c.name)
    return out


def _attribute_turn(
    turn: _Turn,
    resolver: _Resolver,
    history: list[str],
    corrections: Mapping[str, str],
    context: str,
    prev_addressed: Sequence[str] = (),
) -> None:
    # Explicit tags, quotation by quotation.
    resolver.seen.update(resolver.mentions(context), history[-1:])
    for q in turn.quotes:
        if q.key in corrections:
            q.speaker, q.confidence, q.method, q.tagged = corrections[q.key], 1.0, "corrected", True
            continue
        m = _find_tag(q, turn.narration_before, lambda n: resolver.name(n) is not None)
        if m is None and q is turn.quotes[0] and not q.before.strip() and not q.lead.strip():
            # the narration before ends the paragraph of a quotation: "“Carrots!” … Gilbert it
            # was who spoke up."
            m = _cleft(context)
        if m is None or (q.block_index != turn.block_index and _retold(m, turn)):
            continue
        speaker: str | None = None
        confidence = CONF_NAMED_TAG
        method = "tag"
        if m.group("name"):
            speaker = resolver.name(m.group("name")) or resolver.titled(m.group("name"), q)
        elif m.group("pron"):
            own = q.before if q is not turn.quotes[0] else ""
            speaker = resolver.pronoun(
                m.group("pron"), _with_own(context, own), history, prev_addressed, _spoken_to(q)
            )
            if m.group("pron").lower() not in ("i", "we"):
                confidence, method = CONF_PRONOUN_TAG, "pronoun"
        elif (holder := resolver.known_as(m.group("desc"))) is not None:
            speaker = holder  # "said the inspector", "said the turnkey": as good as a name
        elif (
            kin := resolver.relative(
                m.group("desc"), history, _spoken_to(q), f"{context} {q.before}"
            )
        ) is not None:
            speaker = kin  # "said her husband" after Mrs. Grey spoke: Mr. Grey
        elif m.group("desc"):
            own = q.before if q is not turn.quotes[0] else ""
            speaker = resolver.described(
                m.group("desc"), _with_own(context, own), history, _spoken_to(q)
            )
            confidence, method = CONF_DESCRIPTOR, "descriptor"
            if speaker in resolver.strangers:
                # "the hump-backed man" after "said a little hump-backed man": called so
                confidence, method = CONF_NAMED_TAG, "tag"
        if speaker:
            q.speaker, q.confidence, q.method = speaker, confidence, method
        q.tagged = True
    known = [q for q in turn.quotes if q.speaker]
    first = turn.quotes[0]
    if not known and first.continues and history:
        for q in turn.quotes:
            q.speaker, q.confidence, q.method = history[-1], CONF_CONTINUES, "continues"
        return
    if not known and _embedded(first):
        _attribute_embedded(turn, resolver, history, context)
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


def _with_own(context: str, own: str) -> str:
    """The narration before a quotation and the tag between it and the one before, with the
    quotation's place kept: "… Toby Crackit. “Now,” said Fagin, “…,” he said" is Fagin."""
    return f"{context} \u201c\u201d{own}" if own.strip() else context


def _attribute_embedded(turn: _Turn, resolver: _Resolver, history: list[str], context: str) -> None:
    """Words the narration quotes in passing, each by the subject of its own sentence."""
    speaker = None
    for k, q in enumerate(turn.quotes):
        if k == 0 or _embedded(q):
            before = turn.narration_before if k == 0 else q.before
            speaker = (
                _speaking_subject(before, resolver, history, f"{context} {before}")
                or _narration_subject(before, resolver, history, f"{context} {before}")
                or speaker
            )
        elif q.before.strip():
            # "…--But Mrs. Grey was much discomposed.--“Poor Tom!”": the narration between
            # hands the words to whom it names.
            last = _SENTENCES.split(q.before.strip())[-1]
            named = _subjects(last, lambda n: resolver.name(n) is not None)
            if named and (m := _SUBJECT_RE.fullmatch(named[0])) is not None and m.group("name"):
                speaker = resolver.name(m.group("name")) or speaker
        if speaker is not None:
            q.speaker, q.confidence, q.method = speaker, CONF_EMBEDDED, "embedded"


_POSSESSIVE_END = re.compile(r"\b(his|her)\s+$", re.IGNORECASE)


def _speaking_subject(
    narration: str, resolver: _Resolver, history: list[str], context: str
) -> str | None:
    """The subject of the last speech verb of the sentence that quotes: "Miss Grey had asked
    him his trade, and he had answered “the railway.”" is his."""
    last = _SENTENCES.split(narration.strip())[-1]
    verbs = list(_CLAUSE_VERB.finditer(last))
    if not verbs:
        return None
    head = last[: verbs[-1].start()]
    if (own := _POSSESSIVE_END.search(head)) is not None:
        # "satisfied with his muttering acknowledgment of it being “very cold”": his words
        pron = _SUBJECT_FORM[own.group(1).lower()]
        return resolver.pronoun(pron, context, history)
    subject = _last_subject(head, lambda n: resolver.name(n) is not None)
    if subject is None:
        return None
    m = _SUBJECT_RE.fullmatch(subject)
    if m is None or m.group("desc"):
        return None
    if m.group("name"):
        return resolver.name(m.group("name"))
    return resolver.pronoun(m.group("pron"), context, history)


def _embedded(q: Quotation) -> bool:
    """Is the quotation words the narration's sentence quotes in passing ("Matthew had declared
    his conviction that she “would beat the whole Island.”"): no mark of punctuation between the
    narration and it, and it opens in lower case?"""
    before = q.before.rstrip()
    words = q.text.lstrip("\"'\u201c\u2018 ")
    return bool(before) and before[-1].isalpha() and bool(words) and words[0].islower()


def _retold(tag: re.Match[str], turn: _Turn) -> bool:
    """A tag in a later paragraph of a speech that runs on ("'Who goes there?' said I") is the
    speaker retelling a talk when it is in the first person or the speech already has its
    speaker."""
    first_person = (tag.group("pron") or "").lower() in ("i", "we")
    opening = [q for q in turn.quotes if q.block_index == turn.block_index]
    return first_person or any(q.speaker for q in opening)


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
