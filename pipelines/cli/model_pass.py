"""`cast PROJECT model-pass`: the optional model pass over speakers (`app.speaker_pass`).

`--opt-in` / `--opt-out` and `--cap USD` change the book's settings; `--dry-run` shows what
would go (quotations, characters, estimated cost) and sends nothing; a pass sends only with the
author's opt-in, a key, an estimate within the cap, and `--yes` (or a yes at the prompt).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pipelines.store import Project

if TYPE_CHECKING:
    from pipelines.app.speaker_pass import PassPlan


def _print_plan(plan: PassPlan) -> None:
    from pipelines.app.speaker_pass import usd
    from pipelines.script.model_prices import PRICES_AS_OF

    info = plan.as_dict()
    cost = plan.cost
    chapters = ", ".join(str(n) for n in info["chapters"]) or "none"
    print(
        f"model pass: {info['quotations']} unsettled quotations in {info['requests']} requests "
        f"(chapters {chapters}), {info['cached_requests']} answered from the cache"
    )
    print(
        f"to send:    {cost.requests} requests, {cost.quotations} quotations, "
        f"{cost.chars:,} characters (about {cost.input_tokens:,} tokens in, "
        f"{cost.output_tokens:,} out)"
    )
    priced = f"prices of {PRICES_AS_OF}" if cost.price_listed else "not in the price table"
    verdict = "" if info["within_cap"] else "  — OVER THE CAP"
    print(
        f"estimate:   about {usd(cost.usd)} with {plan.model} ({priced}); "
        f"cap {usd(plan.cap_usd)}{verdict}"
    )
    key = "present" if plan.key_present else "not set"
    print(f"opt-in:     {'on' if plan.opted_in else 'off'}; OpenAI key: {key}")


def _confirm(plan: PassPlan) -> bool:
    from pipelines.app.speaker_pass import usd

    if not sys.stdin.isatty():
        return False
    cost = plan.cost
    answer = input(
        f"Send {cost.quotations} quotations with their context to OpenAI ({plan.model}) for "
        f"about {usd(cost.usd)}? [y/N] "
    )
    return answer.strip().lower() in ("y", "yes")


def cmd_model_pass(project: Project, args: argparse.Namespace) -> int:
    from pipelines.app import speaker_pass as sp

    changed = args.opt_in or args.opt_out or args.cap is not None or args.forget
    if args.opt_in or args.opt_out:
        sp.set_opt_in(project, bool(args.opt_in))
    if args.cap is not None:
        sp.set_cap_usd(project, args.cap)
    if args.forget:
        print(f"forgot the speakers the model named for {sp.forget(project)} quotations")
    if changed and not (args.dry_run or args.yes):
        state = "on" if sp.opted_in(project) else "off"
        print(f"model pass: {state} for this book; cap {sp.usd(sp.cap_usd(project))}")
        return 0
    plan = sp.plan_pass(project, args.model, args.chapter)
    if not plan.items and not args.json:
        print("model pass: every quotation is settled; there is nothing to ask")
        return 0
    if args.json and (args.dry_run or not args.yes or not plan.items):
        print(json.dumps({"dry_run": True, **plan.as_dict()}, indent=2))
        return 0
    if not args.json:
        _print_plan(plan)
    if args.dry_run:
        print("dry run: nothing was sent")
        return 0
    sp.check_pass(project, plan)  # refusals (opt-in, key, cap) before any question
    if plan.to_send and not args.yes and not _confirm(plan):
        print("nothing was sent (add --yes to send)")
        return 0
    result = sp.run_pass(project, plan)
    if args.json:
        print(json.dumps({**plan.as_dict(), "result": result.as_dict()}, indent=2))
        return 0
    print(
        f"sent {result.sent} requests ({result.from_cache} answered from the cache), "
        f"spent about {sp.usd(result.usd)}: {result.named} quotations given a speaker, "
        f"{result.unknown} the model could not tell, {result.rejected} answers ignored"
    )
    return 0  # an unusable reply was logged as a warning: its quotations keep their speakers


def add_model_pass_parser(acts: Any) -> None:
    from pipelines.script.model_prices import DEFAULT_MODEL

    a = acts.add_parser(
        "model-pass",
        help="optional: ask an OpenAI chat model about the quotations the rules left unsettled",
        description=(
            "Send each chapter's unsettled quotations (no speaker, or below the low-confidence "
            "line), with a few paragraphs around them and the cast list, to an OpenAI chat "
            "model, and use the speakers it names in place of the rules' guesses. Nothing is "
            "sent unless the book is opted in (--opt-in), an OpenAI key is set, the estimate "
            "is within the book's cap (default $1) and you confirm (--yes). Replies are cached "
            "in the project: asking again about the same text sends nothing. Its accuracy has "
            "not been measured; its answers stay on the low-confidence list to check."
        ),
    )
    a.add_argument("--chapter", type=int, help="one chapter (1-based) instead of the book")
    a.add_argument("--model", default=DEFAULT_MODEL, help=f"chat model (default {DEFAULT_MODEL})")
    a.add_argument("--dry-run", action="store_true", help="show what would be sent; send nothing")
    a.add_argument("--yes", action="store_true", help="send without asking")
    a.add_argument("--cap", type=float, help="set this book's cap for the pass in USD")
    opt = a.add_mutually_exclusive_group()
    opt.add_argument("--opt-in", action="store_true", help="allow this book's text to be sent")
    opt.add_argument("--opt-out", action="store_true", help="never send this book's text")
    a.add_argument("--forget", action="store_true", help="drop the speakers the model named")
