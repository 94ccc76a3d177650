"""Warnings about a manuscript that was read but deserves a look, and the checks that make them.

A warning never stops an import. Each is logged on `pipelines.manuscript` (the command line shows
it on stderr; the studio writes it to its log) in the shape a `ManuscriptError` has: the file,
what was found, what to do. `collect` also hands them to the caller that asked for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pipelines.core.diskspace import WORDS_PER_MINUTE
from pipelines.core.model import Book

log = logging.getLogger("pipelines.manuscript")

# A chapter longer than this is almost always a book whose chapter headings were not found.
LONG_CHAPTER_HOURS = 4

_sink: ContextVar[list[str] | None] = ContextVar("manuscript_warnings", default=None)


def warn(path: str | Path, problem: str, fix: str = "") -> str:
    """Log one warning about `path` (and collect it); returns the message."""
    message = f"{path}: {problem}" + (f". {fix}" if fix else "")
    log.warning("%s", message)
    sink = _sink.get()
    if sink is not None:
        sink.append(message)
    return message


@contextmanager
def collect(into: list[str] | None) -> Iterator[None]:
    """While inside, warnings are appended to `into` as well as logged (nothing when None)."""
    if into is None:
        yield
        return
    token = _sink.set(into)
    try:
        yield
    finally:
        _sink.reset(token)


def check_chapter_lengths(book: Book, path: str | Path) -> None:
    """Warn about each narrated chapter over `LONG_CHAPTER_HOURS` of estimated audio."""
    for number, chapter in enumerate(book.chapters, start=1):
        if not chapter.included:
            continue
        words = chapter.words
        hours = words / WORDS_PER_MINUTE / 60
        if hours <= LONG_CHAPTER_HOURS:
            continue
        length = f"{hours:,.0f}" if hours >= 10 else f"{hours:.1f}"
        warn(
            path,
            f"chapter {number}, '{chapter.title}', is about {length} hours of audio "
            f"({words:,} words at {WORDS_PER_MINUTE} a minute), longer than a chapter should be "
            f"({LONG_CHAPTER_HOURS} hours)",
            "Check that the manuscript marks its chapter headings, or split it after import: "
            f"audiobook-studio chapters PROJECT split {number} --at BLOCK",
        )
