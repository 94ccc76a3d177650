"""The project database: one SQLite file (WAL) per book, in the book's own folder.

A project folder holds `project.sqlite`, `source/` (a copy of the manuscript), the cover, and later
`cache/` (synthesized chunks) and `exports/`. Every change is one transaction, so a kill at any
moment leaves the database as it was before or after the change, never between.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import unicodedata
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pipelines.core.errors import ProjectError
from pipelines.core.files import copy_atomic, write_bytes_atomic
from pipelines.core.model import Block, BlockKind, Book, Chapter, ChapterKind, Cover, SourcePos
from pipelines.store.chapter_edits import ChapterEdits
from pipelines.store.identity import Seen, match_chapters
from pipelines.store.settings import SETTINGS, Setting, decode

T = TypeVar("T")

METADATA_FIELDS = ("title", "author", "language", "narrator", "year", "genre", "description")


def slugify(text: str, fallback: str = "book") -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or fallback


@dataclass(slots=True)
class BookChanges:
    """What a re-import did to the chapters, by chapter id."""

    unchanged: list[int] = field(default_factory=list)  # same text: jobs and render kept
    changed: list[int] = field(default_factory=list)  # found again with new text: render stale
    added: list[int] = field(default_factory=list)  # new ids, never used before
    removed: list[int] = field(default_factory=list)  # deleted with their jobs and renders


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Project(ChapterEdits):
    """An open project: its folders, the book, settings and lexicon (SQL in this package only)."""

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

    def save_book(
        self, book: Book, source: Path | None = None, source_sha256: str = ""
    ) -> BookChanges:
        """Store an imported book over the previous import of it, chapter by chapter.

        Each chapter found again (`identity.match_chapters`: same text, same place, similar
        text) keeps its id, its jobs and its render: unchanged, the render stays current; with
        new text, the render is stale by its script hash and nothing points it elsewhere. The
        author's own edits survive: a chapter the author renamed or excluded keeps that title
        and inclusion. Chapters no longer in the manuscript go, with their jobs and renders; new
        ones get ids no chapter of the book ever had.
        """
        if source is not None:
            self.source_dir.mkdir(exist_ok=True)
            copy_atomic(source, self.source_dir / source.name)
        cover_file = None
        if book.cover is not None:
            cover_file = f"cover{book.cover.extension}"
            write_bytes_atomic(self.root / cover_file, book.cover.data)
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
            changes, gone_audio = self._save_chapters(cur, book.chapters)
        for wav in gone_audio:  # the audio of chapters no longer in the book
            (self.root / wav).unlink(missing_ok=True)
        return changes

    def _save_chapters(
        self, cur: sqlite3.Cursor, chapters: list[Chapter]
    ) -> tuple[BookChanges, list[str]]:
        old_rows = cur.execute("SELECT * FROM chapters ORDER BY position").fetchall()
        old_blocks: dict[int, list[sqlite3.Row]] = {r["id"]: [] for r in old_rows}
        # A block the author edited is compared by the manuscript's text (`original_text`).
        for b in cur.execute(
            "SELECT id, chapter_id, kind, level, COALESCE(original_text, text) AS text,"
            " text AS edited, original_text IS NOT NULL AS is_edited FROM blocks"
            " ORDER BY chapter_id, position"
        ):
            old_blocks[b["chapter_id"]].append(b)
        old_seen = [
            Seen(
                r["original_title"],
                r["kind"],
                r["source_ref"] or "",
                tuple((b["kind"], b["level"], b["text"]) for b in old_blocks[r["id"]]),
            )
            for r in old_rows
        ]
        new_seen = [
            Seen(
                c.title,
                c.kind.value,
                c.pos.ref,
                tuple((b.kind.value, b.level, b.text) for b in c.blocks),
            )
            for c in chapters
        ]
        found = match_chapters(old_seen, new_seen)
        kept = set(found.values())
        removed = [r["id"] for i, r in enumerate(old_rows) if i not in kept]
        gone_audio: list[str] = []
        for cid in removed:  # the delete cascades to its blocks, jobs, renders, worker jobs
            gone_audio += [
                r["wav"]
                for r in cur.execute("SELECT wav FROM renders WHERE chapter_id = ?", (cid,))
            ]
            cur.execute("DELETE FROM chapters WHERE id = ?", (cid,))
        # Out of the way of UNIQUE(position) while the chapters take their new places.
        cur.execute("UPDATE chapters SET position = -1 - id")
        changes = BookChanges(removed=removed)
        for position, chapter in enumerate(chapters):
            columns = (chapter.kind.value, chapter.part, *_pos_columns(chapter.pos))
            if position not in found:
                chapter_id = self.new_chapter_id(cur)
                cur.execute(
                    "INSERT INTO chapters (id, position, title, original_title, included,"
                    " excluded_reason, kind, part, source_ref, source_line, source_page,"
                    " source_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        chapter_id,
                        position,
                        chapter.title,
                        chapter.title,
                        int(chapter.included),
                        chapter.excluded_reason,
                        *columns,
                    ),
                )
                self._insert_blocks(cur, chapter_id, chapter)
                changes.added.append(chapter_id)
                continue
            i = found[position]
            row, seen = old_rows[i], old_seen[i]
            chapter_id = int(row["id"])
            title, included, reason = chapter.title, chapter.included, chapter.excluded_reason
            if row["edited"]:  # the author's title and inclusion win over the manuscript's
                title, included, reason = (
                    row["title"],
                    bool(row["included"]),
                    row["excluded_reason"],
                )
            cur.execute(
                "UPDATE chapters SET position = ?, title = ?, original_title = ?, included = ?,"
                " excluded_reason = ?, kind = ?, part = ?, source_ref = ?, source_line = ?,"
                " source_page = ?, source_index = ? WHERE id = ?",
                (position, title, chapter.title, int(included), reason, *columns, chapter_id),
            )
            if seen.blocks == new_seen[position].blocks:
                # The same text: the blocks stay (and their ids, and the author's edits of
                # them); only where they sit may move.
                cur.executemany(
                    "UPDATE blocks SET source_ref = ?, source_line = ?, source_page = ?,"
                    " source_index = ? WHERE id = ?",
                    [
                        (*_pos_columns(b.pos), old["id"])
                        for b, old in zip(chapter.blocks, old_blocks[chapter_id], strict=True)
                    ],
                )
            else:
                # A paragraph the author edited keeps the author's text where the manuscript
                # still has it as it was (the author's edit of a changed paragraph is dropped).
                edits: dict[tuple[str, int, str], deque[str]] = defaultdict(deque)
                for b in old_blocks[chapter_id]:
                    if b["is_edited"]:
                        edits[(b["kind"], b["level"], b["text"])].append(b["edited"])
                cur.execute("DELETE FROM blocks WHERE chapter_id = ?", (chapter_id,))
                self._insert_blocks(cur, chapter_id, chapter, edits)
            same = seen == new_seen[position] and row["part"] == chapter.part
            (changes.unchanged if same else changes.changed).append(chapter_id)
        return changes, gone_audio

    @staticmethod
    def _insert_blocks(
        cur: sqlite3.Cursor,
        chapter_id: int,
        chapter: Chapter,
        edits: dict[tuple[str, int, str], deque[str]] | None = None,
    ) -> None:
        """Insert the chapter's blocks; `edits` maps a block as the manuscript has it (kind,
        level, text) to the author's texts for it, used up in reading order."""
        rows = []
        for i, b in enumerate(chapter.blocks):
            text, original = b.text, None
            waiting = edits.get((b.kind.value, b.level, b.text)) if edits else None
            if waiting:
                text, original = waiting.popleft(), b.text
            rows.append(
                (chapter_id, i, b.kind.value, b.level, text, original, *_pos_columns(b.pos))
            )
        cur.executemany(
            "INSERT INTO blocks (chapter_id, position, kind, level, text, original_text,"
            " source_ref, source_line, source_page, source_index)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

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
            raise ProjectError(
                image,
                f"{image.name} is not a JPEG or PNG image, the only covers an M4B can carry",
                "Convert it to JPEG or PNG first (the studio converts SVG, WebP, GIF, BMP, TIFF).",
            )
        name = "cover.png" if suffix == ".png" else "cover.jpg"
        copy_atomic(image, self.root / name)
        with self.transaction() as cur:
            cur.execute("UPDATE book SET cover_file = ? WHERE id = 1", (name,))

    # -- settings --------------------------------------------------------------------------------

    def planning_stamp(self) -> str:
        """A digest of what every chapter's script is planned from besides its own text: the
        settings (cast, modes, pauses), the lexicon, the speaker corrections and the import."""
        digest = hashlib.sha256()
        for row in self.query("SELECT key, value FROM settings ORDER BY key"):
            declared = SETTINGS.get(row["key"])
            if declared is None or declared.plans:  # the sync clock and the cost cap plan nothing
                digest.update(json.dumps(list(row)).encode())
        for sql in (
            "SELECT word, spoken, case_sensitive FROM lexicon ORDER BY word",
            "SELECT quote_key, speaker FROM speaker_corrections ORDER BY quote_key",
            "SELECT language, source_sha256, imported_at FROM book",
        ):
            for row in self.query(sql):
                digest.update(json.dumps(list(row)).encode())
        return digest.hexdigest()

    def get_setting(self, setting: Setting[T]) -> T:
        rows = self.query("SELECT value FROM settings WHERE key = ?", (setting.key,))
        return decode(setting, json.loads(rows[0]["value"]) if rows else None)

    def set_setting(self, setting: Setting[T], value: T) -> None:
        if not setting.accepts(value):
            raise ProjectError(
                self.root,
                f"the setting {setting.key} takes {'/'.join(k.__name__ for k in setting.kinds)},"
                f" not {value!r}",
                "",
            )
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (setting.key, json.dumps(value)),
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
