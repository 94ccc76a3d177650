"""`models download`, `models list` and `doctor`: getting local voices ready, headless.

Kept free of heavy imports: `doctor` finds packages with `importlib.util.find_spec` and asks
torch about the GPU only when torch is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from typing import Any

from pipelines import models, paths


def _progress_printer() -> models.Progress:
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
    mset = models.model_set(args.name)
    if args.source:
        root = models.install_from(mset, args.source)
        print(f"installed {mset.name} from {args.source} into {root}")
        return 0
    print(f"downloading {mset.title} into {mset.root()}", file=sys.stderr)
    root = models.download_model(mset, progress=_progress_printer())
    print(file=sys.stderr)
    print(f"{mset.name} is ready in {root}")
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    for mset in models.MODEL_SETS.values():
        state = "installed" if models.is_installed(mset) else "not installed"
        print(f"{mset.name}: {state} — {mset.title}")
        print(f"  folder: {mset.root()}")
        for item in models.status(mset):
            mark = "ok" if item.present else "missing"
            note = "" if item.required else " (training only)"
            print(f"  {mark:7s} {item.path}{note}")
    return 0


def doctor_lines() -> list[str]:
    """What this install can do, and how to add what it cannot (shown by the GUI too)."""
    from pipelines.engines.registry import check_engine, known_engine_names
    from pipelines.errors import StudioError

    lines = [f"user data: {paths.data_dir()}", f"models: {paths.models_dir()}"]
    for name in known_engine_names():
        try:
            check_engine(name)
        except StudioError as exc:
            lines.append(f"engine {name}: not available: {exc.message}")
        else:
            lines.append(f"engine {name}: available")
    lines.extend(_styletts2_lines())
    return lines


def _styletts2_lines() -> list[str]:
    if importlib.util.find_spec("torch") is None:
        return []
    from pipelines.engines.styletts2 import files

    out = []
    root = files.model_root()
    missing = files.ModelFiles(root).missing()
    if missing:
        out.append(
            f"styletts2 model: missing in {root} — run `audiobook-studio models download styletts2`"
        )
    else:
        out.append(f"styletts2 model: ready in {root}")
    out.append(f"styletts2 voices: add reference clips to {paths.voices_dir('styletts2')}")
    out.append(f"styletts2 device: {_device_line()}")
    return out


def _device_line() -> str:
    import torch

    from pipelines.engines.styletts2.device import choose_device

    try:
        choice = choose_device(torch)
    except ValueError as exc:
        return str(exc)
    if choice.kind == "cuda":
        props = torch.cuda.get_device_properties(choice.name)
        return f"{choice.name} ({props.name}, {props.total_memory / (1 << 30):.0f} GiB)"
    return choice.name + (f" — {choice.warning}" if choice.warning else "")


def cmd_doctor(args: argparse.Namespace) -> int:
    for line in doctor_lines():
        print(line)
    return 0


def add_model_commands(sub: Any) -> None:
    p = sub.add_parser("models", help="download and list local voice models")
    acts = p.add_subparsers(dest="models_action", required=True, metavar="ACTION")
    a = acts.add_parser("download", help="fetch a model (resumable, checksummed)")
    a.add_argument("name", choices=sorted(models.MODEL_SETS))
    a.add_argument("--from", dest="source", help="install from a folder of files you already have")
    a.set_defaults(handler=cmd_models_download)
    a = acts.add_parser("list", help="show which models are installed and where")
    a.set_defaults(handler=cmd_models_list)

    p = sub.add_parser("doctor", help="check engines, models and the GPU; say how to fix gaps")
    p.set_defaults(handler=cmd_doctor)
