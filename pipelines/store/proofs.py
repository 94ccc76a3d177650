"""The `proofs` and `proof_takes` tables: what proof-listening heard in a chapter's render.

A proof is kept per chapter and per script hash of the render it listened to, with the SHA-256
of the audio file, so a proof of audio the chapter no longer has is recognised as stale, and a
render that comes back to audio already proofed (a take set back) finds its proof again without
listening twice. Each chapter
keeps its newest few proofs. `proof_takes` keeps the score of every take of a sentence that was
proofed, so retakes can keep the best one and number the next take after every one tried.
The utterances are stored as the JSON `pipelines.proof.results` writes; this module never looks
inside them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipelines.store.project import Project

# Proofs kept per chapter: the current render's and a few before it (takes being compared).
KEEP_PER_CHAPTER = 4


@dataclass(frozen=True, slots=True)
class ProofRow:
    chapter_id: int
    script_hash: str
    model: str  # which recogniser listened (e.g. "whisper-base")
    audio_sha256: str  # of the mastered file listened to
    heard_share: float
    proofed_at: str
    utterances: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TakeScore:
    digest: str  # `render.planner.take_digest` of the sentence
    take: int
    score: float
    text: str = ""
    heard: str = ""


_COLUMNS = "chapter_id, script_hash, model, audio_sha256, heard_share, utterances, proofed_at"


def _row(r: Any) -> ProofRow:
    return ProofRow(
        chapter_id=int(r["chapter_id"]),
        script_hash=str(r["script_hash"]),
        model=str(r["model"]),
        audio_sha256=str(r["audio_sha256"]),
        heard_share=float(r["heard_share"]),
        utterances=json.loads(r["utterances"] or "[]"),
        proofed_at=str(r["proofed_at"]),
    )


def proof_for(project: Project, chapter_id: int, script_hash: str) -> ProofRow | None:
    """The proof of the chapter's render with this script hash, if one was made."""
    rows = project.query(
        f"SELECT {_COLUMNS} FROM proofs WHERE chapter_id = ? AND script_hash = ?",
        (chapter_id, script_hash),
    )
    return _row(rows[0]) if rows else None


def latest_proof(project: Project, chapter_id: int) -> ProofRow | None:
    """The chapter's newest proof, whichever render it listened to."""
    rows = project.query(
        f"SELECT {_COLUMNS} FROM proofs WHERE chapter_id = ? ORDER BY proofed_at DESC, rowid DESC"
        " LIMIT 1",
        (chapter_id,),
    )
    return _row(rows[0]) if rows else None


def save_proof(project: Project, row: ProofRow) -> None:
    """Record a proof (replacing one of the same render) and forget the chapter's oldest."""
    with project.transaction() as cur:
        cur.execute(
            f"INSERT OR REPLACE INTO proofs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                row.chapter_id,
                row.script_hash,
                row.model,
                row.audio_sha256,
                row.heard_share,
                json.dumps(row.utterances, ensure_ascii=False),
                row.proofed_at,
            ),
        )
        cur.execute(
            "DELETE FROM proofs WHERE chapter_id = ? AND rowid NOT IN (SELECT rowid FROM proofs"
            " WHERE chapter_id = ? ORDER BY proofed_at DESC, rowid DESC LIMIT ?)",
            (row.chapter_id, row.chapter_id, KEEP_PER_CHAPTER),
        )


def take_scores(project: Project, chapter_id: int) -> dict[str, dict[int, TakeScore]]:
    """Every proofed take of the chapter's sentences: digest -> take -> its score."""
    out: dict[str, dict[int, TakeScore]] = {}
    for r in project.query(
        "SELECT digest, take, score, text, heard FROM proof_takes WHERE chapter_id = ?",
        (chapter_id,),
    ):
        score = TakeScore(
            str(r["digest"]), int(r["take"]), float(r["score"]), str(r["text"]), str(r["heard"])
        )
        out.setdefault(score.digest, {})[score.take] = score
    return out


def save_take_scores(project: Project, chapter_id: int, scores: list[TakeScore]) -> None:
    with project.transaction() as cur:
        cur.executemany(
            "INSERT OR REPLACE INTO proof_takes (chapter_id, digest, take, score, text, heard)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(chapter_id, s.digest, s.take, s.score, s.text, s.heard) for s in scores],
        )
