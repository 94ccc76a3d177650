"""Book metadata (title, author, narrator, year, genre, description) and the cover image."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pipelines.core.errors import StudioError
from pipelines.store import Project
from studio.context import StudioContext
from studio.theme import set_role

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
# Converted to a square PNG here (the core takes JPEG or PNG only, and never imports Qt).
CONVERTED_SUFFIXES = {".svg", ".svgz", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".jfif"}
ACCEPTED = "JPEG, PNG, SVG, WebP, GIF, BMP or TIFF"
COVER_SIDE = 3000
FIELDS = ("title", "author", "narrator", "year", "genre", "language")


def _image_path(mime: QMimeData) -> Path | None:
    for url in mime.urls():
        if url.isLocalFile():
            return Path(url.toLocalFile())
    return None


def prepare_cover(path: Path, work_dir: Path) -> Path:
    """`path` as a JPEG or PNG the core takes: other formats (SVG included) rasterized onto a
    square PNG in `work_dir`. Raises StudioError saying which file, why, and what is accepted."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return path
    if suffix not in CONVERTED_SUFFIXES:
        raise StudioError(
            path, f"{path.name} is not a cover image", f"Drop or choose a {ACCEPTED} image."
        )
    if suffix in {".svg", ".svgz"}:
        from PySide6.QtGui import QColor, QImage, QPainter
        from PySide6.QtSvg import QSvgRenderer

        renderer = QSvgRenderer(str(path))
        if not renderer.isValid():
            raise StudioError(
                path, f"{path.name} is not a readable SVG", f"Use a {ACCEPTED} image."
            )
        image = QImage(COVER_SIDE, COVER_SIDE, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        size = renderer.defaultSize()
        w, h = max(size.width(), 1), max(size.height(), 1)
        scale = COVER_SIDE / max(w, h)
        from PySide6.QtCore import QRectF

        target = QRectF(
            (COVER_SIDE - w * scale) / 2, (COVER_SIDE - h * scale) / 2, w * scale, h * scale
        )
        painter = QPainter(image)
        renderer.render(painter, target)
        painter.end()
    else:
        from PySide6.QtGui import QColor, QImage, QPainter

        source = QImage(str(path))
        if source.isNull():
            raise StudioError(
                path, f"{path.name} could not be read as an image", f"Use a {ACCEPTED} image."
            )
        side = max(source.width(), source.height())
        image = QImage(side, side, QImage.Format.Format_RGB32)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.drawImage((side - source.width()) // 2, (side - source.height()) // 2, source)
        painter.end()
    out = work_dir / f"{path.stem}.cover.png"
    if not image.save(str(out), "PNG"):
        raise StudioError(path, f"{path.name} could not be converted to PNG", "Convert it first.")
    return out


class CoverView(QLabel):
    """Shows the cover; an image dropped on it becomes the new cover."""

    dropped = Signal(Path)

    def __init__(self) -> None:
        super().__init__("Drop a JPEG or PNG cover here")
        self.setAcceptDrops(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedSize(220, 220)
        self.setWordWrap(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("background: #f3f4f6; border: 2px dashed #cbd2dd; border-radius: 8px;")

    def show_image(self, path: Path | None) -> None:
        pixmap = QPixmap(str(path)) if path else QPixmap()
        if pixmap.isNull():
            self.setPixmap(QPixmap())
            self.setText("Drop a JPEG or PNG cover here")
            return
        self.setPixmap(
            pixmap.scaled(
                self.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        # Any file is taken: one that is not an image is explained on drop, never ignored.
        if _image_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _image_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.dropped.emit(path)


class MetadataPanel(QWidget):
    saved = Signal()

    def __init__(self, project: Project, ctx: StudioContext) -> None:
        super().__init__()
        self.project = project
        self.ctx = ctx
        self.edits: dict[str, QLineEdit] = {name: QLineEdit() for name in FIELDS}
        self.edits["narrator"].setPlaceholderText("Left empty: the synthetic voice is credited")
        self.edits["year"].setMaximumWidth(120)
        self.edits["language"].setMaximumWidth(120)
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("The retail description of the book")
        self.cover = CoverView()
        self.cover.dropped.connect(self.set_cover)
        choose = QPushButton("Choose cover…")
        choose.clicked.connect(self._choose_cover)
        self.save_button = QPushButton("Save details")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(lambda: self.ctx.tasks.spawn(self.save()))

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        labels = {
            "title": "Title",
            "author": "Author",
            "narrator": "Narrator",
            "year": "Year",
            "genre": "Genre",
            "language": "Language",
        }
        for name in FIELDS:
            form.addRow(labels[name], self.edits[name])
        form.addRow("Description", self.description)
        details = QGroupBox("Book details")
        details.setLayout(form)

        cover_box = QGroupBox("Cover")
        cover_lay = QVBoxLayout(cover_box)
        cover_lay.addWidget(self.cover, 0, Qt.AlignmentFlag.AlignHCenter)
        cover_lay.addWidget(choose)
        hint = QLabel("Retailers ask for a square image, 2400 × 2400 pixels or more.")
        hint.setWordWrap(True)
        set_role(hint, "muted")
        cover_lay.addWidget(hint)
        cover_lay.addStretch(1)

        row = QHBoxLayout()
        row.addWidget(details, 1)
        row.addWidget(cover_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addLayout(buttons)

    async def reload(self) -> None:
        book = await asyncio.to_thread(self.project.load_book, with_blocks=False)
        for name, edit in self.edits.items():
            edit.setText(str(getattr(book, name) or ""))
        self.description.setPlainText(book.description)
        self.cover.show_image(self.project.cover_path)

    def values(self) -> dict[str, str]:
        out = {name: edit.text().strip() for name, edit in self.edits.items()}
        out["description"] = self.description.toPlainText().strip()
        return out

    async def save(self) -> None:
        values = self.values()
        if not values["title"]:
            self.ctx.reporter.error("The book needs a title.")
            return
        await asyncio.to_thread(lambda: self.project.set_metadata(**values))
        self.ctx.reporter.status("Book details saved", 4000)
        self.saved.emit()

    def set_cover(self, path: Path) -> None:
        self.ctx.tasks.spawn(self._set_cover(path))

    async def _set_cover(self, path: Path) -> None:
        try:
            import tempfile

            with tempfile.TemporaryDirectory() as work:
                image = prepare_cover(path, Path(work))
                await asyncio.to_thread(self.project.set_cover, image)
        except StudioError as exc:
            self.ctx.reporter.error(f"The cover was not set: {exc.problem}. {exc.fix}")
            return
        self.cover.show_image(self.project.cover_path)
        self.ctx.reporter.status(f"Cover set from {path.name}", 4000)

    def _choose_cover(self) -> None:
        dialog = QFileDialog(
            self,
            "Choose a cover image",
            "",
            "Images (*.jpg *.jpeg *.png *.svg *.webp *.gif *.bmp *.tif *.tiff)",
        )
        dialog.fileSelected.connect(lambda f: self.set_cover(Path(f)))
        dialog.open()
