"""Which chapter of a new import is which chapter of the last one (no SQL, no database).

A re-import keeps a chapter's id, and with it its jobs, its render, its own voice and the author's
edits, when it finds the chapter again. Each pass pairs only what the passes before left, in
reading order (so repeated chapters, three "Interlude"s, pair up one to one):

1. the same title, kind and text (every block);
2. the same text under another title (a heading renamed in the manuscript);
3. the same place in the source: its source reference and original title;
4. similar text: at least half the words shared (word sets), the most similar pair first;
5. position: between two chapters already paired, as many unpaired chapters of the same kinds
   on both sides pair in order (a chapter rewritten in place is still that chapter).

Whatever is paired keeps its id; a paired chapter whose text changed keeps it too, and its render
is then simply stale (its script hash no longer matches the plan). An old chapter left unpaired
was removed from the manuscript; a new one left unpaired is new.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

SIMILAR = 0.5  # the share of words (Jaccard, on word sets) two versions of a chapter keep

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)  # not slots: the hash and the words are worked out once, when asked
class Seen:
    """A chapter as the matching compares it."""

    title: str  # as the manuscript gives it (the original title, not the author's rename)
    kind: str
    ref: str  # the source reference (an EPUB's file), "" where the format has none
    blocks: tuple[tuple[str, int, str], ...]  # kind, level, text

    @cached_property
    def text_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.blocks, ensure_ascii=False).encode()).hexdigest()

    @cached_property
    def words(self) -> frozenset[str]:
        text = " ".join(t for _, _, t in self.blocks) or self.title
        return frozenset(w.lower() for w in _WORD.findall(text))


def similarity(a: Seen, b: Seen) -> float:
    wa, wb = a.words, b.words
    if not wa or not wb:
        return 1.0 if not wa and not wb and a.title == b.title else 0.0
    return len(wa & wb) / len(wa | wb)


def match_chapters(old: Sequence[Seen], new: Sequence[Seen]) -> dict[int, int]:
    """New chapter index → the old chapter index it is (for those found again)."""
    pairs: dict[int, int] = {}
    taken: set[int] = set()

    def by_key(key: Callable[[Seen], Hashable | None]) -> None:
        waiting: dict[Hashable, deque[int]] = defaultdict(deque)
        for i, chapter in enumerate(old):
            k = key(chapter)
            if i not in taken and k is not None:
                waiting[k].append(i)
        for j, chapter in enumerate(new):
            k = key(chapter)
            if j in pairs or k is None or not waiting.get(k):
                continue
            i = waiting[k].popleft()
            pairs[j] = i
            taken.add(i)

    by_key(lambda c: (c.title, c.kind, c.text_hash))
    by_key(lambda c: c.text_hash if c.blocks else None)
    by_key(lambda c: (c.ref, c.title) if c.ref or c.title else None)

    # Similar text, most similar first (then the nearest in position).
    scored = []
    for j, n in enumerate(new):
        if j in pairs:
            continue
        for i, o in enumerate(old):
            if i not in taken:
                s = similarity(o, n)
                if s >= SIMILAR:
                    scored.append((-s, abs(i - j), j, i))
    for _, _, j, i in sorted(scored):
        if j not in pairs and i not in taken:
            pairs[j] = i
            taken.add(i)

    # Position: equal runs of unpaired chapters between the same two anchors.
    anchors = sorted(pairs.items())
    bounds = [(-1, -1), *anchors, (len(new), len(old))]
    for (j0, i0), (j1, i1) in pairwise(bounds):
        if i1 <= i0:
            continue  # the chapters around this gap moved: no order to go by
        fresh = [j for j in range(j0 + 1, j1) if j not in pairs]
        gone = [i for i in range(i0 + 1, i1) if i not in taken]
        if len(fresh) != len(gone):
            continue
        if all(new[j].kind == old[i].kind for j, i in zip(fresh, gone, strict=True)):
            for j, i in zip(fresh, gone, strict=True):
                pairs[j] = i
                taken.add(i)
    return pairs
