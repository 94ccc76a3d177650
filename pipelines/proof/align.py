"""Aligning the words heard with the words the script says, for a stretch of consecutive
utterances (a window of the chapter's audio).

The alignment is a longest common subsequence of comparable tokens (`words`), so a word counts
as heard only in its place. A heard word may match a script word only if it was heard during
that word's utterance (give or take `SLACK_S`): the recogniser's times are approximate, but a
sentence spoken in another utterance's place (a wrong chunk, a repeated one) must never make up
for the utterance that lacks it. Matching the whole window at once, rather than utterance by
utterance, keeps a word heard across a span boundary with its own utterance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

from pipelines.proof.results import HeardWord, Timed, UtteranceProof
from pipelines.proof.words import ScriptWord, heard_forms, script_words, soundex

SLACK_S = 0.6  # how far outside its utterance's span a heard word may still match
_CLOSE = 0.8  # spelling similarity taken as the same word (plurals, variant spellings)
# Letters of two runs of words, spelled loosely, this similar sound alike; both need this many
# letters (a short run matches too easily) and lengths within a third of each other (a word
# left out of a run must not pass for the run).
_ALIKE = 0.8
_ALIKE_CONSONANTS = 0.85  # or their consonants this similar, four or more of them
_ALIKE_LETTERS = 6
_GAP_MAX = 12  # heard words in a gap tried as runs of their own (a swapped chunk has many)


@dataclass(frozen=True, slots=True)
class Span:
    """An utterance as the chapter's render places it."""

    index: int
    start_s: float
    end_s: float
    text: str
    voice: str = ""


@dataclass(frozen=True, slots=True)
class _Ref:
    span: int  # position in the window's spans
    word: int  # position in the span's script words
    token: str


@dataclass(frozen=True, slots=True)
class _Heard:
    word: int  # position in the window's heard words
    forms: frozenset[str]
    mid_s: float


def _same(token: str, forms: frozenset[str]) -> bool:
    """The same word, or one the recogniser spelled a little otherwise: a plural, a variant
    spelling, a near homophone of four letters or more ("lamb" for "lamp")."""
    if token in forms:
        return True
    if len(token) < 4:
        return False
    for f in forms:
        if len(f) < 4 or abs(len(f) - len(token)) > 2:
            continue
        if soundex(f) == soundex(token) and abs(len(f) - len(token)) <= 1:
            return True
        if len(token) >= 5 and SequenceMatcher(None, token, f).ratio() >= _CLOSE:
            return True
    return False


_LOOSE = (("ph", "f"), ("ck", "k"), ("c", "k"), ("q", "k"), ("z", "s"), ("uy", "i"), ("y", "i"))
_DOUBLED = re.compile(r"(.)\1+")
_SOFT = re.compile(r"[aeiouhw]")  # dropped for a run's consonants: vowels, h and w


def _loose(letters: str) -> str:
    """Letters as they sound, roughly: c, k and q one letter, y (and the uy of "buy") an i,
    doubled letters once."""
    for a, b in _LOOSE:
        letters = letters.replace(a, b)
    return _DOUBLED.sub(r"\1", letters)


def sound_alike(script: Sequence[str], heard: Sequence[str]) -> bool:
    """A run of script tokens heard as another number of words that sound the same run
    together: "door nail" / "doornail", "therefore" / "there for". Runs of as many words
    are left to the word-by-word comparison (`_same`), which judged them already."""
    if not script or not heard or len(script) == len(heard):
        return False
    a, b = "".join(script), "".join(heard)
    if min(len(a), len(b)) < _ALIKE_LETTERS or not 3 / 4 <= len(b) / len(a) <= 4 / 3:
        return False
    a, b = _loose(a), _loose(b)
    if SequenceMatcher(None, a, b).ratio() >= _ALIKE:
        return True
    ca, cb = a[0] + _SOFT.sub("", a[1:]), b[0] + _SOFT.sub("", b[1:])
    return min(len(ca), len(cb)) >= 4 and SequenceMatcher(None, ca, cb).ratio() >= _ALIKE_CONSONANTS


def _sound_alike_gaps(
    refs: list[_Ref], heard: list[_Heard], spans: Sequence[Span], pairs: list[tuple[int, int]]
) -> list[tuple[list[int], list[int]]]:
    """Runs of unmatched refs (one span's, between two matched pairs) with the run of unmatched
    heard tokens there, in that span's time, that sound alike: (ref indexes, token indexes)."""
    found: list[tuple[list[int], list[int]]] = []
    used: set[int] = set()
    bounds = [(-1, -1), *pairs, (len(refs), len(heard))]
    for (pi, pj), (i, j) in pairwise(bounds):
        if i - pi < 2 or j - pj < 2:
            continue
        by_span: dict[int, list[int]] = {}
        for r in range(pi + 1, i):
            by_span.setdefault(refs[r].span, []).append(r)
        for k, run in by_span.items():
            lo, hi = spans[k].start_s - SLACK_S, spans[k].end_s + SLACK_S
            near = [t for t in range(pj + 1, j) if t not in used and lo <= heard[t].mid_s <= hi]
            script = [refs[r].token for r in run]
            form = {t: min(heard[t].forms) for t in near}
            # The whole run heard, else a shorter run of it (a word inserted beside the rest).
            runs = (
                [near]
                if len(near) > _GAP_MAX
                else [near[a:b] for a in range(len(near)) for b in range(len(near), a, -1)]
            )
            for sub in runs:
                if sound_alike(script, [form[t] for t in sub]):
                    found.append((run, sub))
                    used.update(sub)
                    break
    return found


def _lcs(refs: list[_Ref], heard: list[_Heard], spans: Sequence[Span]) -> list[tuple[int, int]]:
    """The matched (ref, heard) index pairs of a longest in-order alignment."""
    n, m = len(refs), len(heard)
    if not n or not m:
        return []
    lo = [spans[r.span].start_s - SLACK_S for r in refs]
    hi = [spans[r.span].end_s + SLACK_S for r in refs]
    table = [[0] * (m + 1) for _ in range(n + 1)]
    match = [[False] * m for _ in range(n)]
    for i in range(n - 1, -1, -1):
        row, below = table[i], table[i + 1]
        token = refs[i].token
        for j in range(m - 1, -1, -1):
            h = heard[j]
            if lo[i] <= h.mid_s <= hi[i] and _same(token, h.forms):
                match[i][j] = True
                row[j] = below[j + 1] + 1
            else:
                row[j] = below[j] if below[j] >= row[j + 1] else row[j + 1]
    pairs = []
    i = j = 0
    while i < n and j < m:
        if match[i][j] and table[i][j] == table[i + 1][j + 1] + 1:
            pairs.append((i, j))
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _nearest_span(spans: Sequence[Span], t: float) -> int:
    best, gap = 0, float("inf")
    for k, s in enumerate(spans):
        d = 0.0 if s.start_s <= t <= s.end_s else min(abs(t - s.start_s), abs(t - s.end_s))
        if d < gap:
            best, gap = k, d
    return best


def _script_timings(
    span: Span, words: list[ScriptWord], known: dict[int, tuple[float, float]]
) -> list[Timed]:
    """Each script word's time: from the heard words it matched, or shared out evenly (by
    length) between the known words around it within the span."""
    out: list[Timed] = []
    k = 0
    while k < len(words):
        if k in known:
            a, b = known[k]
            out.append((words[k].text, a, b))
            k += 1
            continue
        run_end = k
        while run_end < len(words) and run_end not in known:
            run_end += 1
        start = out[-1][2] if out else span.start_s
        end = known[run_end][0] if run_end < len(words) else span.end_s
        end = max(end, start)
        lengths = [len(w.text) for w in words[k:run_end]]
        total = sum(lengths) or 1
        t = start
        for w, length in zip(words[k:run_end], lengths, strict=True):
            step = (end - start) * length / total
            out.append((w.text, t, t + step))
            t += step
        k = run_end
    return out


def align_window(
    spans: Sequence[Span], heard: Sequence[HeardWord], lang: str = "en"
) -> list[UtteranceProof]:
    """Each span's proof, from the words heard in the window that holds them (all times
    chapter-relative)."""
    words = [script_words(s.text) for s in spans]
    refs = [
        _Ref(k, w, token)
        for k, span_words in enumerate(words)
        for w, word in enumerate(span_words)
        for token in word.tokens
    ]
    tokens = [
        _Heard(j, forms, h.mid_s)
        for j, h in enumerate(heard)
        for forms in heard_forms(h.word, lang)
    ]
    pairs = _lcs(refs, tokens, spans)
    matched_refs = {i for i, _ in pairs}
    matched_tokens = {j for _, j in pairs}
    # A heard word belongs to the utterance it matched in, else to the one it was heard in.
    owner = {tokens[j].word: refs[i].span for i, j in pairs}
    for run, sub in _sound_alike_gaps(refs, tokens, spans, pairs):
        # Heard, though cut otherwise: its words' times are shared out like unheard ones'.
        matched_refs.update(run)
        matched_tokens.update(sub)
        owner.update((tokens[t].word, refs[run[0]].span) for t in sub)
    for j, h in enumerate(heard):
        owner.setdefault(j, _nearest_span(spans, h.mid_s))
    known: list[dict[int, tuple[float, float]]] = [{} for _ in spans]
    for i, j in pairs:
        ref, h = refs[i], heard[tokens[j].word]
        was = known[ref.span].get(ref.word)
        span_start = h.start_s if was is None else min(was[0], h.start_s)
        known[ref.span][ref.word] = (span_start, h.end_s if was is None else max(was[1], h.end_s))
    out = []
    for k, span in enumerate(spans):
        mine = [i for i, r in enumerate(refs) if r.span == k]
        own_heard = [j for j in range(len(heard)) if owner[j] == k]
        out.append(
            UtteranceProof(
                index=span.index,
                start_s=span.start_s,
                end_s=span.end_s,
                text=span.text,
                voice=span.voice,
                words=len(mine),
                heard_words=sum(1 for i in mine if i in matched_refs),
                missing=[refs[i].token for i in mine if i not in matched_refs],
                inserted=[
                    "/".join(sorted(t.forms))
                    for j, t in enumerate(tokens)
                    if j not in matched_tokens and owner[t.word] == k
                ],
                heard=" ".join(heard[j].word.strip() for j in own_heard).strip(),
                heard_timed=[
                    (heard[j].word.strip(), heard[j].start_s, heard[j].end_s) for j in own_heard
                ],
                timings=_script_timings(span, words[k], known[k]),
            )
        )
    return out
