"""CLI commands that make sound: render, export, make."""

from __future__ import annotations

import argparse
import os
import sys
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
from pipelines.cli.jobs import STUCK, newest_jobs, report_stuck
from pipelines.cli.make_start import (
    PROFILE_HELP,
    add_make_arguments,
    early_pool,
    max_workers,
    take,
    workers_count,
)
from pipelines.cli.voice_settings import check_settings, parse_settings, voice_engine
from pipelines.core.diskspace import (
    WORDS_PER_MINUTE,
    check_free_space,
    export_bytes,
    render_bytes,
)
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
from pipelines.store.settings import PROOF

if TYPE_CHECKING:
    from pipelines.engines.pool import SynthPool
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
    *,
    again: str | None = None,
) -> int:
    """Render the chosen chapters with a progress bar; `service` lets `make` keep one set of
    synthesis workers for the chapters and the credits, and `on_event` sees every event too.

    0 when every chapter is rendered; `STUCK` (3) when some are paused or failed, each reason
    printed with the command that carries on. A paused job stays paused (it waits for its cause
    to be fixed and `resume`) unless `force`, a voice on another engine, or `again` (`make`,
    which carries on by itself when run again) queues it once more.
    """
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
            todo = [item.chapter.id for item in plan.todo if item.chapter.id is not None]
            check_render_space(project, todo)
            before = newest_jobs(project)
            queue_render(service, plan)
            after = newest_jobs(project)
            for cid in todo:
                job, was = after.get(cid), before.get(cid)
                if job is None or job.state is not JobState.PAUSED:
                    continue
                other_engine = was is not None and was.voice.engine != job.voice.engine
                if force or again is not None or other_engine:
                    service.resume(job.id)
            service.run()
    return report_stuck(project, todo, again)


def check_render_space(project: Project, chapter_ids: list[int]) -> None:
    """Refuse to start when the project's disk clearly cannot hold the chapters' audio."""
    if not chapter_ids:
        return
    wanted = set(chapter_ids)
    words = sum(c.words for c in project.chapters() if c.id in wanted)
    check_free_space(
        project.root,
        render_bytes(words),
        f"rendering {len(wanted)} chapter(s) (about {words / WORDS_PER_MINUTE:,.0f} minutes)",
    )


def run_queue(project: Project, chapter_ids: list[int], *, workers: int | None = None) -> int:
    """Render what is queued (`resume`, `retry`), with progress bars; reported as `render` does."""
    from pipelines.render.service import RenderService

    with _progress() as progress:
        view = ProgressView(progress)
        with RenderService(project, view, workers=workers) as service:
            service.run()
    return report_stuck(project, chapter_ids)


def _both(first: Listener, second: Listener) -> Listener:
    def call(event: JobEvent) -> None:
        first(event)
        second(event)

    return call


def _choose_profile(project: Project, args: argparse.Namespace) -> None:
    if getattr(args, "profile", None):
        from pipelines.app.delivery import set_delivery_profile

        set_delivery_profile(project, args.profile)


def book_engines(project: Project, voice_spec: str | None) -> set[str]:
    """The engines the book's render jobs speak on: the narrator's (`voice_spec` when given)
    and those of the chapters given voices of their own."""
    from pipelines.cast.narrator import narrator_voice
    from pipelines.cast.voices import chapter_overrides

    engine = voice_engine(voice_spec) or narrator_voice(project).engine
    return {engine, *(v.engine for v in chapter_overrides(project).values())}


def cmd_render(args: argparse.Namespace) -> int:
    settings = parse_settings(args.set)
    with Project.open(Path(args.project)) as project:
        check_settings(settings, book_engines(project, args.voice))
        _choose_profile(project, args)
        code = render_project(
            project,
            args.chapters,
            args.voice,
            settings,
            workers=args.workers,
            force=args.force,
        )
        if code == 0 and (args.proof or project.get_setting(PROOF)):
            _proof_rendered(project)
        return code


def _proof_rendered(project: Project) -> None:
    """Proof-listen the rendered chapters after the render (a stored proof of the same audio
    is read back), and print each one's heard share and flagged sentences."""
    from pipelines.app.proofing import proof_chapters
    from pipelines.cli.proof_report import print_proof
    from pipelines.proof.results import FLAG_BELOW

    numbers = {
        c.id: (n, c.title) for n, c in enumerate(project.chapters(with_blocks=False), start=1)
    }
    for proof in proof_chapters(project):
        number, title = numbers.get(proof.chapter_id, (0, ""))
        print_proof(number, title, proof, FLAG_BELOW)


def check_out_dir(out: str | Path, option: str = "--out") -> Path:
    """The folder the files go to, checked before any work: not a file, and makeable."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise StudioError(
            path,
            "this is a file, not a folder",
            f"Give {option} a folder: a new one is made, an existing one is written into",
        )
    ancestor = path.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise StudioError(
            ancestor, f"this is a file, so the folder {option} names cannot be made in it", ""
        )
    if not os.access(ancestor if not path.exists() else path, os.W_OK | os.X_OK):
        raise StudioError(
            path if path.exists() else ancestor,
            "this folder cannot be written",
            f"Choose a folder you may write to for {option}",
        )
    return path


def check_export_space(project: Project, out: Path, *, m4b: bool, mp3: bool) -> None:
    """Refuse to start an export the disk holding `out` clearly cannot take."""
    from pipelines.store.renders import all_renders

    included = {c.id for c in project.chapters(with_blocks=False) if c.included}
    seconds = sum(r.duration_s for cid, r in all_renders(project).items() if cid in included)
    check_free_space(
        out,
        export_bytes(seconds, m4b=m4b, mp3=mp3),
        f"exporting {seconds / 60:,.0f} minutes of audio",
    )


def cmd_export(args: argparse.Namespace) -> int:
    from pipelines.app.export import export_project

    # No format named: the M4B and the MP3s; otherwise just those named.
    both = not args.m4b and not args.mp3 and not args.readalong
    m4b, mp3 = args.m4b or both, args.mp3 or both
    out = check_out_dir(args.out)
    with Project.open(Path(args.project)) as project:
        _choose_profile(project, args)
        # The read-along's audio is MP3, a third the size of the delivery MP3s: counted as those.
        check_export_space(project, out, m4b=m4b, mp3=mp3 or args.readalong)
        result = export_project(
            project,
            out,
            m4b=m4b,
            mp3=mp3,
            readalong=args.readalong,
            voice_spec=args.voice,
            allow_stale=args.allow_stale,
        )
    for path in result:
        print(path)
    return 0


MAKE_AGAIN = "the same `audiobook-studio make` command"


def cmd_make(args: argparse.Namespace) -> int:
    out = check_out_dir(args.out)
    if args.project:
        check_out_dir(args.project, "--project")
    early = take() or early_pool(args)
    try:
        return _make(args, out, early)
    finally:
        if early is not None:
            early.close(cancel_pending=True)  # no-op once the service has closed it


def _make(args: argparse.Namespace, out: Path, early: SynthPool | None) -> int:
    from pipelines.app.export import export_project, render_credits
    from pipelines.app.imports import import_manuscript
    from pipelines.engines.defaults import default_narrator
    from pipelines.render.service import RenderService

    settings = parse_settings(args.set)
    # --set is checked before the import: against the project's voices when it exists, else
    # against the narrator a new project gets; once more after, for a project found by title.
    if args.project and Project.is_project(Path(args.project)):
        with Project.open(Path(args.project)) as existing:
            check_settings(settings, book_engines(existing, args.voice))
    else:
        check_settings(settings, {voice_engine(args.voice) or default_narrator().engine})
    project = import_manuscript(Path(args.file), args.project)
    with project:
        check_settings(settings, book_engines(project, args.voice))
        _choose_profile(project, args)
        book = project.load_book()
        chapters = [c for c in book.chapters if c.included and c.kind is ChapterKind.CHAPTER]
        console.print(f"[bold]{book.title}[/] — {len(chapters)} chapters, project {project.root}")
        words = sum(c.words for c in book.chapters if c.included)
        check_free_space(
            out,
            export_bytes(words / WORDS_PER_MINUTE * 60, m4b=True, mp3=True),
            f"exporting about {words / WORDS_PER_MINUTE:,.0f} minutes of audio",
        )
        # The early pool serves only if the book speaks on its engine (a project found by
        # title keeps its own narrator).
        engines = book_engines(project, args.voice)
        pools = [early] if early is not None and early.engine_name in engines else []
        with (
            RenderService(project, workers=args.workers, pools=pools) as service,
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

            stuck = render_project(
                project,
                None,
                args.voice,
                settings,
                service=service,
                on_event=early_credits,
                again=MAKE_AGAIN,
            )
            if stuck:
                print(f"error: {book.title} was not exported", file=sys.stderr)
                return stuck
            spoken = credits.result() if credits is not None else None
            if spoken is not None:
                service.release_pools()  # nothing more to say: the workers exit during the export
            check_export_space(project, out, m4b=True, mp3=True)
            files = export_project(
                project,
                out,
                m4b=True,
                mp3=True,
                voice_spec=args.voice,
                service=service,
                credits=spoken,
            )
    m4b = [f for f in files if f.suffix == ".m4b"]
    console.print(f"[green]Audiobook ready:[/] {m4b[0] if m4b else out}")
    for path in files:
        print(path)
    return 0


EXIT_STATUS = (
    "Exit status: 0 when every chapter is rendered; 2 for a bad argument, project or setting; "
    f"{STUCK} when chapters are paused (a cloud key refused, no credit left) or failed: each "
    "reason is printed with the command that carries on, and `queue PROJECT` lists the jobs."
)


def add_render_commands(sub: Any) -> None:
    p = sub.add_parser(
        "render",
        help="render chapters to mastered audio",
        description="Render chapters to mastered audio. " + EXIT_STATUS,
    )
    p.add_argument("project")
    p.add_argument("--chapters", help="which chapters, e.g. 1-3,7 (default: all included)")
    p.add_argument(
        "--voice",
        help="the narrator, ENGINE:VOICE, e.g. piper:joe-us (default: the project's); "
        "chapters given their own voice in the cast keep it",
    )
    p.add_argument(
        "--workers",
        type=workers_count,
        help=f"synthesis processes, 1 to {max_workers()} (default: the engine's)",
    )
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="voice setting, repeatable")
    p.add_argument(
        "--force",
        action="store_true",
        help="render even chapters that are current, and carry on with paused jobs",
    )
    p.add_argument(
        "--proof",
        action="store_true",
        help="then proof-listen the rendered chapters (the book's Proof switch does it always)",
    )
    p.add_argument("--profile", choices=sorted(PROFILES), help=PROFILE_HELP)
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser(
        "export", help="write the finished audiobook (M4B and/or MP3s, a read-along EPUB)"
    )
    p.add_argument("project")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--m4b", action="store_true", help="one M4B with chapter marks")
    p.add_argument("--mp3", action="store_true", help="one MP3 per chapter (ACX)")
    p.add_argument(
        "--readalong",
        action="store_true",
        help="an EPUB 3 of the text with its audio, highlighted as it is read (Media Overlays)",
    )
    p.add_argument("--voice", help="voice for the credits (default: the narrator)")
    p.add_argument(
        "--allow-stale",
        action="store_true",
        help="export chapters whose audio predates a change, listing them in export.json",
    )
    p.add_argument("--profile", choices=sorted(PROFILES), help=PROFILE_HELP)
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser(
        "make",
        help="manuscript to finished audiobook in one go",
        description="Import, render and export in one go; run again, it carries on where it "
        "stopped (paused chapters too). " + EXIT_STATUS,
    )
    add_make_arguments(p)
    p.set_defaults(handler=cmd_make)
