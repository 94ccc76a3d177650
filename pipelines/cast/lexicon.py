"""The project's text-to-speech context: its pronunciation lexicon as the normalizer uses it."""

from __future__ import annotations

from pipelines.speech.lexicon import Lexicon
from pipelines.store import Project


def project_lexicon(project: Project) -> Lexicon:
    return Lexicon(project.lexicon_entries())
