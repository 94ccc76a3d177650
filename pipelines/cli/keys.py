"""CLI commands for the cloud voices: `keys set|show|delete openai|elevenlabs|inworld` and
`cost`."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from pipelines.core.secrets import PROVIDERS


def _read_secret(provider: str) -> str:
    """The key from the terminal without echo, or from stdin when piped (never an argument,
    which would land in the shell history and the process list)."""
    if sys.stdin.isatty():
        return getpass.getpass(f"{provider} API key (not shown): ")
    return sys.stdin.readline().strip()


def cmd_keys(args: argparse.Namespace) -> int:
    from pipelines.core import secrets

    status = secrets.keyring_status()
    if args.action == "set":
        info = secrets.set_key(args.provider, _read_secret(args.provider))
        print(f"{info.provider}: key {info.masked} stored in the keyring ({status.backend})")
        return 0
    if args.action == "delete":
        removed = secrets.delete_key(args.provider)
        print(f"{args.provider}: {'key removed from the keyring' if removed else 'no stored key'}")
        return 0
    providers = [args.provider] if args.provider else list(PROVIDERS)
    rows = []
    for name in providers:
        info = secrets.key_info(name)
        rows.append({"provider": name, "source": info.source or None, "key": info.masked or None})
    if args.json:
        print(json.dumps({"keys": rows, "keyring": status.backend, "secure": status.secure}))
    else:
        for r in rows:
            where = f"{r['key']} (from the {r['source']})" if r["source"] else "not set"
            print(f"{r['provider']:<11} {where}")
        print(f"keyring: {status.backend}{'' if status.secure else ' (not secure)'}")
    if status.warning:
        print(f"warning: {status.warning}", file=sys.stderr)
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from pipelines.app.cost import estimate_cost, set_cost_cap
    from pipelines.cast.narrator import narrator_voice
    from pipelines.cli.render import parse_chapter_list
    from pipelines.store import Project

    with Project.open(Path(args.project)) as project:
        if args.cap is not None:
            set_cost_cap(project, args.cap if args.cap > 0 else None)
        voice = narrator_voice(project, args.voice)
        ids = None
        if args.chapters:
            chapters = project.chapters(with_blocks=False)
            numbers = parse_chapter_list(args.chapters, len(chapters))
            ids = [chapters[n - 1].id for n in numbers if chapters[n - 1].id is not None]
        estimate = estimate_cost(project, voice, ids)  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(estimate.as_dict(), indent=2))
    else:
        model = f" ({estimate.model})" if estimate.model else ""
        print(f"voice:      {estimate.voice}{model}")
        print(f"characters: {estimate.chars_total:,} ({estimate.chars_cached:,} already rendered)")
        print(
            f"billed:     {estimate.chars_billed:,} at ${estimate.price_per_million:g} per million"
        )
        print(f"estimate:   ${estimate.usd:.2f}")
        cap = "none" if estimate.cap_usd is None else f"${estimate.cap_usd:.2f}"
        verdict = "" if estimate.within_cap else "  — OVER THE CAP"
        print(f"cap:        {cap}{verdict}")
    if estimate.notice:
        print(f"warning: {estimate.notice}", file=sys.stderr)
    return 0 if estimate.within_cap else 3


def add_key_commands(sub: Any) -> None:
    p = sub.add_parser("keys", help="API keys for cloud voices (kept in the OS keyring)")
    p.set_defaults(handler=cmd_keys, action="show", provider=None, json=False)
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    a = acts.add_parser("set", help="store a key (read from the terminal or stdin)")
    a.add_argument("provider", choices=sorted(PROVIDERS))
    a = acts.add_parser("show", help="which keys are set, and where from (masked)")
    a.add_argument("provider", nargs="?", choices=sorted(PROVIDERS))
    a.add_argument("--json", action="store_true")
    a = acts.add_parser("delete", help="remove a stored key")
    a.add_argument("provider", choices=sorted(PROVIDERS))

    p = sub.add_parser("cost", help="what rendering a book through a cloud voice will cost")
    p.add_argument("project")
    p.add_argument("--voice", help="ENGINE:VOICE (default: the project's narrator)")
    p.add_argument("--chapters", help="which chapters, e.g. 1-3,7 (default: all included)")
    p.add_argument("--cap", type=float, help="set this book's cost cap in USD (0 removes it)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_cost)
