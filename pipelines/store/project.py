"""The project database: one SQLite file (WAL) per book, in the book's own folder.

A project folder holds `project.sqlite`, `source/` (a copy of the manuscript), the cover, and later
`cache/` (synthesized chunks) and `exports/`. Every change is one transaction, so a kill at any
moment leaves the database as it was before or after the change, never between.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.core.errors import ProjectError
from pipelines.core.model import Block, BlockKind, Book, Chapter, ChapterKind, Cover, SourcePos
from pipelines.store.migrations import MIGRATIONS

DB_NAME = "project.sqlite"
METADATA_FIELDS = ("title", "author", "language", "narrator", "year", "genre", "description")


def slugify(text: str, fallback: str = "book") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or fallback


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def atomic_copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)


class Project:
    """An open project. Thread-safe: one connection, serialized by a lock."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = root
        self._conn = conn
        self._lock = threading.RLock()

    # -- opening ---------------------------------------------------------------------------------

    @staticmethod
    def is_project(root: Path) -> bool:
        return (root / DB_NAME).is_file()

    @classmethod
    def open(cls, root: str | Path, *, create: bool = False) -> Project:
        root = Path(root)
        db = root / DB_NAME
        if not db.is_file() and not create:
            raise ProjectError(
                root, "not an Audiobook Studio project", "Import a manuscript into it first."
            )
        root.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(db, check_same_thread=False, timeout=10.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.DatabaseError as exc:
            raise ProjectError(
                db, f"the project database cannot be opened ({exc})", "Restore it from a backup."
            ) from exc
        project = cls(root, conn)
        project._migrate()
        return project

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise ProjectError(
                self.root / DB_NAME,
                f"the project was saved by a newer Audiobook Studio (schema {current})",
                "Update Audiobook Studio to open it.",
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            with self.transaction() as cur:
                for statement in _split_sql(script):
                    cur.execute(statement)
                cur.execute(f"PRAGMA user_version = {version}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """One atomic unit of work (BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on error)."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- folders ---------------------------------------------------------------------------------

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def cache_dir(self) -> Path:
        path = self.root / "cache"
        path.mkdir(exist_ok=True)
        return path

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def cover_path(self) -> Path | None:
        rows = self.query("SELECT cover_file FROM book WHERE id = 1")
        if rows and rows[0]["cover_file"]:
            path = self.root / rows[0]["cover_file"]
            return path if path.is_file() else None
        return None

    # -- the book --------------------------------------------------------------------------------

    def save_book(self, book: Book, source: Path | None = None, source_sha256: str = "") -> None:
        """Store an imported book, replacing the previous import of it.

        The author's own edits survive a re-import of the same text: a chapter found again at the
        same place in the source keeps the title and inclusion the author gave it.
        """
        if source is not None:
            self.source_dir.mkdir(exist_ok=True)
            atomic_copy(source, self.source_dir / source.name)
        cover_file = None
        if book.cover is not None:
            cover_file = f"cover{book.cover.extension}"
            atomic_write_bytes(self.root / cover_file, book.cover.data)
        edits = self._author_edits()
        with self.transaction() as cur:
            existing = cur.execute("SELECT * FROM book WHERE id = 1").fetchone()
            meta = {f: getattr(book, f) for f in METADATA_FIELDS}
            if existing is not None:
                # Metadata the author typed in wins over what the file says.
                for f in json.loads(existing["edited_fields"] or "[]"):
                    meta[f] = existing[f]
            cur.execute("DELETE FROM book")
            cur.execute(
                "INSERT INTO book (id, title, author, language, narrator, year, genre, description,"
                " source_file, source_format, source_sha256, cover_file, imported_at,"
                " edited_fields) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *(meta[f] for f in METADATA_FIELDS),
                    f"source/{source.name}" if source else None,
                    book.source_format,
                    source_sha256,
                    cover_file or (existing["cover_file"] if existing else None),
                    _now(),
                    existing["edited_fields"] if existing else "[]",
                ),
            )
            cur.execute("DELETE FROM blocks")
            cur.execute("DELETE FROM chapters")
            for position, chapter in enumerate(book.chapters):
                key = _chapter_key(chapter.pos.ref, chapter.title)
                title, included, reason = chapter.title, chapter.included, chapter.excluded_reason
                if key in edits:
                    title, included, reason = edits[key]
                cur.execute(
                    "INSERT INTO chapters (position, title, original_title, kind, part, included,"
                    " excluded_reason, source_ref, source_line, source_page, source_index)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        position,
                        title,
                        chapter.title,
                        chapter.kind.value,
                        chapter.part,
                        int(included),
                        reason,
                        *_pos_columns(chapter.pos),
                    ),
                )
                chapter_id = cur.lastrowid
                cur.executemany(
                    "INSERT INTO blocks (chapter_id, position, kind, level, text, source_ref,"
                    " source_line, source_page, source_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (chapter_id, i, b.kind.value, b.level, b.text, *_pos_columns(b.pos))
                        for i, b in enumerate(chapter.blocks)
                    ],
                )

    def _author_edits(self) -> dict[str, tuple[str, bool, str | None]]:
        rows = self.query(
            "SELECT title, original_title, included, excluded_reason, source_ref, edited"
            " FROM chapters WHERE edited = 1"
        )
        return {
            _chapter_key(r["source_ref"] or "", r["original_title"]): (
                r["title"],
                bool(r["included"]),
                r["excluded_reason"],
            )
            for r in rows
        }

    def load_book(self, *, with_blocks: bool = True) -> Book:
        rows = self.query("SELECT * FROM book WHERE id = 1")
        if not rows:
            raise ProjectError(self.root, "the project holds no book", "Import a manuscript.")
        row = rows[0]
        book = Book(
            title=row["title"],
            author=row["author"],
            language=row["language"],
            narrator=row["narrator"],
            year=row["year"],
            genre=row["genre"],
            description=row["description"],
            source_format=row["source_format"] or "",
        )
        cover = self.cover_path
        if cover is not None:
            media = "image/png" if cover.suffix == ".png" else "image/jpeg"
            book.cover = Cover(cover.read_bytes(), media)
        book.chapters = self.chapters(with_blocks=with_blocks)
        return book

    def chapters(self, *, with_blocks: bool = True) -> list[Chapter]:
        chapters: dict[int, Chapter] = {}
        for r in self.query("SELECT * FROM chapters ORDER BY position"):
            chapters[r["id"]] = _chapter_from_row(r)
        if with_blocks:
            for r in self.query("SELECT * FROM blocks ORDER BY chapter_id, position"):
                chapters[r["chapter_id"]].blocks.append(_block_from_row(r))
        return list(chapters.values())

    def chapter(self, number: int) -> Chapter:
        """The chapter at 1-based `number` in reading order (excluded ones counted)."""
        return self.chapter_by_id(self._chapter_id(number))

    def chapter_title(self, chapter_id: int) -> str:
        """The chapter's title; "" when there is no such chapter (any more)."""
        rows = self.query("SELECT title FROM chapters WHERE id = ?", (chapter_id,))
        return str(rows[0]["title"]) if rows else ""

    def chapter_by_id(self, chapter_id: int) -> Chapter:
        """One chapter with its blocks, by database id."""
        rows = self.query("SELECT * FROM chapters WHERE id = ?", (chapter_id,))
        if not rows:
            raise LookupError(f"chapter {chapter_id} no longer exists")
        chapter = _chapter_from_row(rows[0])
        chapter.blocks = [
            _block_from_row(b)
            for b in self.query(
                "SELECT * FROM blocks WHERE chapter_id = ? ORDER BY position", (chapter_id,)
            )
        ]
        return chapter

    @property
    def language(self) -> str:
        """The book's language, without loading the rest of the book (or its cover)."""
        rows = self.query("SELECT language FROM book WHERE id = 1")
        return str(rows[0]["language"]) if rows else "en"

    def block_ids(self, chapter_id: int) -> list[int]:
        rows = self.query(
            "SELECT id FROM blocks WHERE chapter_id = ? ORDER BY position", (chapter_id,)
        )
        return [r["id"] for r in rows]

    def set_metadata(self, **fields: str) -> None:
        unknown = set(fields) - set(METADATA_FIELDS)
        if unknown:
            raise ValueError(f"unknown metadata fields: {sorted(unknown)}")
        with self.transaction() as cur:
            row = cur.execute("SELECT edited_fields FROM book WHERE id = 1").fetchone()
            edited = set(json.loads(row["edited_fields"] or "[]")) | set(fields)
            for name, value in fields.items():
                cur.execute(f"UPDATE book SET {name} = ? WHERE id = 1", (value,))
            cur.execute(
                "UPDATE book SET edited_fields = ? WHERE id = 1", (json.dumps(sorted(edited)),)
            )

    def set_cover(self, image: Path) -> None:
        suffix = image.suffix.lower()
        if suffix not in {".jpg", ".jpeg", ".png"}:
            raise ProjectError(image, "the cover must be a JPEG or PNG image", "Convert it first.")
        name = "cover.png" if suffix == ".png" else "cover.jpg"
        atomic_copy(image, self.root / name)
        with self.transaction() as cur:
            cur.execute("UPDATE book SET cover_file = ? WHERE id = 1", (name,))

    # -- chapter editing -------------------------------------------------------------------------

    def _chapter_id(self, number: int) -> int:
        rows = self.query("SELECT id FROM chapters ORDER BY position")
        if not 1 <= number <= len(rows):
            raise ProjectError(
                self.root, f"there is no chapter {number}", f"Chapters are numbered 1-{len(rows)}."
            )
        return int(rows[number - 1]["id"])

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
            cur.execute(
                "INSERT INTO chapters (position, title, original_title, kind, part, included,"
                " excluded_reason, edited) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (
                    100_000 + src["position"],
                    title,
                    title,
                    ChapterKind.CHAPTER.value,
                    src["part"],
                    src["included"],
                    src["excluded_reason"],
                ),
            )
            new_id = cur.lastrowid
            assert new_id is not None
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

    # -- settings --------------------------------------------------------------------------------

    def planning_stamp(self) -> str:
        """A digest of what every chapter's script is planned from besides its own text: the
        settings (cast, modes, pauses), the lexicon, the speaker corrections and the import."""
        digest = hashlib.sha256()
        for sql in (
            "SELECT key, value FROM settings ORDER BY key",
            "SELECT word, spoken, case_sensitive FROM lexicon ORDER BY word",
            "SELECT quote_key, speaker FROM speaker_corrections ORDER BY quote_key",
            "SELECT language, source_sha256, imported_at FROM book",
        ):
            for row in self.query(sql):
                digest.update(json.dumps(list(row)).encode())
        return digest.hexdigest()

    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    # -- pronunciation lexicon -------------------------------------------------------------------

    def lexicon_entries(self) -> list[tuple[str, str, bool]]:
        rows = self.query("SELECT word, spoken, case_sensitive FROM lexicon ORDER BY word")
        return [(r["word"], r["spoken"], bool(r["case_sensitive"])) for r in rows]

    def set_lexicon_entry(self, word: str, spoken: str, case_sensitive: bool = False) -> None:
        if not word.strip() or not spoken.strip():
            raise ProjectError(self.root, "a lexicon entry needs a word and its spoken form", "")
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO lexicon (word, spoken, case_sensitive) VALUES (?, ?, ?)"
                " ON CONFLICT(word) DO UPDATE SET spoken = excluded.spoken,"
                " case_sensitive = excluded.case_sensitive",
                (word.strip(), spoken.strip(), int(case_sensitive)),
            )

    def remove_lexicon_entry(self, word: str) -> bool:
        with self.transaction() as cur:
            cur.execute("DELETE FROM lexicon WHERE word = ?", (word,))
            return cur.rowcount > 0


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def _chapter_key(ref: str, title: str) -> str:
    return f"{ref}\x00{title}"


def _pos_columns(pos: SourcePos) -> tuple[str, int | None, int | None, int | None]:
    return (pos.ref, pos.line, pos.page, pos.index)


def _pos_from_row(row: sqlite3.Row) -> SourcePos:
    return SourcePos(
        ref=row["source_ref"] or "",
        line=row["source_line"],
        page=row["source_page"],
        index=row["source_index"],
    )


def _chapter_from_row(r: sqlite3.Row) -> Chapter:
    return Chapter(
        title=r["title"],
        kind=ChapterKind(r["kind"]),
        part=r["part"],
        included=bool(r["included"]),
        excluded_reason=r["excluded_reason"],
        pos=_pos_from_row(r),
        id=r["id"],
    )


def _block_from_row(row: sqlite3.Row) -> Block:
    return Block(
        kind=BlockKind(row["kind"]),
        text=row["text"],
        pos=_pos_from_row(row),
        level=row["level"],
    )
