"""The image drop zone: drag from a file manager or a browser, paste, or click to browse.

Checking and thumbnailing the image happen off the UI thread; a refused file leaves the previous
image in place and says why right here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QFileDialog, QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from pixdesk.config import data_dir
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn

if TYPE_CHECKING:
    from pixdesk.api.images import ImageInfo

# Image decoding (Pillow) is imported with the first image, not with the window: the helpers below import it.


def _rejected() -> type[Exception]:
    """`ImageRejected`, for an `except` clause (evaluated only when something was raised)."""
    from pixdesk.api.images import ImageRejected

    return ImageRejected


def is_web_url(text: str) -> bool:
    from pixdesk.api.images import is_web_url as web_url

    return web_url(text)


IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif *.tif *.tiff);;All files (*)"
THUMB_SIDE = 360


@dataclass
class LoadedImage:
    source: str  # a local path or an http(s) URL
    info: ImageInfo | None
    thumbnail: QImage | None


def _load(path: str) -> LoadedImage:
    from pixdesk.api.images import inspect_image, thumbnail_png

    info = inspect_image(path)
    thumb = QImage.fromData(thumbnail_png(path, THUMB_SIDE))
    return LoadedImage(path, info, thumb)


def _save_pasted(image: QImage) -> str:
    folder = data_dir() / "pasted"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{id(image) % 10000}.png"
    if not image.save(str(path)):
        raise _rejected()("The pasted image could not be saved.")
    return str(path)


def _human_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{max(1, size // 1000)} KB"


class ImageDropZone(QFrame):
    image_changed = Signal(str)
    rejected = Signal(str)
    loading_changed = Signal(bool)  # an image is being checked: until it settles, `source` is the old one

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageDrop")
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(QSize(200, 90))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Image")
        # A visible focus ring for keyboard users, and a highlight while something is dragged over it.
        self.setStyleSheet(
            "#imageDrop { border: 1px solid palette(mid); border-radius: 4px; }"
            "#imageDrop:focus { border: 2px solid palette(highlight); }"
            '#imageDrop[hover="true"] { border: 2px dashed palette(highlight); }'
        )
        self.setAccessibleDescription("Drop an image here, paste one, or press Enter to browse")
        self.current: LoadedImage | None = None
        self._generation = 0
        self._pending: int | None = None
        self._hovering = False

        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumHeight(32)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.placeholder = QLabel("Drop an image here\nor click to browse · Ctrl+V to paste")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.placeholder.setMinimumHeight(32)
        # One line about the image (name, size, format), elided to fit; the whole of it is the tooltip.
        self.title = QLabel()
        self.title.setObjectName("imageTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self._title_text = ""
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.details = QLabel()
        self.details.setObjectName("imageDetails")
        self.details.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.notes = self.details  # notes about the image share the reserved line below (errors come first)
        # Two lines always reserved under the picture: a refusal or the notes about the image, read in full,
        # without moving anything when they appear.
        self.error = QLabel()
        self.error.setObjectName("imageDropError")
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.error.setFixedHeight(self.error.fontMetrics().lineSpacing() * 2 + 2)
        self._problem = ""
        self._note_text = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(1)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.title)
        layout.addWidget(self.error)
        self._render()

    # -- what others read --------------------------------------------------------------------------
    @property
    def source(self) -> str | None:
        return self.current.source if self.current else None

    @property
    def is_loading(self) -> bool:
        return self._pending is not None

    def _set_pending(self, ticket: int | None) -> None:
        was = self._pending is not None
        self._pending = ticket
        if was != (ticket is not None):
            self.loading_changed.emit(ticket is not None)

    def error_text(self) -> str:
        """Why the last image was refused ("" when it was not)."""
        return self._problem

    def show_problem(self, message: str) -> None:
        """A problem with the current image that the server or a later check found: shown in place."""
        self._problem = message
        self._show_line()

    def _show_line(self) -> None:
        if self._problem:
            self.error.setText(f"⚠ {self._problem}")
            self.error.setStyleSheet(f"color: {theme.error_color()};")
        else:
            self.error.setText(self._note_text)
            self.error.setStyleSheet(f"color: {theme.note_color()};" if self._note_text else "")
        self.error.setToolTip(self.error.text())

    # -- taking an image ---------------------------------------------------------------------------
    def load_path(self, path: str) -> None:
        self._generation += 1
        ticket = self._generation
        self._set_title(f"Checking {Path(path).name}…")
        self._set_pending(ticket)
        spawn(self._load_path(path, ticket))

    async def _load_path(self, path: str, ticket: int) -> None:
        try:
            loaded = await off_ui_thread(_load, path)
        except _rejected() as exc:
            if ticket == self._generation and shiboken6.isValid(self):
                self._refuse(str(exc))
            return
        if ticket == self._generation and shiboken6.isValid(self):  # the window may have closed meanwhile
            self._accept(loaded)

    def set_url(self, url: str, preview: QImage | None = None) -> None:
        self._generation += 1
        self._set_pending(None)
        self._accept(LoadedImage(url, None, preview))

    def take_mime(self, mime: QMimeData) -> bool:
        urls = [u for u in mime.urls() if u.isValid()]
        for url in urls:
            if url.isLocalFile():
                self.load_path(url.toLocalFile())
                return True
            if is_web_url(url.toString()):
                preview = QImage(mime.imageData()) if mime.hasImage() else None
                self.set_url(url.toString(), preview)
                return True
        if mime.hasImage():
            image = QImage(mime.imageData())
            if image.isNull():
                self._refuse("The pasted data is not an image PixDesk can read.")
                return False
            self._generation += 1
            self._set_pending(self._generation)
            spawn(self._take_raw(image, self._generation))
            return True
        text = mime.text().strip() if mime.hasText() else ""
        if is_web_url(text):
            self.set_url(text)
            return True
        if text and Path(text).is_file():
            self.load_path(text)
            return True
        self._refuse("That is not an image: drop a JPEG, PNG or WebP file, or an image from a web page.")
        return False

    async def _take_raw(self, image: QImage, ticket: int) -> None:
        try:
            path = await off_ui_thread(_save_pasted, image)
        except _rejected() as exc:
            if ticket == self._generation and shiboken6.isValid(self):
                self._refuse(str(exc))
            return
        if ticket == self._generation:
            self.load_path(path)

    def paste(self) -> bool:
        return self.take_mime(QGuiApplication.clipboard().mimeData())

    def browse(self) -> None:
        start = str(Path(self.source).parent) if self.source and not is_web_url(self.source) else ""
        path, _ = QFileDialog.getOpenFileName(self, "Choose an image", start, IMAGE_FILTER)
        if path:
            self.load_path(path)

    # -- state -------------------------------------------------------------------------------------
    def _accept(self, loaded: LoadedImage) -> None:
        self._set_pending(None)
        self.current = loaded
        self._problem = ""
        self._render()
        self.image_changed.emit(loaded.source)

    def _refuse(self, message: str) -> None:
        self._set_pending(None)
        self._problem = message
        self._render()
        self.rejected.emit(message)

    def _render(self) -> None:
        loaded = self.current
        self.placeholder.setVisible(loaded is None)
        self.picture.setVisible(loaded is not None)
        if loaded is None:
            if not self.is_loading:
                self.title.clear()
            self._note_text = ""
            self._show_line()
            return
        if loaded.thumbnail is not None and not loaded.thumbnail.isNull():
            pixmap = QPixmap.fromImage(loaded.thumbnail)
            ratio = self.devicePixelRatioF()
            target = self.picture.size() * ratio
            scaled = pixmap.scaled(
                target, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            scaled.setDevicePixelRatio(ratio)
            self.picture.setPixmap(scaled)
        else:
            self.picture.setText("🌐 Web image")
        if loaded.info is not None:
            info = loaded.info
            summary = (
                f"{info.file_name} · {info.width} × {info.height} px · {info.format} · {_human_size(info.file_size)}"
            )
            self._note_text = "  ".join(f"ℹ {n}" for n in info.notes)
        else:
            summary = f"{loaded.source[:200]} · sent to the API as a link"
            self._note_text = ""
        self._set_title(summary)
        self._show_line()
        self.setToolTip(loaded.source)
        self.setAccessibleDescription(
            f"{summary}. Drop or paste another image to replace it, or press Enter to browse."
        )

    def _set_title(self, text: str) -> None:
        self._title_text = text
        self.title.setText(
            self.title.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, max(40, self.title.width()))
        )
        self.title.setToolTip(text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # keep the preview sharp at any size
        super().resizeEvent(event)
        if self.current is not None:
            self._render()

    # -- events ------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage() or mime.hasText():
            self._hovering = True
            self.setProperty("hover", True)
            self.style().polish(self)
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: object) -> None:
        self._hovering = False
        self.setProperty("hover", False)
        self.style().polish(self)

    def dropEvent(self, event: QDropEvent) -> None:
        self.dragLeaveEvent(event)
        if self.take_mime(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.browse()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.browse()
        else:
            super().keyPressEvent(event)


__all__ = ["ImageDropZone", "LoadedImage"]
