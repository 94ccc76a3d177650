"""`models download`, `models list` and `doctor`: getting local voices ready, headless.

Kept free of heavy imports: the checks behind `doctor` live in `pipelines.app.doctor`, which finds
packages with `importlib.util.find_spec` and asks torch about the GPU only when it is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pipelines import downloads
from pipelines.app import doctor
from pipelines.core.errors import StudioError


def _progress_printer() -> downloads.Progress:
    state = {"file": "", "shown": -1}

    def show(name: str, done: int, total: int | None) -> None:
        if name != state["file"]:
            if state["file"]:
                print(file=sys.stderr)
            state["file"], state["shown"] = name, -1
        if total:
            percent = int(100 * done / total)
            if percent == state["shown"]:
                return
            state["shown"] = percent
            text = f"{name}: {percent:3d}% of {total / 1e6:,.1f} MB"
        else:
            text = f"{name}: {done / 1e6:,.1f} MB"
        print(f"\r{text}", end="", file=sys.stderr, flush=True)

    return show


def cmd_models_download(args: argparse.Namespace) -> int:
    size = getattr(args, "size", None)
    if size and args.name != "whisper":
        raise StudioError(None, f"--size is for the whisper model, not {args.name}", "drop --size")
    name = downloads.whisper_set_name(size) if args.name == "whisper" and size else args.name
    mset = downloads.model_set(name)
    if args.source:
        root = downloads.install_from(mset, args.source)
        print(f"installed {mset.name} from {args.source} into {root}")
        return 0
    print(f"downloading {mset.title} into {mset.root()}", file=sys.stderr)
    root = downloads.download_model(mset, progress=_progress_printer())
    print(file=sys.stderr)
    print(f"{mset.name} is ready in {root}")
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    for mset in downloads.MODEL_SETS.values():
        state = "installed" if downloads.is_installed(mset) else "not installed"
        print(f"{mset.name}: {state} — {mset.title}")
        print(f"  folder: {mset.root()}")
        for item in downloads.status(mset):
            mark = "ok" if item.present else "missing"
            note = "" if item.required else " (training only)"
            print(f"  {mark:7s} {item.path}{note}")
    return 0


def doctor_lines() -> list[str]:
    """Every system check as one line each: `ok   name: detail` or `FIX  name: detail — fix`."""
    return [check.line() for check in doctor.run_checks()]


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = doctor.run_checks()
    if args.json:
        print(json.dumps([c.as_dict() for c in checks], indent=2, ensure_ascii=False))
    else:
        for check in checks:
            print(check.line())
    failed = [c for c in checks if not c.ok]
    required = [c for c in failed if c.severity == "required"]
    if required:
        print(f"{len(required)} required check(s) need a fix", file=sys.stderr)
    elif failed:
        print(f"ready; {len(failed)} optional check(s) could be better", file=sys.stderr)
    return 0 if doctor.required_ok(checks) else 1


def add_model_commands(sub: Any) -> None:
    p = sub.add_parser("models", help="download and list local voice models")
    acts = p.add_subparsers(dest="models_action", required=True, metavar="ACTION")
    a = acts.add_parser("download", help="fetch a model (resumable, checksummed)")
    # A Whisper size other than base is asked for with --size, not by its set's name.
    a.add_argument("name", choices=sorted(n for n in downloads.MODEL_SETS if "-" not in n))
    a.add_argument("--from", dest="source", help="install from a folder of files you already have")
    a.add_argument(
        "--size",
        choices=downloads.WHISPER_SIZES,
        help="which Whisper model, for proof-listening (default: base)",
    )
    a.set_defaults(handler=cmd_models_download)
    a = acts.add_parser("list", help="show which models are installed and where")
    a.set_defaults(handler=cmd_models_list)

    p = sub.add_parser(
        "doctor",
        help="check system libraries, audio, keyring, ffmpeg, disk space, engines and the GPU; "
        "say how to fix gaps (exit 1 when a required check fails)",
    )
    p.add_argument("--json", action="store_true", help="print the checks as a JSON list")
    p.set_defaults(handler=cmd_doctor)
