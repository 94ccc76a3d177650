"""`proof`: proof-listen rendered chapters and print what was not heard as written.

Per chapter, the share of its script heard and each flagged utterance (its text, what was
heard, its score). With `--retakes N`, sentences heard badly in a voice that varies are spoken
again up to N times each and the best take kept (`app.proofing.proof_and_retake`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.cli.jobs import command
from pipelines.cli.proof_report import print_proof
from pipelines.cli.render import parse_chapter_list
from pipelines.core.errors import StudioError
from pipelines.proof.results import FLAG_BELOW
from pipelines.store import Project


def cmd_proof(args: argparse.Namespace) -> int:
    from pipelines.app.proofing import proof_and_retake, proof_chapters
    from pipelines.proof.proofer import recogniser
    from pipelines.store.renders import all_renders

    threshold = float(args.threshold)
    if not 0.0 < threshold <= 1.0:
        raise StudioError(None, f"--threshold {args.threshold} is not a share", "use 0.1 to 1.0")
    if args.retakes < 0:
        raise StudioError(None, "--retakes cannot be negative", "use 0 or more")
    with Project.open(Path(args.project)) as project:
        chapters = project.chapters(with_blocks=False)
        rendered = all_renders(project)
        if args.chapters:
            numbers = parse_chapter_list(args.chapters, len(chapters))
        else:
            numbers = [n for n, c in enumerate(chapters, start=1) if c.id in rendered]
        if not numbers:
            raise StudioError(
                project.root,
                "no chapter has been rendered yet, so there is nothing to listen to",
                f"render the book first with `{command('render', project.root)}`",
            )
        unrendered = [n for n in numbers if chapters[n - 1].id not in rendered]
        if unrendered:
            n = unrendered[0]
            raise StudioError(
                project.root,
                f"chapter {n} has not been rendered, so there is nothing to listen to",
                f"render it with `{command('render', project.root, '--chapters', str(n))}`",
            )
        listener = recogniser(args.size)
        out: list[dict[str, Any]] = []
        if args.retakes:
            from pipelines.render.service import RenderService

            with RenderService(project) as service:
                for n in numbers:
                    chapter = chapters[n - 1]
                    report = proof_and_retake(
                        project,
                        service,
                        chapter.id or 0,
                        retakes=args.retakes,
                        threshold=threshold,
                        listener=listener,
                    )
                    entry = {
                        "number": n,
                        "title": chapter.title,
                        "heard_before_retakes": round(report.first_share, 4),
                        **report.proof.as_dict(threshold),
                        "retaken": [
                            {"text": t.text, "scores": t.scores, "kept": t.kept}
                            for t in report.retaken
                        ],
                    }
                    out.append(entry)
                    if not args.json:
                        print_proof(n, chapter.title, report.proof, threshold)
                        for t in report.retaken:
                            tried = ", ".join(f"{k}: {v:.2f}" for k, v in sorted(t.scores.items()))
                            print(f"      retook “{t.text[:60]}” (takes {tried}): kept {t.kept}")
        else:
            ids = [chapters[n - 1].id or 0 for n in numbers]
            proofs = proof_chapters(project, ids, listener=listener, force=args.force)
            for n, proof in zip(numbers, proofs, strict=True):
                title = chapters[n - 1].title
                out.append({"number": n, "title": title, **proof.as_dict(threshold)})
                if not args.json:
                    print_proof(n, title, proof, threshold)
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


def add_proof_commands(sub: Any) -> None:
    p = sub.add_parser(
        "proof",
        help="proof-listen rendered chapters: a speech recogniser checks every word was said",
        description="Proof-listen rendered chapters with a local speech recogniser (Whisper; "
        "install it with `models download whisper`). Prints per chapter the share of its "
        "script heard and each utterance heard badly: its text, what was heard and its score "
        "(the share of its words heard, in order).",
    )
    p.add_argument("project")
    p.add_argument("--chapters", help="which chapters, e.g. 1-3,7 (default: all rendered)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--retakes",
        type=int,
        default=0,
        metavar="N",
        help="speak badly heard sentences again, up to N times each, keeping the best take "
        "(voices that say a sentence the same way every time are only flagged)",
    )
    p.add_argument(
        "--threshold",
        default=str(FLAG_BELOW),
        help=f"flag utterances with less than this share heard (default {FLAG_BELOW})",
    )
    p.add_argument("--size", default="base", choices=("base", "small", "medium"))
    p.add_argument("--force", action="store_true", help="listen again to renders proofed before")
    p.set_defaults(handler=cmd_proof)
