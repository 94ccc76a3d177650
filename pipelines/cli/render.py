"""CLI commands that make sound: render, export, make, voices."""

from __future__ import annotations

import argparse
import json
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from pipelines.audio.profiles import PROFILES
from pipelines.core.errors import StudioError
from pipelines.core.model import ChapterKind
from pipelines.render.events import (
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobStarted,
    JobStateChanged,
    Listener,
)
from pipelines.store import Project
from pipelines.store.jobs import JobState

if TYPE_CHECKING:
    from pipelines.render.service import RenderService

console = Console(stderr=True)


def parse_chapter_list(spec: str, count: int) -> list[int]:
    """'1-3,7' -> [1, 2, 3, 7] (1-based, as `chapters` lists them)."""
    numbers: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            first = int(lo)
            last = int(hi) if sep else first
        except ValueError as exc:
            raise StudioError(None, f"bad chapter list '{spec}'", "Use a form like 1-3,7.") from exc
        if not (1 <= first <= last <= count):
            raise StudioError(None, f"chapters '{part}' are out of range", f"Use 1-{count}.")
        numbers.extend(range(first, last + 1))
    return sorted(set(numbers))


class ProgressView:
    """Draws the render service's events as progress bars with an ETA."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[int, TaskID] = {}
        self.failed: list[str] = []

    def __call__(self, event: JobEvent) -> None:
        task = self.tasks.get(event.job_id)
        if isinstance(event, JobStarted):
            if task is None:
                task = self.progress.add_task(event.chapter_title[:40], total=1.0)
                self.tasks[event.job_id] = task
            cached = (
                f" ({event.chunks_cached}/{event.chunks_total} cached)"
                if event.chunks_cached
                else ""
            )
            self.progress.update(task, description=f"{event.chapter_title[:40]}{cached}")
        elif isinstance(event, JobProgress) and task is not None:
            self.progress.update(task, completed=event.fraction)
        elif isinstance(event, JobFinished) and task is not None:
            verdict = "ACX ok" if event.acx_passed else "ACX FAIL"
            minutes = event.duration_s / 60
            self.progress.update(
                task,
                completed=1.0,
                description=f"{event.chapter_title[:40]} [{minutes:.1f} min, {verdict}]",
            )
        elif isinstance(event, JobFailed):
            self.failed.append(f"{event.chapter_title}: {event.error}")
            if task is not None:
                self.progress.update(task, description=f"{event.chapter_title[:40]} [failed]")
        elif isinstance(event, JobStateChanged) and task is not None:
            self.progress.update(task, description=f"{event.chapter_title[:40]} [{event.state}]")


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def render_project(
    project: Project,
    chapters: str | None,
    voice_spec: str | None,
    settings: dict[str, Any] | None = None,
    workers: int | None = None,
    force: bool = False,
    service: RenderService | None = None,
    on_event: Listener | None = None,
) -> int:
    """Render the chosen chapters with a progress bar; `service` lets `make` keep one set of
    synthesis workers for the chapters and the credits, and `on_event` sees every event too."""
    from contextlib import nullcontext

    from pipelines.app.render import prepare_render, queue_render
    from pipelines.render.service import RenderService

    ids = None
    if chapters:
        all_chapters = project.chapters(with_blocks=False)
        numbers = parse_chapter_list(chapters, len(all_chapters))
        ids = [all_chapters[n - 1].id or 0 for n in numbers]
    with _progress() as progress:
        view = ProgressView(progress)
        owned = service is None
        if service is None:
            service = RenderService(project, workers=workers)
        service.listener = view if on_event is None else _both(view, on_event)
        with service if owned else nullcontext(service):
            plan = prepare_render(
                project,
                service,
                chapter_ids=ids,
                narrator=voice_spec,
                settings=settings,
                force=force,
            )
            for c in plan.excluded:
                console.print(f"[yellow]skipping '{c.title}': excluded ({c.excluded_reason})")
            if plan.current:
                console.print(f"{len(plan.current)} chapter(s) already rendered and up to date")
            if plan.estimates:
                console.print(
                    f"estimated cost: ${plan.usd:.2f} for {plan.chars_billed:,} characters"
                )
            queue_render(service, plan)
            service.run()
    for line in view.failed:
        console.print(f"[red]failed: {line}")
    return 1 if view.failed else 0


def _both(first: Listener, second: Listener) -> Listener:
    def call(event: JobEvent) -> None:
        first(event)
        second(event)

    return call


def parse_settings(pairs: list[str] | None) -> dict[str, Any] | None:
    """`--set speed=1.1 --set noise_scale=0` -> {"speed": 1.1, "noise_scale": 0.0}."""
    if not pairs:
        return None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StudioError(None, f"bad setting '{pair}'", "Use KEY=VALUE, e.g. speed=1.1.")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def _choose_profile(project: Project, args: argparse.Namespace) -> None:
    if getattr(args, "profile", None):
        from pipelines.app.delivery import set_delivery_profile

        set_delivery_profile(project, args.profile)


def cmd_render(args: argparse.Namespace) -> int:
    with Project.open(Path(args.project)) as project:
        _choose_profile(project, args)
        return render_project(
            project,
            args.chapters,
            args.voice,
            parse_settings(args.set),
            workers=args.workers,
            force=args.force,
        )


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.app.export import export_project

    both = not args.m4b and not args.mp3
    with Project.open(Path(args.project)) as project:
        _choose_profile(project, args)
        result = export_project(
            project,
            Path(args.out),
            m4b=args.m4b or both,
            mp3=args.mp3 or both,
            voice_spec=args.voice,
        )
    for path in result:
        print(path)
    return 0


def cmd_make(args: argparse.Namespace) -> int:
    from pipelines.app.export import export_project, render_credits
    from pipelines.app.imports import import_manuscript
    from pipelines.render.service import RenderService

    project = import_manuscript(Path(args.file), args.project)
    with project:
        _choose_profile(project, args)
        book = project.load_book(with_blocks=False)
        chapters = [c for c in book.chapters if c.included and c.kind is ChapterKind.CHAPTER]
        console.print(f"[bold]{book.title}[/] — {len(chapters)} chapters, project {project.root}")
        settings = parse_settings(args.set)
        with (
            RenderService(project, workers=args.workers) as service,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="credits") as side,
        ):
            credits: Future[tuple[Path, Path]] | None = None

            def early_credits(event: JobEvent) -> None:
                # The last chapter is being mastered on one core: the credits go on the other.
                nonlocal credits
                if (
                    credits is None
                    and isinstance(event, JobProgress)
                    and event.stage == "mastering"
                    and not any(j.state is JobState.QUEUED for j in service.queue.all())
                ):
                    credits = side.submit(render_credits, project, service, args.voice)

            failed = render_project(
                project, None, args.voice, settings, service=service, on_event=early_credits
            )
            if failed:
                raise StudioError(
                    project.root,
                    "some chapters failed to render",
                    "Fix the cause shown above and run the same command again.",
                )
            files = export_project(
                project,
                Path(args.out),
                m4b=True,
                mp3=True,
                voice_spec=args.voice,
                service=service,
                credits=credits.result() if credits is not None else None,
            )
    m4b = [f for f in files if f.suffix == ".m4b"]
    console.print(f"[green]Audiobook ready:[/] {m4b[0] if m4b else Path(args.out)}")
    for path in files:
        print(path)
    return 0


def cmd_voices(args: argparse.Namespace) -> int:
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


PROFILE_HELP = "delivery profile the book is mastered and exported for (remembered; default acx)"


def add_render_commands(sub: Any) -> None:
    p = sub.add_parser("render", help="render chapters to mastered audio")
    p.add_argument("project")
    p.add_argument("--chapters", help="which chapters, e.g. 1-3,7 (default: all included)")
    p.add_argument(
        "--voice",
        help="the narrator, ENGINE:VOICE, e.g. piper:joe-us (default: the project's); "
        "chapters given their own voice in the cast keep it",
    )
    p.add_argument("--workers", type=int, help="synthesis processes (default: the engine's)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="voice setting, repeatable")
    p.add_argument("--force", action="store_true", help="render even chapters that are current")
    p.add_argument("--profile", choices=sorted(PROFILES), help=PROFILE_HELP)
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser("export", help="write the finished audiobook (M4B and/or MP3s)")
    p.add_argument("project")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--m4b", action="store_true", help="one M4B with chapter marks")
    p.add_argument("--mp3", action="store_true", help="one MP3 per chapter (ACX)")
    p.add_argument("--voice", help="voice for the credits (default: the narrator)")
    p.add_argument("--profile", choices=sorted(PROFILES), help=PROFILE_HELP)
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("make", help="manuscript to finished audiobook in one go")
    p.add_argument("file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--voice",
        help="ENGINE:VOICE (default: kokoro:af_heart once its model is installed, "
        "else piper:joe-us, the embedded voice)",
    )
    p.add_argument("--project", help="project folder (default: one in the user data folder)")
    p.add_argument("--profile", choices=sorted(PROFILES), help=PROFILE_HELP)
    p.add_argument("--workers", type=int, help="synthesis processes")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="voice setting, repeatable")
    p.set_defaults(handler=cmd_make)

    p = sub.add_parser("voices", help="list the voices of every available engine")
    p.add_argument("--engine")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_voices)
