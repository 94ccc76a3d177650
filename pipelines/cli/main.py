"""The `audiobook-studio` command: every studio action, headless."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines import __version__
from pipelines.cast.lexicon import local_fixes
from pipelines.cli.crash import run_guarded
from pipelines.cli.render import check_out_dir
from pipelines.core.errors import StudioError
from pipelines.core.model import Book, Chapter, ChapterKind
from pipelines.store import Project

Handler = Callable[[argparse.Namespace], int]


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _open(project: str) -> Project:
    return Project.open(Path(project))


# -- manuscript ----------------------------------------------------------------------------------


def cmd_inspect(args: argparse.Namespace) -> int:
    from pipelines.manuscript import load_book

    book = load_book(Path(args.file))
    if args.json:
        _print_json(_numbered_summary(book))
        return 0
    print(f"{book.title} — {book.author or 'unknown author'} [{book.language}]")
    _print_chapter_rows(_chapter_rows(book.chapters))
    return 0


def _numbered_summary(book: Book) -> dict[str, object]:
    """`Book.summary()`, each chapter and set-aside section with its `number`: the one
    `chapters`, `spoken`, `render --chapters` and the rest use once the book is imported."""
    summary = book.summary()
    number = {id(c): i for i, c in enumerate(book.chapters, start=1)}
    read = [c for c in book.body if c.kind is ChapterKind.CHAPTER]
    for key, chapters in (("chapters", read), ("excluded", book.excluded)):
        entries = summary[key]
        assert isinstance(entries, list)
        if len(entries) == len(chapters):
            for entry, chapter in zip(entries, chapters, strict=True):
                entry["number"] = number[id(chapter)]
    return summary


def _chapter_rows(chapters: list[Chapter]) -> list[dict[str, object]]:
    """One row per chapter, numbered from 1 in reading order with the set-aside ones counted:
    the numbers every command takes."""
    return [
        {
            "number": i,
            "title": c.title,
            "kind": c.kind.value,
            "part": c.part,
            "included": c.included,
            "reason": c.excluded_reason,
            "words": c.words,
            "blocks": len(c.blocks),
        }
        for i, c in enumerate(chapters, start=1)
    ]


def _print_chapter_rows(rows: list[dict[str, object]]) -> None:
    """The chapter table `inspect`, `import` and `chapters` print: number, x for a chapter set
    aside, kind, words, title (part), and why it is set aside."""
    for r in rows:
        mark = " " if r["included"] else "x"
        part = f"  [{r['part']}]" if r["part"] else ""
        why = f"  ({r['reason']})" if r["reason"] else ""
        print(f"{r['number']:4d} {mark} {r['kind']:<7} {r['words']:7,d}w  {r['title']}{part}{why}")


def cmd_import(args: argparse.Namespace) -> int:
    from pipelines.app.imports import import_manuscript

    if args.project:
        check_out_dir(args.project, "--project")
    project = import_manuscript(Path(args.file), args.project)
    with project:
        book = project.load_book()
        summary = {"project": str(project.root), **_numbered_summary(book)}
    if args.json:
        _print_json(summary)
    else:
        print(f"project: {project.root}")
        _print_chapter_rows(_chapter_rows(book.chapters))
    return 0


def cmd_chapters(args: argparse.Namespace) -> int:
    from pipelines.app.editing import new_take, rename_chapter

    with _open(args.project) as project:
        action = args.action
        if action == "rename":
            speak = True if args.read_title else False if args.keep_heading else None
            rename_chapter(project, args.number, args.title, speak=speak)
        elif action == "take":
            text, take = new_take(project, project.chapter(args.number).id or 0, args.text)
            print(f"take {take + 1} of “{text}” asked for: render chapter {args.number} to hear it")
        elif action == "merge":
            project.merge_chapters(args.number, args.count)
        elif action == "split":
            project.split_chapter(args.number, args.at, args.title)
        elif action == "move":
            project.move_chapter(args.number, args.to)
        elif action == "exclude":
            project.set_included(args.number, False, args.reason)
        elif action == "include":
            project.set_included(args.number, True)
        chapters = project.chapters()
    rows = _chapter_rows(chapters)
    if args.json:
        _print_json(rows)
        return 0
    _print_chapter_rows(rows)
    return 0


def cmd_spoken(args: argparse.Namespace) -> int:
    from pipelines.app.pronunciation import spoken_chapter

    with _open(args.project) as project:
        chapter = project.chapter(args.chapter)
        pairs = spoken_chapter(project, chapter)
    if args.json:
        _print_json([{"kind": b.kind.value, "written": b.text, "spoken": s} for b, s in pairs])
        return 0
    print(f"# {chapter.title}")
    for block, spoken in pairs:
        if spoken:
            print(spoken if not args.both else f"{block.text}\n  -> {spoken}")
        print()
    return 0


def cmd_lexicon(args: argparse.Namespace) -> int:
    from pipelines.app import pronunciation

    with _open(args.project) as project:
        if args.action == "where":
            found = pronunciation.occurrences(project, args.word, args.case_sensitive)
            for o in found:
                print(f"chapter {o.chapter} ({o.chapter_title}): {o.snippet}")
            print(f"{len(found)} paragraph(s)")
            return 0
        only = _paragraph(project, args.only) if getattr(args, "only", None) else None
        if args.action == "add" and only is not None:
            pronunciation.set_local_fix(project, only, args.word, args.spoken, args.case_sensitive)
        elif args.action == "add":
            project.set_lexicon_entry(args.word, args.spoken, args.case_sensitive)
        elif args.action == "remove" and only is not None:
            if not pronunciation.remove_local_fix(project, only, args.word):
                raise StudioError(args.project, f"'{args.word}' has no fix in that paragraph", "")
        elif args.action == "remove" and not project.remove_lexicon_entry(args.word):
            raise StudioError(args.project, f"'{args.word}' is not in the lexicon", "")
        entries = project.lexicon_entries()
        fixes = local_fixes(project)
    for word, spoken, cs in entries:
        print(f"{word}\t{spoken}{'  (case-sensitive)' if cs else ''}")
    for block_id, own in sorted(fixes.items()):
        for word, spoken, cs in own:
            print(
                f"{word}\t{spoken}  (paragraph {block_id} only{', case-sensitive' if cs else ''})"
            )
    return 0


def _paragraph(project: Project, where: str) -> int:
    """`--only C:P` (chapter C's paragraph P, 1-based) → that block's id."""
    chapter, sep, paragraph = where.partition(":")
    try:
        c, p = int(chapter), int(paragraph)
        ids = project.block_ids(project.chapter(c).id or 0)
        if not sep or not 1 <= p <= len(ids):
            raise ValueError(where)
    except (ValueError, IndexError, LookupError):
        raise StudioError(
            project.root,
            f"--only {where}: no such paragraph",
            "Give CHAPTER:PARAGRAPH, both 1-based (`spoken PROJECT CHAPTER --json` lists them).",
        ) from None
    return ids[p - 1]


def cmd_metadata(args: argparse.Namespace) -> int:
    with _open(args.project) as project:
        fields = {
            k: v
            for k, v in vars(args).items()
            if k in {"title", "author", "narrator", "year", "genre", "description", "language"}
            and v is not None
        }
        if fields:
            project.set_metadata(**fields)
        if args.cover:
            project.set_cover(Path(args.cover))
        book = project.load_book(with_blocks=False)
    _print_json(
        {
            "title": book.title,
            "author": book.author,
            "narrator": book.narrator,
            "language": book.language,
            "year": book.year,
            "genre": book.genre,
            "description": book.description,
            "cover": book.cover is not None,
        }
    )
    return 0


# -- parser --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiobook-studio",
        description="Turn manuscripts into finished audiobooks. No command opens the studio.",
        epilog="Exit status: 0 done; 1 an unexpected error (one line naming the log file that "
        "holds the details); 2 a bad argument, manuscript, project or setting, or a full disk; "
        "3 chapters paused or failed (`queue PROJECT` lists them with the reason, `resume` and "
        "`retry` carry on); 130 interrupted; 141 the reader of the output went away.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="show the chapters detected in a manuscript")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_inspect)

    p = sub.add_parser("import", help="create or update a project from a manuscript")
    p.add_argument("file")
    p.add_argument("--project", help="project folder (default: one in the user data folder)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("chapters", help="list and edit a project's chapters")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_chapters, action="list")
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    a = acts.add_parser("rename", help="give chapter N a new title")
    a.add_argument("number", type=int)
    a.add_argument("title")
    said = a.add_mutually_exclusive_group()
    said.add_argument(
        "--read-title", action="store_true", help="read the new title in place of the heading"
    )
    said.add_argument(
        "--keep-heading", action="store_true", help="keep reading the manuscript's heading"
    )
    a = acts.add_parser("take", help="ask for a new take of a sentence of rendered chapter N")
    a.add_argument("number", type=int)
    a.add_argument("text", help="the sentence (or words of it) as the chapter's audio says it")
    a = acts.add_parser("merge", help="merge chapter N with the ones after it")
    a.add_argument("number", type=int)
    a.add_argument("--count", type=int, default=2, help="how many chapters to merge (default 2)")
    a = acts.add_parser("split", help="start a new chapter at block B of chapter N")
    a.add_argument("number", type=int)
    a.add_argument("--at", type=int, required=True, help="1-based block number")
    a.add_argument("--title")
    a = acts.add_parser("move", help="move chapter N to position TO")
    a.add_argument("number", type=int)
    a.add_argument("to", type=int)
    a = acts.add_parser("exclude", help="leave chapter N out of the audiobook")
    a.add_argument("number", type=int)
    a.add_argument("--reason")
    a = acts.add_parser("include", help="put chapter N back in")
    a.add_argument("number", type=int)

    p = sub.add_parser("spoken", help="show a chapter as it will be spoken")
    p.add_argument("project")
    p.add_argument("chapter", type=int, help="1-based chapter number (as `chapters` lists)")
    p.add_argument("--both", action="store_true", help="show the written text too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_spoken)

    p = sub.add_parser("lexicon", help="the project's pronunciation lexicon")
    p.add_argument("project")
    p.set_defaults(handler=cmd_lexicon, action="list")
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    only_help = "only in chapter C's paragraph P (1-based), not the whole book"
    a = acts.add_parser("add", help="say WORD as SPOKEN")
    a.add_argument("word")
    a.add_argument("spoken")
    a.add_argument("--case-sensitive", action="store_true")
    a.add_argument("--only", metavar="C:P", help=only_help)
    a = acts.add_parser("remove")
    a.add_argument("word")
    a.add_argument("--only", metavar="C:P", help=only_help)
    a = acts.add_parser("where", help="list the paragraphs WORD appears in")
    a.add_argument("word")
    a.add_argument("--case-sensitive", action="store_true")

    p = sub.add_parser("metadata", help="show or change the book's metadata and cover")
    p.add_argument("project")
    for name in ("title", "author", "narrator", "year", "genre", "description", "language"):
        p.add_argument(f"--{name}")
    p.add_argument("--cover", help="a JPEG or PNG image")
    p.set_defaults(handler=cmd_metadata)

    from pipelines.cli.downloads import add_model_commands
    from pipelines.cli.keys import add_key_commands
    from pipelines.cli.proof import add_proof_commands
    from pipelines.cli.queue import add_queue_commands
    from pipelines.cli.render import add_render_commands
    from pipelines.cli.script import add_script_commands
    from pipelines.cli.sync import add_sync_commands
    from pipelines.cli.voices import add_voice_commands

    add_render_commands(sub)
    add_queue_commands(sub)
    add_script_commands(sub)
    add_key_commands(sub)
    add_model_commands(sub)
    add_proof_commands(sub)
    add_sync_commands(sub)
    add_voice_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Exit status: 0 done; 1 an unexpected error (its traceback in a log file,
    named on stderr); 2 a bad argument, manuscript, project or setting, or a full disk; 3 chapters
    paused or failed (`queue PROJECT` lists them); 130 interrupted; 141 stdout's reader went away.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if os.environ.get("PYTHON_KEYRING_BACKEND"):
        from pipelines.core.secrets import settle_keyring

        settle_keyring()  # a keyring that cannot load fails each keyring call politely
    _show_warnings()
    handler: Handler = args.handler
    return run_guarded(handler, args, argv)


class _WarningLine(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """The core's warnings (a stray control character removed, a chapter hours long) as one
    `warning: …` line each on stderr."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setLevel(logging.WARNING)
        self.setFormatter(logging.Formatter("warning: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # follow redirection (tests, pipes) made after the first call
        super().emit(record)


def _show_warnings() -> None:
    core = logging.getLogger("pipelines")
    if not any(isinstance(h, _WarningLine) for h in core.handlers):
        core.addHandler(_WarningLine())
