"""The `renders` table: each chapter's mastered audio, with what was spoken (the script hash),
its timings and its ACX check. One row per chapter, whichever job or worker made it.

A render made by a local job also keeps what it was made from (`made_from`): digests of the
chapter's heading and text, the lexicon, the pauses and the cast, and the job's voice and
settings, read in the transaction that records the render (where the render service has just
checked that the chapter still reads as it was planned). Currency is decided by the script hash
alone (`app.currency`); `made_from` only says why a render is stale.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipelines.core.model import BlockKind
from pipelines.store.project import Project
from pipelines.store.settings import (
    CAST_MODE,
    CHAPTER_CAST_MODES,
    CHARACTER_VOICES,
    DIALOGUE_VOICE,
    PAUSES,
    UNKNOWN_SPEAKER_VOICE,
)

# The settings besides the chapter's voice that decide who speaks which line.
_CAST_KEYS = tuple(
    s.key
    for s in (
        CAST_MODE,
        CHAPTER_CAST_MODES,
        CHARACTER_VOICES,
        DIALOGUE_VOICE,
        UNKNOWN_SPEAKER_VOICE,
    )
)


@dataclass(frozen=True, slots=True)
class RenderRow:
    chapter_id: int
    script_hash: str
    wav: str  # relative to the project root
    duration_s: float
    rendered_at: str
    job_id: int | None = None
    spans: list[dict[str, Any]] = field(default_factory=list)
    acx: dict[str, Any] = field(default_factory=dict)
    acx_passed: bool = False
    # What it was made from (`made_from`); filled in when recorded, for a local job's render.
    made_from: dict[str, Any] = field(default_factory=dict)


_COLUMNS = (
    "chapter_id, job_id, script_hash, wav, spans, duration_s, acx, acx_passed, rendered_at,"
    " made_from"
)

Fetch = Callable[[str, Sequence[Any]], list[sqlite3.Row]]


def _row(r: sqlite3.Row) -> RenderRow:
    return RenderRow(
        chapter_id=int(r["chapter_id"]),
        job_id=r["job_id"],
        script_hash=str(r["script_hash"]),
        wav=str(r["wav"]),
        spans=json.loads(r["spans"] or "[]"),
        duration_s=float(r["duration_s"]),
        acx=json.loads(r["acx"] or "{}"),
        acx_passed=bool(r["acx_passed"]),
        rendered_at=str(r["rendered_at"]),
        made_from=json.loads(r["made_from"] or "{}"),
    )


def render_of(project: Project, chapter_id: int) -> RenderRow | None:
    rows = project.query(f"SELECT {_COLUMNS} FROM renders WHERE chapter_id = ?", (chapter_id,))
    return _row(rows[0]) if rows else None


def all_renders(project: Project) -> dict[int, RenderRow]:
    """Every chapter's render, by chapter id."""
    return {r.chapter_id: r for r in map(_row, project.query(f"SELECT {_COLUMNS} FROM renders"))}


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, default=str).encode()).hexdigest()


def block_digests(blocks: Sequence[tuple[str, int, str]]) -> list[str]:
    """A short digest of each block (kind, level, text), as a render's `made_from` keeps them."""
    return [_digest(list(b))[:16] for b in blocks]


def _made_from(fetch: Fetch, chapter_id: int, job_id: int | None) -> dict[str, Any]:
    chapters = fetch("SELECT title FROM chapters WHERE id = ?", (chapter_id,))
    if not chapters:
        return {}
    blocks = [
        (b["kind"], b["level"], b["text"])
        for b in fetch(
            "SELECT kind, level, text FROM blocks WHERE chapter_id = ? ORDER BY position",
            (chapter_id,),
        )
    ]
    opening = 0  # the heading blocks that open the chapter are what is read as its title
    while opening < len(blocks) and blocks[opening][0] == BlockKind.HEADING.value:
        opening += 1
    settings = {
        r["key"]: r["value"]
        for r in fetch("SELECT key, value FROM settings ORDER BY key", ())
        if r["key"] in (*_CAST_KEYS, PAUSES.key)
    }
    corrections = [
        tuple(r) for r in fetch("SELECT quote_key, speaker FROM speaker_corrections", ())
    ]
    made = {
        "title": str(chapters[0]["title"]),
        "heading": [text for _, _, text in blocks[:opening]],
        "text": _digest(blocks[opening:]),
        # Each block's own digest, in reading order: which paragraphs changed since
        # (`block_digests`, `app.editing.stale_blocks`).
        "blocks": block_digests(blocks),
        "lexicon": _digest(
            [
                tuple(r)
                for r in fetch("SELECT word, spoken, case_sensitive FROM lexicon ORDER BY word", ())
            ]
        ),
        "pauses": _digest(settings.get(PAUSES.key)),
        "cast": _digest([[settings.get(k) for k in _CAST_KEYS], sorted(corrections)]),
    }
    if job_id is not None:
        jobs = fetch("SELECT engine, voice, settings FROM jobs WHERE id = ?", (job_id,))
        if jobs:
            made["voice"] = f"{jobs[0]['engine']}:{jobs[0]['voice']}"
            made["settings"] = json.loads(jobs[0]["settings"] or "{}")
    return made


def made_from_now(project: Project, chapter_id: int) -> dict[str, Any]:
    """What a render of the chapter recorded now would keep as `made_from` (voice aside)."""
    return _made_from(project.query, chapter_id, None)


def write_render(cur: sqlite3.Cursor, row: RenderRow) -> None:
    """Record a render inside the caller's transaction (it replaces the chapter's last one).
    A local job's render keeps what its chapter reads as now (see the module's doc)."""
    made = row.made_from
    if not made and row.job_id is not None:
        made = _made_from(
            lambda sql, args: cur.execute(sql, args).fetchall(), row.chapter_id, row.job_id
        )
    cur.execute(
        f"INSERT OR REPLACE INTO renders ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.chapter_id,
            row.job_id,
            row.script_hash,
            row.wav,
            json.dumps(row.spans),
            row.duration_s,
            json.dumps(row.acx),
            int(row.acx_passed),
            row.rendered_at,
            json.dumps(made, ensure_ascii=False),
        ),
    )


def save_render(project: Project, row: RenderRow) -> None:
    with project.transaction() as cur:
        write_render(cur, row)
