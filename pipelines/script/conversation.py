"""Who speaks each turn of a scene, decided for the whole scene at once.

A scene's turns (the quotations of one paragraph each) are a sequence whose speakers follow
patterns: two people alternate, a reply goes to whom the last turn addressed, nobody speaks to
themselves by name, "papa" comes from those the book has heard say it, and the narration next
to a turn tends to name its speaker; someone joins the talk with a tag or a mention, and
someone known only by a description ("the turnkey") speaks only where described. Each turn also
carries what the sieves found for it (a speech tag is near certain, a pronoun a good guess).
The speakers are chosen by a second-order Viterbi search over the scene's likely people, scoring
every turn's evidence and every step's turn-taking together, so that one clear tag sets the
alternation for the untagged turns on both sides of it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

# Weights of the evidence, set by measuring on annotated novels (bench/attribution_bench.py).
W_SOFT = 1.5  # a guess of the sieves, times its confidence
W_ADDRESSED = 5.0  # penalty: a turn that names someone speaks to them, not as them
W_OWN = 2.5  # the turn's own paragraph names them in its narration
W_BEFORE = 2.0  # the narration just before the turn names them
W_PRIOR = 0.3  # per log of how often they speak in the scene's tags
GUESS_COUNTS = 0.5  # a sieve's guess as a share of a tag, times its confidence
FACED_COUNTS = 0.5  # the one the narration turns a speaker to, as a share of a tag
W_SAME = 1.5  # penalty: the same person twice running (times the SAME_ share below)
W_ALTERNATE = 1.5  # the person of two turns back answers again
W_REPLY = 3.0  # the person the last turn addressed answers
W_SPEAKS_TO = 0.8  # this turn addresses the last speaker
W_GENDER = 8.0  # penalty: "she said" by a man
W_ADDRESSEE_GENDER = 3.0  # penalty: "yes, sir" answering a woman
W_KIN = 6.0  # penalty: "papa" from someone the book never heard call anyone so
NEAR_SHORT = 0.5  # how much turn-taking counts across a few words of narration
NEAR_NARRATED = 0.5  # and where the turn's paragraph opens in narration ("Tom turned. “…”")
NEAR_LONG = 0.0  # and across a paragraph of it: none, the narration tells who comes next
# The same person twice running, measured on annotated novels: 1% of turns straight after a
# paragraph that ends in its speech, 8% after one that ends in narration ("…," he said, and
# sat down.), 22% where the paragraph opens in narration, 36% across a few words of narration
# (a gesture, a pause: "He paused." then more of his speech), as often as anyone else beyond.
SAME_AFTER_SPEECH = 2.0  # share of W_SAME straight after a paragraph that ends in its speech
SAME_AFTER_NARRATION = 0.75  # and after one that ends in narration
SAME_NARRATED = 0.5  # and where the turn's own paragraph opens in narration
SAME_SHORT = -0.5  # and across a few words of narration: a little likelier than a third person
SAME_LONG = 0.0  # and across more
MAX_PEOPLE = 8  # candidates per scene
ADDRESSED_TIMES = 3  # called by name this often in a scene: a candidate, though untagged
W_UNINTRODUCED = 0.5  # penalty: an untagged turn by someone the scene has not yet named
W_NAMED = 1.5  # penalty: the turn's own words name them ("Mrs. Weston will see to it")
W_FACED = 1.5  # penalty: the narration turns the speaker to someone ("turning to Tom"): not Tom
W_FACED_REPLY = 2.5  # the one the narration turned the last speaker to answers
W_TELLER = 4.0  # the one the people of a retold talk call by name tells it
W_STYLE = 0.3  # per unit of log-likelihood ratio: the turn's words sound like this person's
STYLE_CAP = 6.0  # at most this many units either way, so a long speech does not decide alone


@dataclass(slots=True)
class TurnEvidence:
    """What is known about one turn before the scene is decided."""

    fixed: str | None = None  # certain: a correction or a named tag
    guess: str | None = None  # a sieve's guess (pronoun, description, narration subject)
    guess_confidence: float = 0.0
    addressed: set[str] = field(default_factory=set)  # names the turn speaks to
    own_mentions: list[str] = field(default_factory=list)  # named in its paragraph's narration
    before_mentions: list[str] = field(default_factory=list)  # named in the narration before
    gap_words: int = 0  # words of narration since the previous turn
    gender: str = ""  # "he said": the speaker's gender, when a tag tells it
    grown: bool = False  # "said the old gentleman": not one of the book's children
    third_person: bool = False  # "he said", "said the porter": not the first-person narrator
    narrated: bool = False  # its paragraph opens with narration before the quotation
    ends_in_speech: bool = False  # its paragraph ends with the quotation, no narration after
    addressee_gender: str = ""  # "Yes, sir": the one spoken to is a man
    named: set[str] = field(default_factory=set)  # people its words speak of, by name
    faced: set[str] = field(default_factory=set)  # the narration turns the speaker to them
    words: list[str] = field(default_factory=list)  # its own words, for how each person talks
    kin: set[str] = field(default_factory=set)  # who may call someone "papa", as it does
    teller: str | None = None  # a story's teller, whom its retold talk calls by name


@dataclass(slots=True)
class Decided:
    speaker: str | None
    margin: float  # how much better the chosen speaker scored than the next best, in context
    alone: bool = False  # the only person the scene offered


def decide_scene(
    turns: Sequence[TurnEvidence],
    carried: Sequence[str] = (),
    narrator: str | None = None,
    genders: Mapping[str, str] | None = None,
    regulars: Sequence[str] = (),
    anonymous: Collection[str] = (),
    style: Callable[[Sequence[str], Sequence[str]], list[float]] | None = None,
    young: Collection[str] = (),
) -> list[Decided]:
    """The speaker of each turn of the scene; `carried` are the people who talked just before
    it (the latest first), `regulars` those the chapter's tags name most (candidates too, for
    a scene whose own text names too few). The `anonymous` (known only by a description:
    "the turnkey") speak only the turns that describe them: with no name to go by, the
    narration tags every line of theirs. `style` scores a turn's words for each person by how
    they talk elsewhere in the book; the `young` (the book's children) speak no turn whose tag
    describes a grown-up."""
    if not turns:
        return []
    people = _candidates(turns, carried, narrator, regulars)
    if not people:
        return [Decided(t.fixed or t.guess, 0.0, True) for t in turns]
    index = {p: k for k, p in enumerate(people)}
    # How often the scene's tags name each person: a pronoun tag's guess counts by its
    # confidence, so that Holmes, tagged "said he" throughout, is not outweighed over a long
    # untagged exchange by Watson's one "I exclaimed"; and the one the narration turns a
    # speaker to ("turned to Frank Churchill") has joined the talk as surely.
    counts: dict[str, float] = dict(Counter(t.fixed for t in turns if t.fixed))
    for t in turns:
        if t.fixed is None and t.guess is not None:
            counts[t.guess] = counts.get(t.guess, 0.0) + GUESS_COUNTS * t.guess_confidence
        for p in t.faced:
            counts[p] = counts.get(p, 0.0) + FACED_COUNTS
    genders = genders or {}
    # mismatch[i][b]: turn i speaks to a man (or woman) and b, who spoke before it, is not one
    mismatch = [
        [
            bool(t.addressee_gender) and genders.get(p, t.addressee_gender) != t.addressee_gender
            for p in people
        ]
        for t in turns
    ]
    emit = [
        [_emission(t, p, counts, genders.get(p, ""), p == narrator) for p in people] for t in turns
    ]
    for i, t in enumerate(turns):
        for k, p in enumerate(people):
            if p in anonymous and p not in (t.fixed, t.guess):
                emit[i][k] = -1e9
            if t.grown and t.fixed is None and p in young:
                emit[i][k] -= W_GENDER  # as sure a mismatch as "she said" of a man
    if style is not None:
        for i, t in enumerate(turns):
            if t.fixed is None and t.words:
                for k, s in enumerate(style(t.words, people)):
                    emit[i][k] += W_STYLE * max(-STYLE_CAP, min(STYLE_CAP, s))
    _penalise_unintroduced(emit, turns, people, carried)
    if narrator in index:
        for i, t in enumerate(turns):
            if t.third_person and t.fixed is None:
                emit[i][index[narrator]] -= W_GENDER
    n, m = len(turns), len(people)
    neg = -1e9
    # score[(a, b)]: best total with turn i-1 by a and turn i by b (a = m: no earlier turn).
    start = m
    prev: dict[tuple[int, int], float] = {}
    back: list[dict[tuple[int, int], tuple[int, int]]] = []
    for b in range(m):
        if emit[0][b] > neg / 2:
            prev[(start, b)] = emit[0][b] + _carry_bonus(people[b], carried, turns[0])
    if not prev:  # nobody may speak the first turn ("the turnkey" only speaks where described)
        prev = {(start, b): emit[0][b] for b in range(m)}
    back.append({})
    for i in range(1, n):
        cur: dict[tuple[int, int], float] = {}
        ptr: dict[tuple[int, int], tuple[int, int]] = {}
        t, before = turns[i], turns[i - 1]
        for (a, b), score in prev.items():
            for c in range(m):
                e = emit[i][c]
                if e <= neg / 2:
                    continue
                total = (
                    score + e + _step(people[a] if a < m else None, people[b], people[c], t, before)
                )
                if mismatch[i][b] and c != b:
                    total -= W_ADDRESSEE_GENDER  # "Yes, sir" straight after a woman spoke
                key = (b, c)
                if total > cur.get(key, neg):
                    cur[key] = total
                    ptr[key] = (a, b)
        if not cur:  # nobody allowed: keep going from the best state so far
            best = max(prev, key=lambda k: prev[k])
            for c in range(m):
                cur[(best[1], c)] = prev[best] + emit[i][c]
                ptr[(best[1], c)] = best
        prev = cur
        back.append(ptr)
    # Trace back the best path.
    state = max(prev, key=lambda k: prev[k])
    path = [state[1]]
    for i in range(n - 1, 0, -1):
        state = back[i][state]
        path.append(state[1])
    path.reverse()
    out: list[Decided] = []
    for i, k in enumerate(path):
        # The margin: how far the chosen person leads the best other one on this turn's own
        # evidence and its steps from and to the chosen neighbours.
        def local(c: int, i: int = i) -> float:
            s = emit[i][c]
            a = people[path[i - 2]] if i >= 2 else None
            b = people[path[i - 1]] if i >= 1 else None
            if b is not None:
                s += _step(a, b, people[c], turns[i], turns[i - 1])
            if i + 1 < n:
                s += _step(b, people[c], people[path[i + 1]], turns[i + 1], turns[i])
            return s

        if emit[i][k] <= neg / 2:  # a turn nobody of the scene may speak: left undecided
            out.append(Decided(None, 0.0, True))
            continue
        mine = local(k)
        others = [local(c) for c in range(m) if c != k and emit[i][c] > neg / 2]
        margin = mine - max(others) if others else 0.0
        out.append(Decided(people[k], margin, not others))
    return out


def _candidates(
    turns: Sequence[TurnEvidence],
    carried: Sequence[str],
    narrator: str | None,
    regulars: Sequence[str] = (),
) -> list[str]:
    votes: Counter[str] = Counter()
    for name in regulars:
        votes[name] += 0  # listed, behind anyone the scene itself names
    for t in turns:
        if t.fixed:
            votes[t.fixed] += 4
        if t.guess:
            votes[t.guess] += 2
        if t.teller:
            votes[t.teller] += 2
        for name in t.own_mentions:
            votes[name] += 1
        for name in t.before_mentions:
            votes[name] += 1
    # Someone the scene's turns call by name again and again ("A fine child, Mrs. Smith!",
    # "my dear Mrs. Smith") is there to answer, though no tag or narration names them.
    called = Counter(name for t in turns for name in t.addressed)
    for name, n in called.items():
        if n >= ADDRESSED_TIMES:
            votes[name] += 1
    for k, name in enumerate(carried[:2]):
        votes[name] += 3 - k
    if narrator and any(t.fixed == narrator or t.guess == narrator for t in turns):
        votes[narrator] += 1
    people = [p for p, _ in votes.most_common(MAX_PEOPLE)]
    for t in turns:  # a certain speaker is always a candidate
        if t.fixed and t.fixed not in people:
            people.append(t.fixed)
    return people


def _emission(
    t: TurnEvidence, person: str, counts: Mapping[str, float], gender: str, telling: bool = False
) -> float:
    if t.fixed is not None:
        return 0.0 if person == t.fixed else -1e9
    s = W_PRIOR * math.log1p(counts.get(person, 0))
    if t.gender and gender and gender != t.gender:
        s -= W_GENDER
    if t.guess is not None and person == t.guess:
        s += W_SOFT * t.guess_confidence
    if t.teller is not None and person == t.teller:
        s += W_TELLER
    if t.kin and person not in t.kin:
        s -= W_KIN
    if person in t.addressed:
        s -= W_ADDRESSED
    else:
        if person in t.named:
            s -= W_NAMED  # nobody speaks of themselves by name
        if person in t.faced:
            s -= W_FACED
    if telling:
        # The one telling the story is "I" all through the narration, and their own speech
        # is tagged ("I said"): an "I" there says nothing of who speaks next.
        return s
    if person in t.own_mentions:
        s += W_OWN
    if person in t.before_mentions[-1:]:
        s += W_BEFORE
    return s


def _penalise_unintroduced(
    emit: list[list[float]],
    turns: Sequence[TurnEvidence],
    people: Sequence[str],
    carried: Sequence[str],
) -> None:
    """Someone joins a conversation with a tag or a mention ("said Tom", "Tom came in"): an
    untagged turn is unlikely to be a person the scene has neither named nor heard so far."""
    first: dict[str, int] = {p: -1 for p in carried}
    for i, t in enumerate(turns):
        for name in (t.fixed, t.guess, *t.own_mentions, *t.before_mentions, *t.addressed):
            if name:
                first.setdefault(name, i)
    for i, t in enumerate(turns):
        if t.fixed is not None:
            continue
        for k, p in enumerate(people):
            if first.get(p, len(turns)) > i:
                emit[i][k] -= W_UNINTRODUCED


def _carry_bonus(person: str, carried: Sequence[str], t: TurnEvidence) -> float:
    """The first turn of a scene goes on from who talked just before it."""
    if not carried:
        return 0.0
    if person in t.addressed:
        return 0.0
    if person == carried[0]:
        return 0.3
    if len(carried) > 1 and person == carried[1]:
        return 0.5
    return 0.0


def _again(t: TurnEvidence, before: TurnEvidence) -> float:
    """How much the same-person penalty counts for this turn, by the narration before it."""
    if t.gap_words == 0:
        if t.narrated:
            return SAME_NARRATED
        return SAME_AFTER_SPEECH if before.ends_in_speech else SAME_AFTER_NARRATION
    return SAME_SHORT if t.gap_words <= 30 else SAME_LONG


def _step(a: str | None, b: str, c: str, t: TurnEvidence, before: TurnEvidence) -> float:
    """The turn-taking score of c speaking after b (and a before b)."""
    near = NEAR_SHORT if t.gap_words <= 30 else NEAR_LONG
    if t.gap_words == 0:
        near = NEAR_NARRATED if t.narrated else 1.0
    s = 0.0
    if c == b:
        s -= W_SAME * _again(t, before)
    elif a is not None and c == a:
        s += W_ALTERNATE * near
    if c in before.addressed and c != b:
        s += W_REPLY * near
    elif c in before.faced and c != b:
        s += W_FACED_REPLY * near

    if b in t.addressed and c != b:
        s += W_SPEAKS_TO * near
    return s
