"""Quoted speech in written text: where each quotation starts and ends, and the narration around it.

Detection runs on the text as the importers give it (curly quotes kept), one block at a time. A
book uses one convention for its speech: double quotes (curly or straight), British single quotes
(with doubles nested inside), or em-dash dialogue. The convention is guessed from the text itself;
marks of the other kind are nested quotations or apostrophes and never split the text.

The hard case is the single quote, which is also the apostrophe: don't, o'clock, 'tis and the
Joneses' house must neither open nor close a quotation. A mark opens only at the start of a word
that is not a known elision, and closes only at the end of a word where an apostrophe would be
unlikely (after punctuation, or before punctuation or a capital, or before a speech tag).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


def wordset(text: str) -> frozenset[str]:
    """A set of words written as one string (long word lists stay readable)."""
    return frozenset(text.split())


class QuoteStyle(StrEnum):
    DOUBLE = "double"  # “…” or "…", with ‘…’ nested
    SINGLE = "single"  # ‘…’ or '…', with “…” nested (British)
    DASH = "dash"  # — a paragraph of speech opened by a dash


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one block's written text: narration, or one quotation with its marks."""

    text: str
    start: int
    end: int
    dialogue: bool
    closed: bool = True  # False: the quotation runs on past the end of its paragraph
    nested: bool = False  # a quotation inside a quotation: speech its speaker reports
    # The first part of a quotation cut around nested ones: the whole quotation's extent, by
    # which it is known (an author's correction made before it was cut still finds it).
    whole: tuple[int, int] | None = None


_DOUBLE_OPEN = "\u201c\u201e"
_DOUBLE_CLOSE = "\u201d"
_SINGLE_OPEN = "\u2018\u201a"
_SINGLE_CLOSE = "\u2019"
_DASHES = "\u2014\u2015"
# Characters after which a straight or curly quote mark opens a quotation.
_OPEN_AFTER = set("([{\u2014\u2013-/\u201c\u2018\"'")
# Words that begin with an apostrophe (a dropped letter), not with an opening quote.
_ELISIONS = wordset(
    "tis twas twere twill twould tisn em im er ee n cause cos til till bout round ave ere "
    "appen alf ow ome e un uns neath mongst gainst scuse spose"
)
SPEECH_VERBS = wordset(
    "said says say saying asked asks cried cries replied replies answered answers remarked "
    "remarks observed observes exclaimed exclaims shouted shouts whispered whispers muttered "
    "mutters murmured murmurs continued continues added adds returned returns repeated "
    "repeats began begins interrupted interposed suggested suggests explained explains "
    "protested insisted declared declares called calls groaned sobbed laughed chuckled "
    "growled snapped ejaculated inquired enquired responded retorted thought yelled screamed "
    "sighed gasped pleaded urged demanded queried roared shrieked stammered stuttered panted "
    "grumbled grunted hissed bawled moaned wailed cautioned warned agreed admitted confessed "
    "assented persisted resumed pursued concluded commented announced snarled sneered chimed "
    "went broke put rejoined rejoins ventured urged volunteered reflected mused conceded "
    "corrected objected counselled implored begged entreated whimpered faltered echoed "
    "remonstrated mourned breathed thundered commanded quavered promised assured acquiesced "
    "informed flashed sniffed proclaimed exploded questioned interjected reiterated confided "
    "scoffed puffed fumed prattled crooned simpered mumbled droned enunciated corroborated "
    "admonished quoted complained acknowledged chattered vowed advised reasoned croaked "
    "tittered wheezed hazarded screeched vociferated asseverated cooed consented asserted "
    "rebuked lamented recited whined snorted drawled lisped purred barked bellowed howled "
    "squeaked piped blurted stormed wept smiled teased taunted jeered joked coaxed soothed "
    "scolded chided reproached reminded hinted remarked predicted prompted cautioned "
    "responded argued apologized apologised accused announced rejoined reported sang "
    "shrieked bleated gurgled grinned moaned"
)
_TAG_PRONOUNS = wordset("he she i they we it you")
_WORD = re.compile(r"[^\W\d_]+")


def _is_space(ch: str) -> bool:
    return not ch or ch.isspace()


def _opens_here(text: str, i: int) -> bool:
    """Could the mark at `i` open a quotation: a word's start, not an elision?"""
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if _is_space(after):
        return False
    return _is_space(before) or before in _OPEN_AFTER


def _elided(text: str, i: int) -> bool:
    after = text[i + 1 : i + 2]
    if after.isdigit():
        return True  # 'forty-six, '46
    m = _WORD.match(text, i + 1)
    return bool(m and m.group().lower() in _ELISIONS)


def _next_is_tag(text: str, j: int) -> bool:
    """Does a speech tag ("said Alice", "she said", "Alice replied") start at `j`?"""
    words = [w.lower() for w in _WORD.findall(text[j : j + 60])[:3]]
    if not words:
        return False
    if words[0] in SPEECH_VERBS:
        return True
    return len(words) > 1 and words[0] in _TAG_PRONOUNS and words[1] in SPEECH_VERBS


def _single_closes_here(text: str, i: int) -> bool:
    """Could the single quote at `i` close a quotation rather than be an apostrophe?"""
    before = text[i - 1] if i else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if _is_space(before):
        return False
    if before.isalnum() and after.isalnum():
        return False  # don't, o'clock
    if not before.isalpha():
        return True  # after punctuation: ,' .' !' ?' —'
    if not after or (not after.isspace() and not after.isalnum()):
        return True  # before punctuation or at the end
    # A letter, then a space: "Joneses' house" or "goin' home" unless a capital or a tag follows.
    rest = text[i + 1 :].lstrip()
    return not rest or rest[0].isupper() or _next_is_tag(rest, 0)


def _straight_double_opens(text: str, i: int) -> bool:
    # A paragraph's first mark opens its speech even when a stray space follows it
    # ('" Heard a noise," said he', where a nested mark was lost); so does a spaced mark
    # later on when a partner is still to come ('said he, " but'), as marks come in pairs.
    if _opens_here(text, i) or (not text[:i].strip() and bool(text[i + 1 :].strip())):
        return True
    before = text[i - 1] if i else ""
    return _is_space(before) and _is_space(text[i + 1 : i + 2]) and text.count('"', i + 1) % 2 == 1


def split_quotes(text: str, style: QuoteStyle = QuoteStyle.DOUBLE) -> list[Segment]:
    """The block's text cut into narration and quotations, in order, covering all of it."""
    if style is QuoteStyle.DASH:
        return _split_dash(text)
    spans = _double_spans(text) if style is QuoteStyle.DOUBLE else _single_spans(text)
    out: list[Segment] = []
    pos = 0
    for start, end, closed in spans:
        if start > pos:
            out.append(Segment(text[pos:start], pos, start, False))
        for a, b, said in _without_stage_directions(text, start, end):
            parts = _nested_parts(text, a, b, style) if said else [(a, b, False)]
            whole = (a, b) if len(parts) > 1 else None
            for c, d, nested in parts:
                closes = closed if d == end else True
                out.append(
                    Segment(text[c:d], c, d, said, closes, nested, whole if c == a else None)
                )
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:], pos, len(text), False))
    return out


# "(smiling,)", "(in a low tone)", "(here she looked at the floor)": the narrator's aside in
# brackets inside a quotation tells how it is said; the speaker does not say it.
_STAGE_DIRECTION = re.compile(
    r"\((?:(?![a-z]*thing\b)[a-z]+ing\b|in\s+an?\s+(?:[a-z]+\s+){0,3}(?:tone|voice|whisper|manner)\b"
    r"|here\s+(?:he|she|they|was|were|[A-Z][a-z]+)\b)[^()]{0,100}\)"
)


def _without_stage_directions(text: str, start: int, end: int) -> list[tuple[int, int, bool]]:
    """The quotation's span cut around its stage directions: (start, end, is speech) parts."""
    parts: list[tuple[int, int, bool]] = []
    pos = start
    for m in _STAGE_DIRECTION.finditer(text, start, end):
        if text[pos : m.start()].strip(" -\u2014"):
            parts.append((pos, m.start(), True))
            parts.append((m.start(), m.end(), False))
            pos = m.end()
    parts.append((pos, end, True))
    return parts


def _nested_parts(
    text: str, start: int, end: int, style: QuoteStyle
) -> list[tuple[int, int, bool]]:
    """The quotation's span cut around the quotations nested in it ("'Oh!' said he, 'I do'"
    inside a double-quoted speech): (start, end, is nested) parts. Only nested quotations that
    close inside it count, and marks or punctuation alone join the part beside them."""
    inner = text[start:end]
    found = _single_spans(inner) if style is QuoteStyle.DOUBLE else _double_spans(inner)
    cuts = [
        (start + a, start + b)
        for a, b, closed in found
        if closed and not is_cited(text, start + a, start + b)
    ]
    if not cuts and style is QuoteStyle.DOUBLE:
        # Lost marks show at the start; elsewhere only a short inverted tag tells ("… her
        # rudder, said the foreman. There she lies").
        lost = _lost_nested_opening(text, start) or _opens_with_tag(text, start, end)
        return _parts_around_tags(text, start, end, strict=not lost)
    if not cuts:
        return [(start, end, False)]
    parts: list[tuple[int, int, bool]] = []
    pos = start
    for a, b in cuts:
        if a > pos:
            parts.append((pos, a, False))
        parts.append((a, b, True))
        pos = b
    if pos < end:
        parts.append((pos, end, False))
    merged: list[tuple[int, int, bool]] = []
    carry: int | None = None  # where a part of marks alone began, to open the next part
    for a, b, nested in parts:
        if carry is not None:
            a, carry = carry, None
        if _WORD.search(text, a, b):
            merged.append((a, b, nested))
        elif merged:  # a closing mark or a comma ends the part before
            merged[-1] = (merged[-1][0], b, merged[-1][2])
        else:
            carry = a
    if carry is not None:
        return [(start, end, False)]
    return merged


_CITED_WORDS = 4


def is_cited(text: str, a: int, b: int) -> bool:
    """Is the quoted span a title or a phrase cited in passing ("the series of 'Mediaeval
    Byways'", "going to 'do' Fiesole", 'permitted the "chatter"') rather than speech
    reported? Such a span is short and sits mid-clause: a word runs straight into it and no
    tag follows it. A single word after "say" ("say 'No'") is cited the same way: cutting it
    out of a speech gave the turn-taking a speaker too many ("say 'yes,' Mr. Knightley 'no'")."""
    if a < 2 or text[a - 1] != " " or not text[a - 2].isalpha():
        return False
    words = len(_WORD.findall(text, a, b))
    if words > _CITED_WORDS:
        return False
    if words > 1 and is_speech_verb(_WORD.findall(text, max(0, a - 20), a)[-1]):
        return False  # "the clerk said 'The League is dissolved'": words reported as said
    return not _next_is_tag(text, b)


# Where the single marks of a text were lost (turned into spaces), a told story's reported
# speech is still known by its tags: '" How can I decide? said I. You have not told me'.
_INNER_STOP = re.compile(r"[,;:!?.\u2014]['\u2019]?\s+")
_TAG_SUBJECT_WORDS = wordset("i he she we they")
_SENTENCE_END = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bDr)(?<!\bSt)[.!?]")
_CLAUSE_END = re.compile(rf"{_SENTENCE_END.pattern}|,")
_TAG_ASIDE = re.compile(r"\s*(?:as\b|[a-z]+(?:ing|ly)\b|in\s+an?\b|with\s+an?\b)")


def _lost_nested_opening(text: str, start: int) -> bool:
    """Does the quotation open with a space where a nested mark was ('" Listen to me')?"""
    return (
        text[start : start + 1] in ('"', "\u201c")
        and text[start + 1 : start + 2] == " "
        and (text[start + 2 : start + 3].isalpha())
    )


def _inner_tag_at(text: str, j: int) -> bool:
    """A speech tag of the teller's own narration starting at `j` ("said he", "I asked",
    "said the major"): a speech verb and a person, either way round."""
    words = _WORD.findall(text[j : j + 40])[:3]
    if len(words) < 2:
        return False
    first, second = words[:2]
    third = words[2].lower() if len(words) > 2 else ""
    if first.lower() in SPEECH_VERBS and first[0].islower():
        return second.lower() in _TAG_SUBJECT_WORDS or second == "the" or second[0].isupper()
    if first == "the" and third in SPEECH_VERBS:
        return True  # "the other answered"
    if first.lower() not in _TAG_SUBJECT_WORDS:
        return False
    # "he was saying"
    return second.lower() in SPEECH_VERBS or (
        second.lower() in ("was", "were") and third in SPEECH_VERBS
    )


def _tag_clause_end(text: str, j: int, end: int) -> int:
    """Where a tag that starts at `j` ends: at its comma or stop, or, when an aside follows
    the comma and ends the sentence ("said the other, slapping him upon the shoulder."), at
    that sentence's end."""
    m = _CLAUSE_END.search(text, j, end)
    if m is None:
        return end
    stop = m.end()
    if m.group() == ",":
        nxt = _SENTENCE_END.search(text, stop, end)
        if (
            nxt is not None
            and nxt.group() == "."
            and _TAG_ASIDE.match(text, stop)
            and len(text[stop : nxt.start()].split()) <= 15
        ):
            stop = nxt.end()
    while stop < end and text[stop] in "'\u2019":
        stop += 1
    return stop


def _opens_with_tag(text: str, start: int, end: int) -> bool:
    """Does the speech open with its teller's tag, a comma after it ('"I says, at first,')?"""
    if not _inner_tag_at(text, start + 1):
        return False
    clause = _CLAUSE_END.search(text, start + 1, end)
    return (
        clause is not None
        and clause.group() == ","
        and (len(text[start + 1 : clause.start()].split()) <= 3)
    )


def _short_inverted_tag(text: str, j: int, stop: int) -> bool:
    """A tag that a speech of the present talk would hardly hold: the verb first and the
    clause over within a few words ("said the foreman.", "says he:")."""
    first = _WORD.search(text, j)
    clause = _CLAUSE_END.search(text, j, stop)
    words = len(text[j : clause.start() if clause else stop].split())
    return first is not None and first.group() in SPEECH_VERBS and words <= 4


def _parts_around_tags(
    text: str, start: int, end: int, strict: bool = False
) -> list[tuple[int, int, bool]]:
    """A told story whose nested marks were lost, cut into the reported speech (nested) and the
    teller's narration: a tag ("said he,") ends the speech before it and the speech resumes
    after it; a nested closing mark that survived ("illusion';") ends the speech, and the
    teller goes on. Nothing found: the quotation stays whole."""
    events: list[tuple[int, int, str]] = []  # (at, end, "tag" | "close")
    if _opens_with_tag(text, start, end):
        events.append((start, _tag_clause_end(text, start + 1, end), "tag"))
    for m in _INNER_STOP.finditer(text, start + 2, end):
        j = m.end()
        if j >= end or not _inner_tag_at(text, j):
            continue
        stop = _tag_clause_end(text, j, end)
        if strict and not _short_inverted_tag(text, j, stop):
            continue
        events.append((j, stop, "tag"))
    for i in range(start + 1, end - 1):
        if text[i] in "'\u2019" and not text[i + 1].isalnum() and _single_closes_here(text, i):
            events.append((i + 1, i + 1, "close"))
    events.sort()
    if all(at == start for at, _, _ in events):
        return [(start, end, False)]  # a tag that opens the speech and nothing after it
    parts: list[tuple[int, int, bool]] = []
    pos, inside = start, text[start + 1 : start + 2] == " "
    for at, stop, kind in events:
        if at < pos:
            continue
        if kind == "close":
            if inside and _WORD.search(text, pos, at):
                parts.append((pos, at, True))
                pos, inside = at, False
            continue
        if at > pos and _WORD.search(text, pos, at):
            parts.append((pos, at, inside))
        elif parts:
            parts[-1] = (parts[-1][0], at, parts[-1][2])
        parts.append((at if parts else start, stop, False))
        pos, inside = stop, True
    if not parts:
        return [(start, end, False)]
    if _WORD.search(text, pos, end):
        parts.append((pos, end, inside))
    else:
        parts[-1] = (parts[-1][0], end, parts[-1][2])
    # a tag that ends the speech retells nothing
    return parts if any(nested for _, _, nested in parts) else [(start, end, False)]


def _double_spans(text: str) -> list[tuple[int, int, bool]]:
    spans: list[tuple[int, int, bool]] = []
    start: int | None = None
    for i, ch in enumerate(text):
        if ch in _DOUBLE_OPEN or (ch == '"' and start is None and _straight_double_opens(text, i)):
            if start is not None:  # a quotation never closed: end it where the next one opens
                spans.append((start, _trim_end(text, i), False))
            start = i
        elif ch in _DOUBLE_CLOSE or ch == '"':
            if start is not None:
                spans.append((start, i + 1, True))
                start = None
            elif not spans and _closes_alone(text, i):
                # A closing mark with no opening one: the block carries on a quotation from
                # the paragraph before (or a mark is missing); what precedes it is speech.
                spans.append((0, i + 1, True))
    if start is not None:
        spans.append((start, _trim_end(text, len(text)), False))
    return spans


def _closes_alone(text: str, i: int) -> bool:
    """Is the mark at `i`, before any opening one, the close of a quotation carried on from
    an earlier paragraph: a closing curly mark, or a straight one right after a word or a
    stop ('… find it out?"')?"""
    if text[:i].count('"'):
        return False
    return text[i] in _DOUBLE_CLOSE or (text[i] == '"' and i > 0 and not text[i - 1].isspace())


def _single_spans(text: str) -> list[tuple[int, int, bool]]:
    spans: list[tuple[int, int, bool]] = []
    start: int | None = None
    for i, ch in enumerate(text):
        if ch not in _SINGLE_OPEN and ch not in _SINGLE_CLOSE and ch != "'":
            continue
        if start is None:
            if (ch in _SINGLE_OPEN or ch == "'") and _opens_here(text, i) and not _elided(text, i):
                start = i
        elif ch in _SINGLE_OPEN and _opens_here(text, i) and not _elided(text, i):
            spans.append((start, _trim_end(text, i), False))
            start = i
        elif ch != "\u2018" and _single_closes_here(text, i):
            spans.append((start, i + 1, True))
            start = None
    if start is not None:
        spans.append((start, _trim_end(text, len(text)), False))
    return spans


def _trim_end(text: str, end: int) -> int:
    while end > 0 and text[end - 1].isspace():
        end -= 1
    return end


_DASH_MARK = re.compile(r"[\u2014\u2015]")
_TAG_HANDOVER = re.compile(r"(?:,|[\u2014\u2015])\s*")


def _split_dash(text: str) -> list[Segment]:
    """Em-dash dialogue: '—Come in, he said. —Sit down.' The paragraph's opening dash starts
    speech; a speech tag after a comma or a dash hands over to the narrator, and the next dash
    gives the floor back to the speaker."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in _DASHES:
        return [Segment(text, 0, len(text), False)] if text else []
    out: list[Segment] = []
    pos = len(text) - len(stripped)
    if pos:
        out.append(Segment(text[:pos], 0, pos, False))
    speaking, i = True, pos + 1
    while i < len(text):
        if speaking:
            m = next(
                (m for m in _TAG_HANDOVER.finditer(text, i) if _next_is_tag(text, m.end())), None
            )
            if m is None:
                break
            cut = m.start() + 1 if text[m.start()] == "," else m.start()
            out.append(Segment(text[pos:cut], pos, cut, True))
            pos, speaking = cut, False
            i = m.end()
        else:
            d = _DASH_MARK.search(text, i)
            if d is None:
                break
            out.append(Segment(text[pos : d.start()], pos, d.start(), False))
            pos, speaking = d.start(), True
            i = d.end()
    out.append(Segment(text[pos:], pos, len(text), speaking))
    return [s for s in out if s.text]


def detect_style(texts: Iterable[str]) -> QuoteStyle:
    """The convention the text's speech is written in, by counting likely opening marks."""
    doubles = singles = dashes = 0
    for text in texts:
        stripped = text.lstrip()
        if stripped[:1] in _DASHES:
            dashes += 1
        for i, ch in enumerate(text):
            if ch in _DOUBLE_OPEN or (ch == '"' and _opens_here(text, i)):
                doubles += 1
            elif (
                (ch in _SINGLE_OPEN or ch == "'") and _opens_here(text, i) and not _elided(text, i)
            ):
                singles += 1
    if dashes > doubles and dashes > singles:
        return QuoteStyle.DASH
    # Nested quotations and stray elisions put some single marks in any book: singles must
    # clearly outnumber doubles to be the book's own convention.
    return QuoteStyle.SINGLE if singles > 1.5 * doubles else QuoteStyle.DOUBLE


def is_speech_verb(word: str) -> bool:
    return word.lower() in SPEECH_VERBS
