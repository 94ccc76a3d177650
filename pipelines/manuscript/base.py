"""What the single-stream importers (TXT, Markdown, DOCX, PDF) hand to chapter detection."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.core.model import Block, Cover


@dataclass(slots=True)
class FlatManuscript:
    """A manuscript read as one stream of blocks, before chapters are found.

    Headings the format marks explicitly (Markdown `#`, DOCX heading styles) arrive as HEADING
    blocks with a level; plain text arrives as paragraphs and chapter detection finds the headings.
    `title`/`author` are what the file's metadata says, if anything ("" when unknown).
    """

    blocks: list[Block] = field(default_factory=list)
    title: str = ""
    author: str = ""
    language: str = "en"
    cover: Cover | None = None
    source_format: str = ""
    # True when the format marks headings itself, so detection may trust them.
    has_styled_headings: bool = False
