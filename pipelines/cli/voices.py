"""CLI commands for voices: `voices` lists every available engine's voices, `voices clone` makes
a voice from recordings of a speaker (ElevenLabs instant voice cloning, with their consent)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pipelines.core.errors import StudioError

CLONING_ENGINES = ("elevenlabs",)  # the engines whose accounts can clone a voice from samples


def cmd_voices(args: argparse.Namespace) -> int:
    from pipelines.cli.render import console
    from pipelines.engines.registry import engine_names, get_engine

    rows = []
    for name in engine_names():
        if args.engine and name != args.engine:
            continue
        try:
            voices = get_engine(name).voices()
        except StudioError as exc:  # a cloud engine without a key still lets the rest list
            console.print(f"[yellow]{name}: {exc.message}")
            continue
        for v in voices:
            rows.append(
                {
                    "voice": f"{v.engine}:{v.id}",
                    "name": v.name,
                    "language": v.language,
                    "gender": v.gender,
                    "license": v.license,
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(
                f"{r['voice']:<28} {r['name']:<24} {r['language']:<6} {r['gender']:<7} "
                f"{r['license']}"
            )
    return 0


def cmd_clone(args: argparse.Namespace) -> int:
    from pipelines.engines.registry import get_engine

    engine: Any = get_engine(args.engine)
    voice = engine.clone_voice(
        args.name,
        [Path(p) for group in args.sample for p in group],
        consent=bool(args.consent),
        description=args.description or "",
        remove_background_noise=bool(args.denoise),
    )
    if args.json:
        print(json.dumps({"voice": f"{voice.engine}:{voice.id}", "name": voice.name}))
    else:
        print(f"cloned {voice.name}: cast it as {voice.engine}:{voice.id}")
    return 0


def add_voice_commands(sub: Any) -> None:
    p = sub.add_parser("voices", help="list the voices of every available engine, or clone one")
    p.add_argument("--engine")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_voices)
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    a = acts.add_parser(
        "clone",
        help="make a voice from recordings of one speaker (needs their consent)",
        description="Clone a voice from recordings of one speaker on the provider's account. "
        "The speaker must have agreed to it: say so with --consent, or nothing is sent.",
    )
    a.add_argument("--engine", required=True, choices=CLONING_ENGINES)
    a.add_argument("--name", required=True, help="the new voice's name on the account")
    a.add_argument(
        "--sample",
        required=True,
        action="append",
        metavar="FILE",
        help="a recording of the speaker (MP3, WAV, FLAC …; repeatable, or several at once)",
        nargs="+",
    )
    a.add_argument(
        "--consent",
        action="store_true",
        help="the speaker agreed to having their voice cloned (required)",
    )
    a.add_argument("--description", help="a description stored with the voice")
    a.add_argument(
        "--denoise", action="store_true", help="have the provider remove background noise"
    )
    a.add_argument("--json", action="store_true")
    a.set_defaults(handler=cmd_clone)
