"""The `renders` table: each chapter's mastered audio, with what was spoken (the script hash),
its timings and its ACX check. One row per chapter, whichever job or worker made it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from pipelines.store.project import Project


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


_COLUMNS = "chapter_id, job_id, script_hash, wav, spans, duration_s, acx, acx_passed, rendered_at"


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
    )


def render_of(project: Project, chapter_id: int) -> RenderRow | None:
    rows = project.query(f"SELECT {_COLUMNS} FROM renders WHERE chapter_id = ?", (chapter_id,))
    return _row(rows[0]) if rows else None


def all_renders(project: Project) -> dict[int, RenderRow]:
    """Every chapter's render, by chapter id."""
    return {r.chapter_id: r for r in map(_row, project.query(f"SELECT {_COLUMNS} FROM renders"))}


def write_render(cur: sqlite3.Cursor, row: RenderRow) -> None:
    """Record a render inside the caller's transaction (it replaces the chapter's last one)."""
    cur.execute(
        f"INSERT OR REPLACE INTO renders ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        ),
    )


def save_render(project: Project, row: RenderRow) -> None:
    with project.transaction() as cur:
        write_render(cur, row)
