"""The author's speaker corrections, keyed by quotation: a re-import of the same text keeps them."""

from __future__ import annotations

from collections.abc import Iterable

from pipelines.store.project import Project


def speaker_corrections(project: Project) -> dict[str, str]:
    """Quotation key -> the speaker the author chose."""
    rows = project.query("SELECT quote_key, speaker FROM speaker_corrections")
    return {r["quote_key"]: r["speaker"] for r in rows}


def save_speaker_corrections(project: Project, rows: Iterable[tuple[str, str, str, str]]) -> None:
    """(quote key, speaker, quote text, corrected at) each; a key corrected again is updated."""
    with project.transaction() as cur:
        cur.executemany(
            "INSERT INTO speaker_corrections (quote_key, speaker, quote_text, corrected_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(quote_key) DO UPDATE SET"
            " speaker = excluded.speaker, corrected_at = excluded.corrected_at",
            list(rows),
        )


def forget_speaker_corrections(project: Project, keys: Iterable[str]) -> None:
    with project.transaction() as cur:
        cur.executemany("DELETE FROM speaker_corrections WHERE quote_key = ?", [(k,) for k in keys])


def import_stamp(project: Project) -> str:
    """Which imported text the project holds: the source's digest and when it was imported."""
    rows = project.query("SELECT source_sha256, imported_at FROM book WHERE id = 1")
    return f"{rows[0]['source_sha256']}:{rows[0]['imported_at']}" if rows else ""
