"""Proof-listening as a use case: proof chapters, and retake the sentences heard badly.

`proof_chapters` proofs the chosen chapters' renders (a stored proof of the same render is read,
not heard again). `proof_and_retake` proofs one rendered chapter and, for each sentence heard
below the threshold in a voice that varies (`Capabilities.varies`), asks for a new take
(`settings.TAKES`, the same mechanism as the author's own new take), renders the chapter again
(only the retaken chunks are spoken; the rest comes from the cache), proofs again and keeps the
best take of each sentence: a take that scores worse than one before is set back. Every take
stays in the chunk cache, and every proofed take's score is kept (`store.proofs.take_scores`),
so the next retake is numbered after all those tried. A sentence in a voice that says it the
same way every time is only flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipelines.app.editing import regenerate_chapter
from pipelines.core.errors import StudioError
from pipelines.engines.registry import voice_varies
from pipelines.proof.asr import Recogniser
from pipelines.proof.proofer import proof_chapter, recogniser
from pipelines.proof.results import FLAG_BELOW, ChapterProof, UtteranceProof
from pipelines.render.planner import take_digest
from pipelines.render.service import RenderService
from pipelines.store import Project
from pipelines.store.proofs import TakeScore, save_take_scores, take_scores
from pipelines.store.renders import render_of
from pipelines.store.settings import PROOF_ACCEPTED, TAKES

DEFAULT_RETAKES = 2  # new takes tried per badly heard sentence, at most


@dataclass(slots=True)
class SentenceTakes:
    """The takes of one sentence that were proofed, and the one kept."""

    text: str
    scores: dict[int, float]  # take -> its score
    kept: int

    @property
    def best(self) -> float:
        return self.scores.get(self.kept, 0.0)


@dataclass(slots=True)
class RetakeReport:
    proof: ChapterProof  # of the chapter's final render
    first_share: float  # the share heard before any retake
    retaken: list[SentenceTakes] = field(default_factory=list)
    renders: int = 0  # renders made for retakes
    flagged_only: list[UtteranceProof] = field(default_factory=list)  # voice never varies


def proof_chapters(
    project: Project,
    chapter_ids: list[int] | None = None,
    *,
    size: str = "base",
    listener: Recogniser | None = None,
    force: bool = False,
) -> list[ChapterProof]:
    """Proof the renders of `chapter_ids` (default: every included chapter that has one)."""
    listener = listener or recogniser(size)  # the model is checked before any chapter
    if chapter_ids is None:
        chapter_ids = [
            c.id
            for c in project.chapters(with_blocks=False)
            if c.included and c.id is not None and render_of(project, c.id) is not None
        ]
    return [proof_chapter(project, cid, listener, force=force) for cid in chapter_ids]


def _digest_scores(proof: ChapterProof) -> dict[str, tuple[float, UtteranceProof]]:
    """Each sentence's score by its take digest (a sentence said twice counts its worse)."""
    out: dict[str, tuple[float, UtteranceProof]] = {}
    for u in proof.utterances:
        if not u.words:
            continue
        d = take_digest(u.text)
        if d not in out or u.score < out[d][0]:
            out[d] = (u.score, u)
    return out


def _record(project: Project, chapter_id: int, proof: ChapterProof) -> None:
    takes = project.get_setting(TAKES).get(str(chapter_id), {})
    save_take_scores(
        project,
        chapter_id,
        [
            TakeScore(d, takes.get(d, 0), score, u.text, u.heard)
            for d, (score, u) in _digest_scores(proof).items()
        ],
    )


def _set_takes(project: Project, chapter_id: int, chosen: dict[str, int]) -> None:
    """Ask for these takes of the chapter's sentences (take 0, the first, drops the entry, so
    the chunk is the one first rendered)."""
    takes = project.get_setting(TAKES)
    mine = takes.setdefault(str(chapter_id), {})
    for digest, take in chosen.items():
        if take:
            mine[digest] = take
        else:
            mine.pop(digest, None)
    project.set_setting(TAKES, takes)


def _render(project: Project, service: RenderService, chapter_id: int) -> None:
    regenerate_chapter(project, service, chapter_id)
    service.run()
    if render_of(project, chapter_id) is None:
        raise StudioError(
            project.root,
            "the chapter could not be rendered again for its retakes",
            "see `audiobook-studio queue PROJECT` for why, fix it, then proof again",
        )


def proof_and_retake(
    project: Project,
    service: RenderService,
    chapter_id: int,
    *,
    retakes: int = DEFAULT_RETAKES,
    threshold: float = FLAG_BELOW,
    listener: Recogniser | None = None,
    on_proof: Callable[[ChapterProof], None] | None = None,
) -> RetakeReport:
    """Proof the chapter's render; retake (up to `retakes` times each) the sentences heard
    below `threshold` in voices that vary, keeping each sentence's best take; returns the proof
    of the final render and what was tried. `on_proof` sees every proof made on the way."""
    listener = listener or recogniser()
    proof = proof_chapter(project, chapter_id, listener)
    report = RetakeReport(proof, proof.heard_share)
    _record(project, chapter_id, proof)
    if on_proof is not None:
        on_proof(proof)
    retaken: dict[str, str] = {}  # digest -> text, of the sentences retaken
    for _attempt in range(max(0, retakes)):
        history = take_scores(project, chapter_id)
        current = project.get_setting(TAKES).get(str(chapter_id), {})
        chosen: dict[str, int] = {}
        for digest, (_score, u) in _digest_scores(proof).items():
            tried = history.get(digest, {})
            best = max((s.score for s in tried.values()), default=u.score)
            if best >= threshold or not voice_varies(u.voice):
                continue
            # Numbered after every take tried, so a take set back is never spoken again.
            chosen[digest] = max([current.get(digest, 0), *tried]) + 1
            retaken[digest] = u.text
        if not chosen:
            break
        _set_takes(project, chapter_id, chosen)
        _render(project, service, chapter_id)
        report.renders += 1
        proof = proof_chapter(project, chapter_id, listener)
        _record(project, chapter_id, proof)
        if on_proof is not None:
            on_proof(proof)
    # Keep each retaken sentence's best take (the earliest of equal scores: fewer changes).
    history = take_scores(project, chapter_id)
    current = project.get_setting(TAKES).get(str(chapter_id), {})
    back: dict[str, int] = {}
    for digest, text in retaken.items():
        scores = {take: s.score for take, s in history.get(digest, {}).items()}
        kept = max(sorted(scores), key=lambda t: scores[t])
        report.retaken.append(SentenceTakes(text, scores, kept))
        if kept != current.get(digest, 0):
            back[digest] = kept
    if back:
        _set_takes(project, chapter_id, back)
        _render(project, service, chapter_id)
        report.renders += 1
        proof = proof_chapter(project, chapter_id, listener)
        _record(project, chapter_id, proof)
        if on_proof is not None:
            on_proof(proof)
    report.proof = proof
    report.flagged_only = [u for u in proof.flagged(threshold) if not voice_varies(u.voice)]
    return report


def accept_sentence(project: Project, chapter_id: int, text: str, accepted: bool = True) -> None:
    """The author listened to a flagged sentence and keeps it as it is (or takes that back):
    it is no longer listed as flagged while its text stays the same."""
    stored = project.get_setting(PROOF_ACCEPTED)
    mine = set(stored.get(str(chapter_id), []))
    key = take_digest(text)
    mine = mine | {key} if accepted else mine - {key}
    stored[str(chapter_id)] = sorted(mine)
    project.set_setting(PROOF_ACCEPTED, stored)


def still_flagged(project: Project, proof: ChapterProof) -> list[UtteranceProof]:
    """The proof's flagged sentences the author has not accepted."""
    accepted = set(project.get_setting(PROOF_ACCEPTED).get(str(proof.chapter_id), []))
    return [u for u in proof.flagged() if take_digest(u.text) not in accepted]
