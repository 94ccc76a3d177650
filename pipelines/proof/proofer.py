"""Proof-listening a chapter's render: the recogniser hears the mastered audio, window by
window, and each utterance's words are aligned with what was heard (`align`).

A window is a run of consecutive utterances up to `WINDOW_S` long, cut at utterance
boundaries: Whisper hears 30 seconds at a time, so one pass over a window costs about what one
pass over a single short sentence would, and no word is split between two windows. The audio is
read a window at a time, so memory stays flat however long the chapter. A proof is stored by
the render's script hash (`store.proofs`); proofing a render already proofed with the same model
reads the stored result instead of listening again (the audio's SHA-256 must match too: a
cached chunk replaced under its key makes other audio with the same script hash).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile as sf

from pipelines.audio.dsp import StreamResampler, read_blocks
from pipelines.core.checksums import file_sha256
from pipelines.core.errors import StudioError
from pipelines.proof.align import Span, align_window
from pipelines.proof.asr import SAMPLE_RATE, Recogniser
from pipelines.proof.results import ChapterProof, UtteranceProof
from pipelines.proof.whisper_files import DEFAULT_SIZE, require_model
from pipelines.store import Project
from pipelines.store.proofs import ProofRow, latest_proof, proof_for, save_proof
from pipelines.store.renders import RenderRow, render_of

WINDOW_S = 25.0  # under Whisper's 30 s, leaving room for the padding
PAD_S = 0.25  # heard either side of a window, so a clipped first or last sound still counts

Progress = Callable[[int, int], None]  # (utterances heard, utterances in all)


def recogniser(size: str = DEFAULT_SIZE) -> Recogniser:
    """The recogniser for a Whisper size, from the installed model (an error names the command
    that installs a missing one)."""
    return Recogniser(require_model(size), f"whisper-{size}")


def _render(project: Project, chapter_id: int) -> tuple[RenderRow, Path]:
    render = render_of(project, chapter_id)
    if render is None:
        raise StudioError(
            project.root,
            f"chapter id {chapter_id} has not been rendered, so there is nothing to listen to",
            "render it first (`audiobook-studio render PROJECT --chapters N`)",
        )
    wav = project.root / render.wav
    if not wav.is_file():
        raise StudioError(
            wav, "the chapter's rendered audio is missing", "render the chapter again"
        )
    return render, wav


def _spans(render: RenderRow) -> list[Span]:
    return [
        Span(i, float(s["start"]), float(s["end"]), str(s.get("text", "")), str(s.get("voice", "")))
        for i, s in enumerate(render.spans)
    ]


def windows(spans: list[Span], window_s: float = WINDOW_S) -> Iterator[list[Span]]:
    """Runs of consecutive spans with something to say, each at most `window_s` long (a longer
    utterance is a window of its own)."""
    run: list[Span] = []
    for span in spans:
        if not span.text.strip():
            continue
        if run and span.end_s - run[0].start_s > window_s:
            yield run
            run = []
        run.append(span)
    if run:
        yield run


def read_window(wav: Path, start_s: float, end_s: float) -> np.ndarray:
    """Mono 16 kHz samples of `wav` from `start_s` to `end_s`."""
    rate = int(sf.info(str(wav)).samplerate)
    resampler = StreamResampler(rate, SAMPLE_RATE)
    blocks = read_blocks(wav, round(start_s * rate), round(end_s * rate))
    parts = [resampler.push(b) for b in blocks]
    parts.append(resampler.flush())
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


_AUDIO_SHA: dict[tuple[str, int, int], str] = {}


def audio_sha256(wav: Path) -> str:
    """The SHA-256 of a rendered file, remembered by its stat for the life of the process."""
    st = wav.stat()
    key = (str(wav), st.st_size, st.st_mtime_ns)
    digest = _AUDIO_SHA.get(key)
    if digest is None:
        digest = _AUDIO_SHA[key] = file_sha256(wav)
    return digest


def _from_row(row: ProofRow, current_hash: str, current_audio: str) -> ChapterProof:
    return ChapterProof(
        chapter_id=row.chapter_id,
        script_hash=row.script_hash,
        model=row.model,
        utterances=[UtteranceProof.from_dict(u) for u in row.utterances],
        proofed_at=row.proofed_at,
        current=row.script_hash == current_hash and row.audio_sha256 == current_audio,
    )


def proof_chapter(
    project: Project,
    chapter_id: int,
    listener: Recogniser | None = None,
    *,
    force: bool = False,
    window_s: float = WINDOW_S,
    progress: Progress | None = None,
) -> ChapterProof:
    """Listen to the chapter's render and record what was heard, utterance by utterance.

    A render proofed before by the same model gives its stored proof (`force` listens again).
    """
    render, wav = _render(project, chapter_id)
    listener = listener or recogniser()
    name = listener.name
    audio = audio_sha256(wav)
    if not force:
        stored = proof_for(project, chapter_id, render.script_hash)
        if stored is not None and stored.model == name and stored.audio_sha256 == audio:
            return _from_row(stored, render.script_hash, audio)
    spans = _spans(render)
    duration = float(sf.info(str(wav)).duration)
    lang = project.language
    proofs: dict[int, UtteranceProof] = {}
    total = sum(1 for s in spans if s.text.strip())
    for run in windows(spans, window_s):
        start = max(0.0, run[0].start_s - PAD_S)
        end = min(duration, run[-1].end_s + PAD_S)
        heard = listener.transcribe(read_window(wav, start, end), start, lang)
        for p in align_window(run, heard, lang):
            proofs[p.index] = p
        if progress is not None:
            progress(len(proofs), total)
    # Spans with nothing to say (a silent chunk) are kept, so indexes follow the render's.
    utterances = [
        proofs.get(s.index) or UtteranceProof(s.index, s.start_s, s.end_s, s.text, s.voice, 0, 0)
        for s in spans
    ]
    proof = ChapterProof(
        chapter_id,
        render.script_hash,
        name,
        utterances,
        proofed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    save_proof(
        project,
        ProofRow(
            chapter_id,
            render.script_hash,
            name,
            audio,
            proof.heard_share,
            proof.proofed_at,
            [u.as_dict() for u in utterances],
        ),
    )
    return proof


def chapter_proof(project: Project, chapter_id: int) -> ChapterProof | None:
    """The proof of the chapter's render as it is now, else its newest one (whose `current` is
    then False), or None if it was never proofed."""
    render = render_of(project, chapter_id)
    now = render.script_hash if render is not None else ""
    row = proof_for(project, chapter_id, now) if now else None
    row = row or latest_proof(project, chapter_id)
    if row is None:
        return None  # never proofed: no need to hash the audio (a second per hour of it)
    wav = project.root / render.wav if render is not None else None
    audio = audio_sha256(wav) if wav is not None and wav.is_file() else ""
    return _from_row(row, now, audio)
