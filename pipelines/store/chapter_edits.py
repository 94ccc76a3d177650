"""Chapter editing (rename, include, merge, split, move, block text) and undo snapshots.

Each edit is one transaction on the chapter rows; blocks move with their chapter ids, so a
render's chunks stay tied to the text they were made from.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pipelines.core.errors import ProjectError
from pipelines.core.model import BlockKind, ChapterKind
from pipelines.store.database import Database


class ChapterEdits(Database):
    # -- chapter editing -------------------------------------------------------------------------

    def _chapter_id(self, number: int) -> int:
        rows = self.query("SELECT id FROM chapters ORDER BY position")
        if not 1 <= number <= len(rows):
            raise ProjectError(
                self.root, f"there is no chapter {number}", f"Chapters are numbered 1-{len(rows)}."
            )
        return int(rows[number - 1]["id"])

    @staticmethod
    def new_chapter_id(cur: sqlite3.Cursor) -> int:
        """An id no chapter of this book has ever had (ids are never handed out twice, so a job
        or render left from a deleted chapter can never be read as a new one's)."""
        row = cur.execute(
            "SELECT MAX(COALESCE((SELECT last_id FROM id_high_water WHERE name = 'chapters'), 0),"
            " COALESCE((SELECT MAX(id) FROM chapters), 0))"
        ).fetchone()
        return int(row[0]) + 1

    def _renumber(self, cur: sqlite3.Cursor, ordered_ids: list[int]) -> None:
        # Two passes so the UNIQUE(position) constraint never sees a duplicate mid-way.
        cur.executemany(
            "UPDATE chapters SET position = ? WHERE id = ?",
            [(-(i + 1), cid) for i, cid in enumerate(ordered_ids)],
        )
        cur.executemany(
            "UPDATE chapters SET position = ? WHERE id = ?",
            [(i, cid) for i, cid in enumerate(ordered_ids)],
        )

    def rename_chapter(self, number: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise ProjectError(self.root, "a chapter title cannot be empty", "Give a title.")
        cid = self._chapter_id(number)
        with self.transaction() as cur:
            cur.execute("UPDATE chapters SET title = ?, edited = 1 WHERE id = ?", (title, cid))

    def set_included(self, number: int, included: bool, reason: str | None = None) -> None:
        cid = self._chapter_id(number)
        why = None if included else (reason or "excluded by the author")
        with self.transaction() as cur:
            cur.execute(
                "UPDATE chapters SET included = ?, excluded_reason = ?, edited = 1 WHERE id = ?",
                (int(included), why, cid),
            )

    def merge_chapters(self, number: int, count: int = 2) -> None:
        """Merge `count` consecutive chapters starting at `number` into the first of them."""
        if count < 2:
            raise ProjectError(self.root, "merging needs at least two chapters", "Use --count 2.")
        ids = [self._chapter_id(n) for n in range(number, number + count)]
        with self.transaction() as cur:
            target = ids[0]
            next_pos = cur.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM blocks WHERE chapter_id = ?", (target,)
            ).fetchone()[0]
            for cid in ids[1:]:
                blocks = cur.execute(
                    "SELECT id FROM blocks WHERE chapter_id = ? ORDER BY position", (cid,)
                ).fetchall()
                for row in blocks:
                    cur.execute(
                        "UPDATE blocks SET chapter_id = ?, position = ? WHERE id = ?",
                        (target, next_pos, row["id"]),
                    )
                    next_pos += 1
                cur.execute("DELETE FROM chapters WHERE id = ?", (cid,))
            cur.execute("UPDATE chapters SET edited = 1 WHERE id = ?", (target,))
            order = [r["id"] for r in cur.execute("SELECT id FROM chapters ORDER BY position")]
            self._renumber(cur, order)

    def split_chapter(self, number: int, at_block: int, title: str | None = None) -> None:
        """Start a new chapter at 1-based block `at_block` of chapter `number`."""
        cid = self._chapter_id(number)
        rows = self.query(
            "SELECT id, kind, text FROM blocks WHERE chapter_id = ? ORDER BY position", (cid,)
        )
        if not 2 <= at_block <= len(rows):
            raise ProjectError(
                self.root,
                f"cannot split chapter {number} at block {at_block}",
                f"Choose a block from 2 to {len(rows)}.",
            )
        first = rows[at_block - 1]
        if title is None:
            title = first["text"] if first["kind"] == BlockKind.HEADING.value else ""
        src = self.query("SELECT * FROM chapters WHERE id = ?", (cid,))[0]
        title = " ".join((title or f"{src['title']} (continued)").split())
        with self.transaction() as cur:
            new_id = self.new_chapter_id(cur)
            cur.execute(
                "INSERT INTO chapters (id, position, title, original_title, kind, part, included,"
                " excluded_reason, edited) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (
                    new_id,
                    100_000 + src["position"],
                    title,
                    title,
                    ChapterKind.CHAPTER.value,
                    src["part"],
                    src["included"],
                    src["excluded_reason"],
                ),
            )
            for i, row in enumerate(rows[at_block - 1 :]):
                cur.execute(
                    "UPDATE blocks SET chapter_id = ?, position = ? WHERE id = ?",
                    (new_id, i, row["id"]),
                )
            order = [r["id"] for r in cur.execute("SELECT id FROM chapters ORDER BY position")]
            order.remove(new_id)
            order.insert(order.index(cid) + 1, new_id)
            self._renumber(cur, order)

    def move_chapter(self, number: int, to: int) -> None:
        cid = self._chapter_id(number)
        self._chapter_id(to)  # validates the destination
        with self.transaction() as cur:
            order = [r["id"] for r in cur.execute("SELECT id FROM chapters ORDER BY position")]
            order.remove(cid)
            order.insert(to - 1, cid)
            self._renumber(cur, order)

    def update_block_text(self, block_id: int, text: str) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE blocks SET text = ? WHERE id = ?", (text, block_id))

    def block_info(self, block_id: int) -> tuple[int, BlockKind, str] | None:
        """The block's chapter id, its kind and its text now; None if it is gone."""
        rows = self.query("SELECT chapter_id, kind, text FROM blocks WHERE id = ?", (block_id,))
        if not rows:
            return None
        row = rows[0]
        return int(row["chapter_id"]), BlockKind(row["kind"]), str(row["text"])

    def edit_block_text(self, block_id: int, text: str) -> None:
        """The author's text for a block. The manuscript's text is kept beside it (so a re-import
        that finds the block unchanged in the manuscript keeps the author's); putting the
        manuscript's text back makes the block read as imported again."""
        with self.transaction() as cur:
            # SET's expressions all read the row as it was before the update.
            cur.execute(
                "UPDATE blocks SET original_text = CASE WHEN COALESCE(original_text, text) = ?"
                " THEN NULL ELSE COALESCE(original_text, text) END, text = ? WHERE id = ?",
                (text, text, block_id),
            )

    def edited_block_ids(self, chapter_id: int) -> set[int]:
        """The chapter's blocks whose text the author changed from the manuscript's."""
        rows = self.query(
            "SELECT id FROM blocks WHERE chapter_id = ? AND original_text IS NOT NULL",
            (chapter_id,),
        )
        return {int(r["id"]) for r in rows}

    # -- snapshots for undo ----------------------------------------------------------------------

    def snapshot_chapters(self) -> dict[str, list[tuple[Any, ...]]]:
        """The chapter structure as plain rows; `restore_chapters` puts it back (GUI undo)."""
        return {
            "chapters": [tuple(r) for r in self.query("SELECT * FROM chapters ORDER BY id")],
            "blocks": [tuple(r) for r in self.query("SELECT id, chapter_id, position FROM blocks")],
        }

    def restore_chapters(self, snapshot: dict[str, list[tuple[Any, ...]]]) -> None:
        with self.transaction() as cur:
            cols = [d[1] for d in cur.execute("PRAGMA table_info(chapters)").fetchall()]
            cur.execute("PRAGMA defer_foreign_keys = ON")
            cur.execute("UPDATE chapters SET position = -id - 1000000")
            keep = {row[0] for row in snapshot["chapters"]}
            marks = ", ".join("?" for _ in cols)
            # An upsert, not INSERT OR REPLACE: a replace deletes the row first, and the
            # cascade would take the chapter's blocks with it.
            updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
            for row in snapshot["chapters"]:
                cur.execute(
                    f"INSERT INTO chapters ({', '.join(cols)}) VALUES ({marks})"
                    f" ON CONFLICT(id) DO UPDATE SET {updates}",
                    row,
                )
            cur.executemany(
                "UPDATE blocks SET chapter_id = ?, position = ? WHERE id = ?",
                [(cid, pos, bid) for bid, cid, pos in snapshot["blocks"]],
            )
            for (cid,) in cur.execute("SELECT id FROM chapters").fetchall():
                if cid not in keep:
                    cur.execute("DELETE FROM chapters WHERE id = ?", (cid,))
