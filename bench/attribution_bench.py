"""Speaker attribution accuracy against hand-annotated text.

Default: the hand-annotated chapters of tests/data/annotations/: for each, the share of
quotations whose speaker is right, over the quotations with an explicit speech tag and over all
of them (documents read aloud are left out).

--pdnc: the annotated novels of the Project Dialogism Novel Corpus (../shared/pdnc-dev, read in
place, never copied): each novel is imported and attributed in this process and matched to the
annotations with the corpus's own scorer (its score.py: the same matching and generous name
resolution as the CLI score), then printed: per novel and overall accuracy by quote type, the
time taken, the same over the quotations whose gold speaker is a listed character (the part
an answer can get right), accuracy by method, and a calibration table (confidence bucket ->
measured accuracy) with the accuracy of the quotations below and above LOW_CONFIDENCE.

Usage: .venv/bin/python bench/attribution_bench.py [--corpus ../shared/corpus] [--show-misses]
       .venv/bin/python bench/attribution_bench.py --pdnc [NOVEL ...] [--pdnc-dir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.core.model import Book  # noqa: E402
from pipelines.manuscript import load_book  # noqa: E402
from pipelines.script.attribution import (  # noqa: E402
    LOW_CONFIDENCE,
    Quotation,
    attribute,
    learn_idiolects,
)
from pipelines.script.characters import CharacterList, find_characters  # noqa: E402

ANNOTATIONS = REPO / "tests" / "data" / "annotations"
CORPUS = REPO.parent / "shared" / "corpus"
PDNC = REPO.parent / "shared" / "pdnc-dev"
PDNC_NOVELS = (
    "Emma",
    "OliverTwist",
    "TheSignOfTheFour",
    "AnneOfGreenGables",
    "ARoomWithAView",
    "TheGambler",
)
BUCKETS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


@dataclass(slots=True)
class Score:
    chapter: str
    tagged_right: int = 0
    tagged_total: int = 0
    right: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def tagged_accuracy(self) -> float:
        return self.tagged_right / self.tagged_total if self.tagged_total else 0.0

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


def load_annotations(folder: Path = ANNOTATIONS) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


@lru_cache(maxsize=4)
def _book(path: Path) -> tuple[Book, CharacterList]:
    book = load_book(path)
    characters = find_characters(b.text for c in book.body for b in c.blocks)
    characters.idiolects = learn_idiolects(book.body, characters)
    return book, characters


def _chapter_index(book: Book, title: str) -> int:
    """Annotations name their chapter by title, with a note in brackets after it."""
    bare = title.split(" (")[0].strip().lower()
    for i, c in enumerate(book.body):
        if c.title.strip().lower() == bare:
            return i
    raise LookupError(f"no chapter titled {bare!r}")


def same_person(label: str, predicted: str | None, characters: CharacterList) -> bool:
    if predicted is None:
        return False
    if label.lower() == predicted.lower():
        return True
    a, b = characters.resolve(label), characters.resolve(predicted)
    return a is not None and a is b


def score(annotation: dict[str, Any], corpus: Path = CORPUS) -> Score:
    book, characters = _book(corpus / annotation["book"])
    chapter = book.body[_chapter_index(book, annotation["chapter"])]
    quotes = attribute(chapter, characters)
    by_place: dict[tuple[int, int], Quotation] = {}
    counters: dict[int, int] = {}
    texts: dict[tuple[int, int], str] = {}
    last: Quotation | None = None
    for q in quotes:
        # The annotations count whole quotations: the parts of one cut around the quotations
        # nested in it (adjacent in the paragraph) are one, known by its first part.
        if (
            last is not None
            and last.block_index == q.block_index
            and q.segment_index == last.segment_index + 1
        ):
            place = (q.block_index, counters[q.block_index] - 1)
            texts[place] += q.text
        else:
            n = counters.get(q.block_index, 0)
            counters[q.block_index] = n + 1
            place = (q.block_index, n)
            by_place[place], texts[place] = q, q.text
        last = q
    result = Score(annotation["chapter"])
    for item in annotation["quotations"]:
        if item["speaker"] is None:
            continue  # a document read aloud, a sign: nobody speaks it
        found = by_place.get((item["block"], item["n"]))
        whole = texts.get((item["block"], item["n"]), "")
        if found is None or not whole.startswith(item["snippet"][:20]):
            raise LookupError(f"annotated quotation not found: {item['snippet']!r}")
        q = found
        ok = same_person(item["speaker"], q.speaker, characters)
        result.total += 1
        result.right += ok
        if item["tagged"]:
            result.tagged_total += 1
            result.tagged_right += ok
        if not ok:
            result.misses.append(
                f"[{item['block']}] {item['snippet'][:40]!r}: {item['speaker']} != "
                f"{q.speaker} ({q.method}, {q.confidence:.2f})"
            )
    return result


def _pdnc_scorer(folder: Path) -> Any:
    """The corpus's own scorer, imported from its folder (its matching and name resolution)."""
    spec = importlib.util.spec_from_file_location("pdnc_score", folder / "score.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no score.py in {folder}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(slots=True)
class NovelScore:
    name: str
    subs: int = 0
    subs_found: int = 0
    quotes: int = 0
    correct: int = 0
    by_type: dict[str, list[int]] = field(default_factory=dict)  # type -> [right, total]
    # the same, end to end, over the quotations whose gold speaker is a listed character
    # ("all" and each type): the part of the score an answer can get right
    scoreable: dict[str, list[int]] = field(default_factory=dict)
    seconds_characters: float = 0.0
    seconds_attribution: float = 0.0
    # (confidence, method, right) of every found quotation whose gold speaker is a listed
    # character (the corpus names a few speakers outside its character table: nobody can
    # name them right, so they would only blur the calibration)
    judged: list[tuple[float, str, bool]] = field(default_factory=list)


def score_pdnc(novel: str, folder: Path = PDNC, scorer: Any = None) -> NovelScore:
    """Attribute one PDNC novel end to end and score it like the corpus's score.py."""
    scorer = scorer or _pdnc_scorer(folder)
    chars, gold = scorer.load_gold(str(folder), novel)
    with tempfile.TemporaryDirectory() as tmp:
        # The importer reads the file by its name and suffix; the text stays where it is.
        source = Path(tmp) / f"{novel}.txt"
        source.symlink_to(folder / "data" / novel / "novel_text.txt")
        book = load_book(source)
    t0 = time.perf_counter()
    characters = find_characters(b.text for c in book.body for b in c.blocks)
    # how each speaks, from the tagged quotations: a first pass, timed with the attribution
    t1 = time.perf_counter()
    characters.idiolects = learn_idiolects(book.body, characters)
    quotes = [q for chapter in book.body for q in attribute(chapter, characters)]
    t2 = time.perf_counter()
    found = [(scorer.words(q.text), (q.speaker or "").strip().lower()) for q in quotes]
    matched = scorer.match(gold, found)
    first_hit = _first_hits(scorer, gold, found)
    bests: list[str | None] = []
    for speakers in matched:
        got = [x for x in speakers if x is not None]
        bests.append(Counter(got).most_common(1)[0][0] if got else None)
    pairs = [(b, g["speaker"]) for b, g in zip(bests, gold, strict=True) if b]
    names = scorer.resolver(chars, pairs)
    result = NovelScore(novel, seconds_characters=t1 - t0, seconds_attribution=t2 - t1)
    for g, speakers, best, hit in zip(gold, matched, bests, first_hit, strict=True):
        result.subs += len(speakers)
        result.subs_found += sum(s is not None for s in speakers)
        result.quotes += 1
        tally = result.by_type.setdefault(g["type"], [0, 0])
        tally[1] += 1
        listed = (
            [result.scoreable.setdefault(k, [0, 0]) for k in ("all", g["type"])]
            if g["speaker"] in chars
            else []
        )
        for t in listed:
            t[1] += 1
        if not any(s is not None for s in speakers) or hit is None:
            continue
        right = bool(best and names.get(best) == g["speaker"])
        result.correct += right
        tally[0] += right
        for t in listed:
            t[0] += right
        if g["speaker"] in chars:
            q = quotes[hit]
            result.judged.append((q.confidence, q.method, right))
    return result


def _first_hits(scorer: Any, gold: list[dict[str, Any]], found: list[Any]) -> list[int | None]:
    """The index of the project quotation each gold quotation's first found part matched
    (the same forward scan as the scorer's `match`)."""
    pos, out = 0, []
    for g in gold:
        first = None
        for sub in g["subs"]:
            for j in range(pos, min(len(found), pos + 60)):
                fw = found[j][0]
                if not fw:
                    continue
                a, b = (sub, fw) if len(sub) <= len(fw) else (fw, sub)
                if " ".join(a) in " ".join(b) and len(a) >= 0.5 * len(b):
                    pos = j + 1
                    first = j if first is None else first
                    break
        out.append(first)
    return out


def calibration(judged: list[tuple[float, str, bool]]) -> list[tuple[str, int, float]]:
    """(bucket, quotations, measured accuracy) for each confidence bucket."""
    rows = []
    for lo, hi in itertools.pairwise(BUCKETS):
        inside = [right for conf, _, right in judged if lo <= conf < hi]
        label = f"{lo:.1f}-{min(hi, 1.0):.1f}"
        rows.append((label, len(inside), sum(inside) / len(inside) if inside else 0.0))
    return rows


def pdnc_main(novels: list[str], folder: Path) -> None:
    scorer = _pdnc_scorer(folder)
    scores = [score_pdnc(n, folder, scorer) for n in novels]
    types = ("explicit", "anaphoric", "implicit")
    print(
        f"{'novel':<20} {'found':>7} {'correct':>8} "
        + " ".join(f"{t:>9}" for t in types)
        + f" {'chars s':>8} {'attr s':>7}"
    )
    for s in scores:
        by = " ".join(
            f"{s.by_type.get(t, [0, 0])[0] / max(1, s.by_type.get(t, [0, 0])[1]):9.1%}"
            for t in types
        )
        print(
            f"{s.name:<20} {s.subs_found / max(1, s.subs):7.1%} {s.correct / max(1, s.quotes):8.1%}"
            f" {by} {s.seconds_characters:8.2f} {s.seconds_attribution:7.2f}"
        )
    subs = sum(s.subs for s in scores)
    quotes = sum(s.quotes for s in scores)
    tot = {t: [sum(s.by_type.get(t, [0, 0])[k] for s in scores) for k in (0, 1)] for t in types}
    by = " ".join(f"{tot[t][0] / max(1, tot[t][1]):9.1%}" for t in types)
    print(
        f"{'all':<20} {sum(s.subs_found for s in scores) / max(1, subs):7.1%} "
        f"{sum(s.correct for s in scores) / max(1, quotes):8.1%} {by} "
        f"{sum(s.seconds_characters for s in scores):8.2f} "
        f"{sum(s.seconds_attribution for s in scores):7.2f}"
    )
    listed = {
        k: [sum(s.scoreable.get(k, [0, 0])[i] for s in scores) for i in (0, 1)]
        for k in ("all", *types)
    }
    print(
        f"\nquotations whose gold speaker is a listed character: {listed['all'][1]}, "
        + ", ".join(f"{k} {v[0] / max(1, v[1]):.1%}" for k, v in listed.items())
    )
    judged = [j for s in scores for j in s.judged]
    print("\nby method (found quotations, gold speaker a listed character)")
    for method in sorted({m for _, m, _ in judged}):
        rights = [r for _, m, r in judged if m == method]
        print(f"  {method:<12} {len(rights):6} {sum(rights) / len(rights):7.1%}")
    print("\ncalibration: confidence -> measured accuracy")
    for label, n, acc in calibration(judged):
        print(f"  {label:<9} {n:6} {acc:7.1%}")
    low = [r for c, _, r in judged if c < LOW_CONFIDENCE]
    high = [r for c, _, r in judged if c >= LOW_CONFIDENCE]
    print(
        f"  below LOW_CONFIDENCE ({LOW_CONFIDENCE}): {len(low)} quotations, "
        f"{sum(low) / max(1, len(low)):.1%} right; at or above: {len(high)}, "
        f"{sum(high) / max(1, len(high)):.1%} right"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--pdnc", nargs="*", metavar="NOVEL", help="score PDNC novels instead")
    parser.add_argument("--pdnc-dir", type=Path, default=PDNC)
    args = parser.parse_args()
    if args.pdnc is not None:
        pdnc_main(args.pdnc or list(PDNC_NOVELS), args.pdnc_dir)
        return
    totals = Score("all")
    print(f"{'chapter':<48} {'tagged':>14} {'all':>14}")
    for annotation in load_annotations():
        s = score(annotation, args.corpus)
        print(
            f"{s.chapter[:48]:<48} {s.tagged_right:>4}/{s.tagged_total:<4} {s.tagged_accuracy:5.1%}"
            f" {s.right:>4}/{s.total:<4} {s.accuracy:5.1%}"
        )
        if args.show_misses:
            for miss in s.misses:
                print("    ", miss)
        totals.tagged_right += s.tagged_right
        totals.tagged_total += s.tagged_total
        totals.right += s.right
        totals.total += s.total
    print(
        f"{'all annotated quotations':<48} {totals.tagged_right:>4}/{totals.tagged_total:<4} "
        f"{totals.tagged_accuracy:5.1%} {totals.right:>4}/{totals.total:<4} {totals.accuracy:5.1%}"
    )


if __name__ == "__main__":
    main()
