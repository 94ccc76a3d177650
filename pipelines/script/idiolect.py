"""How each character of a book talks, learned from the quotations a speech tag names.

People in novels keep their words: one daughter says "papa" and another "sir", a worried
father says "my dear" and "poor" in every line. A quotation nobody tags is likelier to be
said by the person whose tagged speech its words resemble. Each speaker's words are a
unigram model smoothed towards the whole book's (a Dirichlet prior), and a quotation scores
each person by how much likelier their model makes its words than the book's: a person with
little tagged speech stays near zero, neither for nor against.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_WORD = re.compile(r"[a-z]+(?:['\u2019][a-z]+)?")
# Set by measuring on annotated novels (bench/attribution_bench.py): how many words of the
# book's speech a speaker's own counts weigh against, and how many of the book's commonest
# spoken words tell people apart (over every word, topics shared by chance did worse).
PRIOR_WORDS = 3000.0
VOCABULARY = 150


# Calling someone by kinship ("papa", "my dear aunt", "Oh, mother!"): at the start of the
# speech or a clause, and a clause's end after it, so "my mother's spectacles" and "told my
# father." call nobody.
KIN_WORDS = (
    "papa mamma mama pa ma father mother aunt auntie uncle grandmamma grandmama grandpapa "
    "grandmother grandfather granny grandma grandpa brother sister cousin"
)
_KIN_VOCATIVE = re.compile(
    r"(?:^|[\u201c\u2018\"'(]|[,;:!?.\u2014]\s*|\b(?:oh|ah|o|dear)\s+)"
    r"(?:my\s+(?:dear(?:est)?\s+|own\s+|poor\s+)?)?"
    rf"(?P<kin>{'|'.join(KIN_WORDS.split())})"
    r"(?=\s*(?:[,.!?;:\u2014\u201d\"]|$))",
    re.IGNORECASE,
)
# Who may call someone so, once the book has shown it often enough: anyone who did (a cut at a
# tenth of the uses gave the same answers; one child who says it seldom is still a child).
KIN_MIN = 3


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def kin_called(text: str) -> list[str]:
    """The words of kinship a speech calls someone by ("papa" in "But, my dear papa, ...")."""
    return [m.group("kin").lower() for m in _KIN_VOCATIVE.finditer(text)]


@dataclass(slots=True)
class Idiolects:
    """Per-speaker word counts from the quotations learned from, the book's counts beside them,
    and who calls someone by each word of kinship."""

    speakers: dict[str, Counter[str]] = field(default_factory=dict)
    book: Counter[str] = field(default_factory=Counter)
    # "papa" -> who says it, in the speech learned from
    kin: dict[str, Counter[str]] = field(default_factory=dict)
    _totals: dict[str, int] = field(default_factory=dict)
    _book_total: int = 0

    @classmethod
    def learn(cls, quotations: Iterable[tuple[str, str]]) -> Idiolects:
        """From (speaker, text) pairs: the speakers' canonical names and their tagged words."""
        out = cls()
        for speaker, text in quotations:
            for term in kin_called(text):
                out.kin.setdefault(term, Counter())[speaker] += 1
            ws = words(text)
            out.speakers.setdefault(speaker, Counter()).update(ws)
            out.book.update(ws)
        keep = {w for w, _ in out.book.most_common(VOCABULARY)}
        out.book = Counter({w: n for w, n in out.book.items() if w in keep})
        for p, c in out.speakers.items():
            out.speakers[p] = Counter({w: n for w, n in c.items() if w in keep})
        out._totals = {p: sum(c.values()) for p, c in out.speakers.items()}
        out._book_total = sum(out.book.values())
        return out

    def __len__(self) -> int:
        return len(self.speakers)

    def kin_speakers(self, text: str) -> set[str]:
        """Who may say the words of kinship the text calls someone by ("papa": Emma and
        Isabella, in Emma); empty when it calls nobody so or the book says too little."""
        out: set[str] = set()
        for term in kin_called(text):
            seen = self.kin.get(term)
            if seen and sum(seen.values()) >= KIN_MIN:
                out |= set(seen)
        return out

    def score(self, tokens: Sequence[str], people: Sequence[str]) -> list[float]:
        """For each person, the log-likelihood ratio of the words under their model against
        the book's."""
        tokens = [w for w in tokens if w in self.book]
        vocabulary = len(self.book) + 1
        background = [
            (self.book.get(w, 0) + 0.5) / (self._book_total + 0.5 * vocabulary) for w in tokens
        ]
        out: list[float] = []
        for person in people:
            counts = self.speakers.get(person)
            if not counts:
                out.append(0.0)
                continue
            denominator = self._totals[person] + PRIOR_WORDS
            out.append(
                sum(
                    math.log((counts.get(w, 0) + PRIOR_WORDS * pg) / denominator / pg)
                    for w, pg in zip(tokens, background, strict=True)
                )
            )
        return out
