"""Word timings from proof-listening, for captions and read-along: each word of the chapter's
spoken text with where it is heard in the chapter's audio."""

from __future__ import annotations

from pipelines.proof.proofer import chapter_proof
from pipelines.proof.results import Timed
from pipelines.store import Project


def get_word_timings(project: Project, chapter_id: int) -> list[Timed]:
    """(word, start_s, end_s) for every word of the chapter's spoken text, in order, timed in
    the chapter's current render; words the recogniser did not hear are given the time between
    their heard neighbours. Empty when the current render has not been proofed (captions then
    fall back to utterance spans, `audio.captions`)."""
    proof = chapter_proof(project, chapter_id)
    if proof is None or not proof.current:
        return []
    return [t for u in proof.utterances for t in u.timings]
