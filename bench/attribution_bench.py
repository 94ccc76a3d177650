"""Speaker attribution accuracy against hand-annotated chapters (tests/data/annotations/).

For each annotated chapter: the share of quotations whose speaker is right, over the quotations
with an explicit speech tag and over all of them (documents read aloud are left out).

Usage: .venv/bin/python bench/attribution_bench.py [--corpus ../shared/corpus] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.core.model import Book  # noqa: E402
from pipelines.manuscript import load_book  # noqa: E402
from pipelines.script.attribution import Quotation, attribute  # noqa: E402
from pipelines.script.characters import CharacterList, find_characters  # noqa: E402

ANNOTATIONS = REPO / "tests" / "data" / "annotations"
CORPUS = REPO.parent / "shared" / "corpus"


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
    for q in quotes:
        n = counters.get(q.block_index, 0)
        counters[q.block_index] = n + 1
        by_place[(q.block_index, n)] = q
    result = Score(annotation["chapter"])
    for item in annotation["quotations"]:
        if item["speaker"] is None:
            continue  # a document read aloud, a sign: nobody speaks it
        found = by_place.get((item["block"], item["n"]))
        if found is None or not found.text.startswith(item["snippet"][:20]):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
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
