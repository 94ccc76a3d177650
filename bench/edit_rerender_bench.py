"""After a one-paragraph edit, how much of the book is synthesized again? Goal: under 1%.

Renders a whole book with the instant `silence` engine (the share does not depend on the
engine: the chunk cache is keyed by text, voice and settings), edits one paragraph in a middle
chapter, renders again the way an author would (`render` skips chapters that are current), and
prints the characters synthesized the second time as a share of the book.

    .venv/bin/python bench/edit_rerender_bench.py [--book ../shared/corpus/...epub]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.app.imports import import_manuscript  # noqa: E402
from pipelines.cli.render import render_project  # noqa: E402
from pipelines.core.model import BlockKind  # noqa: E402


def synthesized(project_root: Path) -> tuple[int, int]:
    from pipelines.store import Project

    with Project.open(project_root) as project:
        row = project.query(
            "SELECT COALESCE(SUM(chars_synthesized), 0), COALESCE(SUM(chars_total), 0) FROM jobs"
            " WHERE state = 'done'"
        )[0]
    return int(row[0]), int(row[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--book",
        type=Path,
        default=REPO.parent / "shared/corpus/doyle_the-adventures-of-sherlock-holmes.epub",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-edit-") as tmp:
        os.environ["AUDIOBOOK_STUDIO_HOME"] = str(Path(tmp) / "home")
        project = import_manuscript(args.book, Path(tmp) / "project")
        render_project(project, None, "silence:default", {}, workers=0)
        first, book_chars = synthesized(project.root)

        chapters = project.chapters()
        included = [(n, c) for n, c in enumerate(chapters, start=1) if c.included]
        number, chapter = included[len(included) // 2]
        index = next(i for i, b in enumerate(chapter.blocks) if b.kind is BlockKind.PARAGRAPH)
        block_id = project.block_ids(chapter.id or 0)[index]
        project.update_block_text(block_id, chapter.blocks[index].text + " (Edited.)")
        with project.transaction() as cur:
            cur.execute("DELETE FROM jobs")  # count the second pass on its own
        render_project(project, None, None, None, workers=0)
        second, rendered_chars = synthesized(project.root)
        project.close()

    print(
        f"book: {args.book.name}, {book_chars:,} characters spoken, first pass synthesized "
        f"{first:,}"
    )
    print(f"edited: one paragraph of chapter {number} ('{chapter.title}')")
    print(
        f"second pass: {rendered_chars:,} characters in re-rendered chapters, "
        f"{second:,} synthesized = {100 * second / book_chars:.3f}% of the book (goal < 1%)"
    )


if __name__ == "__main__":
    main()
