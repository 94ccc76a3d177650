"""How a chapter's proof reads on the terminal (`proof`, and `render --proof`)."""

from __future__ import annotations

from pipelines.proof.results import ChapterProof


def _clock(seconds: float) -> str:
    minutes, secs = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def print_proof(number: int, title: str, proof: ChapterProof, threshold: float) -> None:
    """One chapter's heard share, then each flagged utterance with what was heard."""
    flagged = proof.flagged(threshold)
    print(
        f"{number:4d}  {proof.heard_share * 100:5.1f}% heard  {title}"
        f"  ({proof.words} words, {len(proof.utterances)} utterances,"
        f" {len(flagged)} flagged)"
    )
    for u in flagged:
        print(f"      [{_clock(u.start_s)}] score {u.score:.2f}")
        print(f"        text:  {u.text}")
        print(f"        heard: {u.heard or '(nothing)'}")
