"""The book tab: chapter list on the left; text, details, lexicon and speakers on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from pipelines.store import Project
from studio.context import StudioContext
from studio.panels.chapters import ChaptersPanel
from studio.panels.lexicon import LexiconPanel
from studio.panels.metadata import MetadataPanel
from studio.panels.pages import size_by_current_page
from studio.panels.proof import ProofPanel
from studio.panels.speakers import SpeakersPanel
from studio.panels.text import TextPanel


class BookView(QWidget):
    def __init__(self, project: Project, ctx: StudioContext) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.undo_stack = QUndoStack(self)
        self.chapters = ChaptersPanel(project, ctx, self.undo_stack)
        self.text = TextPanel(project, ctx, self.undo_stack)  # paragraph edits undo here too
        self.metadata = MetadataPanel(project, ctx)
        self.lexicon = LexiconPanel(project, ctx)
        self.speakers = SpeakersPanel(project, ctx)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.text, "Text")
        self.tabs.addTab(self.metadata, "Details && cover")
        self.tabs.addTab(self.lexicon, "Pronunciation")
        self.tabs.addTab(self.speakers, "Speakers")
        self.proof = ProofPanel(project, ctx)
        self.tabs.addTab(self.proof, "Proof")
        size_by_current_page(self.tabs)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.chapters)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([420, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 8)
        layout.addWidget(splitter)

        self.chapters.current_changed.connect(self.text.show_chapter)
        self.chapters.current_changed.connect(self.speakers.show_chapter)
        self.chapters.current_changed.connect(self.proof.show_chapter)
        self.proof.play_requested.connect(self._play_sentence)
        self.proof.edit_requested.connect(self._edit_sentence)
        self.chapters.loaded.connect(self._after_reload)
        self.text.split_requested.connect(self._split)
        self.lexicon.changed.connect(self.text.reload)
        # A fix saved (or undone) from the Text tab shows in the Pronunciation tab's list too.
        self.text.edited.connect(
            lambda _chapter: ctx.tasks.spawn(self.lexicon.reload(), slot="lexicon-reload")
        )

    def _after_reload(self) -> None:
        # A merge or an undo may change the current chapter's text without changing its id.
        self.text.show_chapter(self.chapters.current_id())
        self.speakers.show_chapter(self.chapters.current_id())

    def _play_sentence(self, index: int) -> None:
        self.tabs.setCurrentWidget(self.text)  # where the sentence lights up as it plays
        self.text.player.play_sentence(index)

    def _edit_sentence(self, sentence: str) -> None:
        """Open the editor on the paragraph that says `sentence` (a span's spoken text)."""
        self.tabs.setCurrentWidget(self.text)
        wanted = " ".join(sentence.split())[:40]
        for n, (_block, spoken) in enumerate(self.text.text.pairs, start=1):
            if wanted and wanted in " ".join(spoken.split()):
                self.text.place_cursor(n)
                self.text.edit_current()
                return
        self.ctx.reporter.status("That sentence is no longer in the chapter's text.", 6000)

    def _split(self, chapter_id: int, block: int) -> None:
        numbers = {r.id: n for n, r in enumerate(self.chapters.model.rows, start=1)}
        if chapter_id in numbers:
            self.chapters.split(numbers[chapter_id], block)

    async def load(self) -> None:
        await self.chapters.reload()
        await self.metadata.reload()
        await self.lexicon.reload()
