"""The image drop zone: drag from a file manager or a browser, paste, or click to browse.

One image shows as a large preview; several (or a folder) turn the zone into a strip of thumbnails, one job per
image. Checking and thumbnailing happen off the UI thread; a refused file leaves the previous image in place and
says why right here, and a refused image in a strip is marked there and left out of the set.

What a drop does: on an empty zone or a single image, one image replaces it (as always) and several replace it with
a strip; once a strip is shown, whatever is dropped, pasted or browsed is added to it (Clear starts over).
The strip's order is the set's order (a storyboard's keyframes): a thumbnail is dragged to a new place, or moved
with Ctrl+Left/Right. A zone made with `allow_set=False` (a transition's last frame) takes one picture only.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from pixdesk.config import data_dir
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn
from pixdesk.ui.thumbnails import decode_png

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
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
THUMB_SIDE = 360
STRIP_THUMB_SIDE = 160  # the strip's thumbnails: small, so 50 of them cost little memory
MAX_BATCH = 50  # images in one set: more is rarely meant, and each is a paid job (times the variations)


@dataclass
class LoadedImage:
    source: str  # a local path or an http(s) URL
    info: ImageInfo | None
    thumbnail: QImage | None


@dataclass(eq=False)
class StripEntry:
    """One image of a strip: still being checked, usable, or refused (with the reason)."""

    source: str
    info: ImageInfo | None = None
    thumbnail: QImage | None = None
    problem: str = ""
    loading: bool = True

    @property
    def usable(self) -> bool:
        return not self.loading and not self.problem

    @property
    def name(self) -> str:
        return self.source.rsplit("/", 1)[-1] if is_web_url(self.source) else Path(self.source).name


def _load(path: str, side: int = THUMB_SIDE) -> LoadedImage:
    from pixdesk.api.images import inspect_image, thumbnail_png

    info = inspect_image(path)
    thumb = decode_png(thumbnail_png(path, side))  # the format named: see pixdesk.ui.thumbnails
    return LoadedImage(path, info, thumb)


def _natural_key(name: str) -> list[object]:
    """'img2' before 'img10', as a file manager sorts them."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.casefold())]


@dataclass
class _Expanded:
    """Dropped sources with folders replaced by their images (sorted by name), and what was left out."""

    sources: list[str]
    skipped: int  # files in dropped folders that are not images
    folders: int
    empty_folders: list[str]


def _expand(sources: list[str]) -> _Expanded:
    """Runs off the UI thread: listing a folder may be slow (a network share, thousands of files)."""
    out: list[str] = []
    skipped = folders = 0
    empty: list[str] = []
    for source in sources:
        path = Path(source)
        if is_web_url(source) or not path.is_dir():
            out.append(source)
            continue
        folders += 1
        try:
            children = [p for p in path.iterdir() if p.is_file()]
        except OSError:
            children = []
        images = sorted((p for p in children if p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: _natural_key(p.name))
        skipped += len(children) - len(images)
        if not images:
            empty.append(path.name or str(path))
        out.extend(str(p) for p in images)
    return _Expanded(out, skipped, folders, empty)


def _save_pasted(image: QImage) -> str:
    folder = data_dir() / "pasted"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{id(image) % 10000}.png"
    if not image.save(str(path)):
        raise _rejected()("The pasted image could not be saved.")
    return str(path)


def _human_size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{max(1, size // 1000)} KB"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- the strip ---------------------------------------------------------------------------------------------
EntryRole = Qt.ItemDataRole.UserRole + 1


class StripModel(QAbstractListModel):
    """The strip's images in order (refused ones included: they are shown, marked, and left out of the set)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[StripEntry] = []
        self.numbered = False  # a storyboard: each usable image is told by its place among the keyframes

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.name
        if role == EntryRole:
            return entry
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.describe(index.row())
        return None

    def describe(self, row: int) -> str:
        """What a person reads about the image at `row` (the tooltip and what a screen reader says)."""
        entry = self.entries[row]
        if entry.loading:
            state = "being checked"
        elif entry.problem:
            state = f"can't be used: {entry.problem}"
        elif entry.info is not None:
            state = f"{entry.info.width} × {entry.info.height} px"
        else:
            state = "sent to the API as a link"
        number = self.number(row) if self.numbered else None
        if number is not None:
            return f"Keyframe {number} of {sum(1 for e in self.entries if e.usable)}: {entry.name} — {state}"
        if self.numbered and entry.problem:
            return f"Left out: {entry.name} — {state}"
        return f"{row + 1}. {entry.name} — {state}"

    def replace(self, entries: list[StripEntry]) -> None:
        self.beginResetModel()
        self.entries = entries
        self.endResetModel()

    def append(self, entries: list[StripEntry]) -> None:
        if not entries:
            return
        first = len(self.entries)
        self.beginInsertRows(QModelIndex(), first, first + len(entries) - 1)
        self.entries.extend(entries)
        self.endInsertRows()

    def move(self, row: int, to: int) -> bool:
        """Move the image at `row` so that it ends up at `to` (both within the strip); False when nothing moved."""
        count = len(self.entries)
        if not (0 <= row < count and 0 <= to < count) or row == to:
            return False
        # Qt's destination is the row *before which* it goes, counted before the move.
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), to + 1 if to > row else to)
        self.entries.insert(to, self.entries.pop(row))
        self.endMoveRows()
        return True

    def number(self, row: int) -> int | None:
        """The place of the image at `row` among the usable ones (1, 2, …), None for one left out."""
        if not 0 <= row < len(self.entries) or not self.entries[row].usable:
            return None
        return sum(1 for e in self.entries[: row + 1] if e.usable)

    def remove(self, row: int) -> StripEntry:
        self.beginRemoveRows(QModelIndex(), row, row)
        entry = self.entries.pop(row)
        self.endRemoveRows()
        return entry

    def refresh(self, entry: StripEntry) -> bool:
        """The entry's check finished; False when it is no longer in the strip."""
        for row, candidate in enumerate(self.entries):
            if candidate is entry:
                index = self.index(row)
                self.dataChanged.emit(index, index)
                return True
        return False


class StripDelegate(QStyledItemDelegate):
    """A thumbnail with its name below and a ✕ that removes it; a refused image is dimmed and marked ⚠."""

    remove_clicked = Signal(int)
    CLOSE = 18

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cell = QSize(104, 118)  # set by the strip to fit its height
        self.show_names = True
        self.show_numbers = False  # a storyboard: each usable image's place in the order, on its thumbnail

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return self.cell

    def close_hit(self, cell: QRect, pos: QPoint) -> bool:
        """Whether `pos` is on the ✕ of the thumbnail in `cell` (the item's rectangle)."""
        return self._close_rect(cell.adjusted(2, 2, -2, -2)).contains(pos)

    def _close_rect(self, cell: QRect) -> QRect:
        side = max(12, min(self.CLOSE, cell.height() * 3 // 10))
        inset = 4 if side == self.CLOSE else 1
        return QRect(cell.right() - side - inset, cell.top() + inset, side, side)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        entry = index.data(EntryRole)
        if not isinstance(entry, StripEntry):
            return
        palette = option.palette
        cell = option.rect.adjusted(2, 2, -2, -2)
        line = option.fontMetrics.lineSpacing() if self.show_names else 0
        state = option.state
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if state & QStyle.StateFlag.State_Selected:
            painter.fillRect(cell, palette.highlight().color().lighter(160 if not theme.is_dark() else 60))
        picture = QRect(cell.left() + 4, cell.top() + 4, cell.width() - 8, cell.height() - line - 8)
        if entry.problem:
            painter.setOpacity(0.3)
        if entry.thumbnail is not None and not entry.thumbnail.isNull():
            ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
            pixmap = QPixmap.fromImage(entry.thumbnail).scaled(
                picture.size() * ratio, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            pixmap.setDevicePixelRatio(ratio)
            size = pixmap.deviceIndependentSize().toSize()
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(picture.center())
            painter.drawPixmap(target, pixmap)
        else:
            painter.fillRect(picture, palette.alternateBase())
            if not entry.loading and not entry.problem:
                painter.drawText(picture, Qt.AlignmentFlag.AlignCenter, "🌐")
        painter.setOpacity(1.0)
        if entry.loading:
            painter.setPen(palette.placeholderText().color())
            painter.drawText(picture, Qt.AlignmentFlag.AlignCenter, "Checking…")
        elif entry.problem:
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.8)
            painter.setFont(font)
            painter.setPen(QColor(theme.error_color()))
            painter.drawText(picture, Qt.AlignmentFlag.AlignCenter, "⚠")
            painter.setFont(option.font)
        # the name, elided; red when the image cannot be used (too short a strip: in the tooltip only)
        if self.show_names:
            name_rect = QRect(cell.left() + 2, cell.bottom() - line - 1, cell.width() - 4, line)
            painter.setPen(QColor(theme.error_color()) if entry.problem else palette.text().color())
            name = option.fontMetrics.elidedText(entry.name, Qt.TextElideMode.ElideMiddle, name_rect.width())
            painter.drawText(name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
        if self.show_numbers:
            model = index.model()
            number = model.number(index.row()) if isinstance(model, StripModel) else None
            if number is not None:
                self._paint_number(painter, cell, number, option)
        # the remove button
        close = self._close_rect(cell)
        hovered = bool(state & QStyle.StateFlag.State_MouseOver)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 190 if hovered else 130))
        painter.drawEllipse(close)
        painter.setPen(QPen(QColor("white"), 1.6))
        cross = close.adjusted(close.width() // 4 + 1, close.width() // 4 + 1, -close.width() // 4, -close.width() // 4)
        painter.drawLine(cross.topLeft(), cross.bottomRight())
        painter.drawLine(cross.topRight(), cross.bottomLeft())
        if state & QStyle.StateFlag.State_HasFocus:
            painter.setPen(QPen(palette.highlight().color(), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell.adjusted(1, 1, -1, -1), 3, 3)
        painter.restore()

    def _paint_number(self, painter: QPainter, cell: QRect, number: int, option: QStyleOptionViewItem) -> None:
        """The image's place in the order, in a badge at the top left (read in both themes)."""
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        if cell.height() < ImageStrip.NAMED:  # a small thumbnail: a small badge, clear of the ✕
            font.setPointSizeF(font.pointSizeF() * 0.8)
            painter.setFont(font)
            metrics = QFontMetrics(font)
        text = str(number)
        height = metrics.height() + 2
        badge = QRect(cell.left() + 3, cell.top() + 3, max(height, metrics.horizontalAdvance(text) + 8), height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(option.palette.highlight())
        painter.drawRoundedRect(badge, height / 2, height / 2)
        painter.setPen(option.palette.highlightedText().color())
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        painter.setFont(option.font)

    def editorEvent(
        self,
        event: QEvent,
        model: object,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton:
            inside = self._close_rect(option.rect.adjusted(2, 2, -2, -2)).contains(event.position().toPoint())
            if inside and event.type() == QEvent.Type.MouseButtonRelease:
                self.remove_clicked.emit(index.row())
                return True
            if inside and event.type() == QEvent.Type.MouseButtonPress:
                return True  # a click on ✕ does not select the image first
        return False


class ImageStrip(QListView):
    """The thumbnails of a set. Focusable; Delete (or Backspace) removes the current one; Ctrl+Left/Right moves
    it one place earlier or later, and a thumbnail dragged with the mouse goes where it is dropped (a line shows
    where while dragging).

    Tall enough for two rows, it is a grid that scrolls down; shorter (a small window), one row of thumbnails
    sized to its height that scrolls sideways."""

    remove_requested = Signal(int)
    move_requested = Signal(int, int)  # (row, to): put the image at `row` at place `to`
    LARGEST = 118  # a cell's height at most (a 100 px thumbnail and its name)
    SMALLEST = 40
    NAMED = 76  # below this the names go (they stay in the tooltips)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageStrip")
        self.setAccessibleName("Images in the set")
        self.setAccessibleDescription(
            "One job per usable image, in this order. Delete removes the selected image; Ctrl+Left and "
            "Ctrl+Right move it."
        )
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumHeight(self.SMALLEST + 24)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.delegate = StripDelegate(self)
        self.delegate.remove_clicked.connect(self.remove_requested)
        self.setItemDelegate(self.delegate)
        self._press: tuple[int, QPoint] | None = None  # the thumbnail a mouse button went down on, and where
        self._drop_gap: int | None = None  # while dragging: the gap (0..rows) the thumbnail would go into
        self._fit()

    def _fit(self) -> None:
        """Cells that fit the strip's height (decided from the height alone, so scroll bars coming and going
        cannot make it flip back and forth)."""
        room = self.height() - 2 * self.frameWidth() - 2 * self.spacing()
        grid = room >= 2 * self.LARGEST + 2 * self.spacing()
        if grid:
            height = self.LARGEST
        else:
            bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
            height = max(self.SMALLEST, min(self.LARGEST, room - bar - 2))
        named = height >= self.NAMED
        width = round(height * 0.88) if named else height
        cell = QSize(max(width, self.SMALLEST), height)
        if cell == self.delegate.cell and grid == self.isWrapping():
            return
        self.delegate.cell = cell
        self.delegate.show_names = named
        self.setWrapping(grid)
        self.setHorizontalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAlwaysOff if grid else Qt.ScrollBarPolicy.ScrollBarAsNeeded
        )
        self.setVerticalScrollBarPolicy(
            Qt.ScrollBarPolicy.ScrollBarAsNeeded if grid else Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        )
        self.setGridSize(cell)  # lays the cells out again

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _removal_key(self, event: QKeyEvent) -> bool:
        return event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not (
            event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        )

    def _move_step(self, event: QKeyEvent) -> int:
        """-1 / +1 for Ctrl+Left / Ctrl+Right (move the current image), 0 for any other key."""
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier != Qt.KeyboardModifier.ControlModifier:
            return 0
        return {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(event.key()), 0)

    def event(self, event: QEvent) -> bool:
        # Delete here removes an image, not the selected job (the window's Delete shortcut); Ctrl+arrows move it.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and (self._removal_key(event) or self._move_step(event))
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        row = self.currentIndex().row()
        if self._removal_key(event):
            if row >= 0:
                self.remove_requested.emit(row)
            event.accept()
            return
        step = self._move_step(event)
        if step:
            if row >= 0 and 0 <= row + step < self.model().rowCount():
                self.move_requested.emit(row, row + step)
            event.accept()
            return
        super().keyPressEvent(event)

    # -- dragging a thumbnail to a new place -------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press = None
        pos = event.position().toPoint()
        index = self.indexAt(pos)
        if (
            event.button() == Qt.MouseButton.LeftButton
            and index.isValid()
            and not self.delegate.close_hit(self.visualRect(index), pos)
        ):
            self._press = (index.row(), pos)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        press = self._press
        if press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            super().mouseMoveEvent(event)
            return
        if self._drop_gap is None:
            if (pos - press[1]).manhattanLength() < QApplication.startDragDistance():
                return
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        self._autoscroll(pos)
        gap = self._gap_at(pos)
        if gap != self._drop_gap:
            self._drop_gap = gap
            self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        press, gap = self._press, self._drop_gap
        self._press = None
        if gap is None or press is None:
            super().mouseReleaseEvent(event)
            return
        # A drag, not a click: nothing under the pointer is clicked (its ✕ least of all).
        self._drop_gap = None
        self.viewport().unsetCursor()
        self.setState(QAbstractItemView.State.NoState)
        self.viewport().update()
        row = press[0]
        to = gap - 1 if gap > row else gap
        if to != row:
            self.move_requested.emit(row, to)
        event.accept()

    def _gap_at(self, pos: QPoint) -> int:
        """The gap a thumbnail dropped at `pos` goes into: before the cell under it, or after it when past the
        cell's middle; past the last cell, the end."""
        rows = self.model().rowCount() if self.model() is not None else 0
        index = self.indexAt(pos)
        if not index.isValid():
            for row in range(rows):  # between cells (the spacing) or past the last one
                rect = self.visualRect(self.model().index(row, 0))
                if rect.top() <= pos.y() <= rect.bottom() and pos.x() < rect.left():
                    return row
            return rows
        rect = self.visualRect(index)
        return index.row() + (1 if pos.x() > rect.center().x() else 0)

    def _autoscroll(self, pos: QPoint) -> None:
        """Near an edge while dragging, the strip scrolls that way (its thumbnails may not all be in view)."""
        margin = 24
        if self.isWrapping():
            bar, along, length = self.verticalScrollBar(), pos.y(), self.viewport().height()
        else:
            bar, along, length = self.horizontalScrollBar(), pos.x(), self.viewport().width()
        if along < margin:
            bar.setValue(bar.value() - 12)
        elif along > length - margin:
            bar.setValue(bar.value() + 12)

    def is_dragging(self) -> bool:
        return self._drop_gap is not None

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        gap = self._drop_gap
        rows = self.model().rowCount() if self.model() is not None else 0
        if gap is None or rows == 0:
            return
        # The insertion mark: a bar in the gap the thumbnail would go into.
        if gap < rows:
            rect = self.visualRect(self.model().index(gap, 0))
            x = rect.left() - self.spacing() // 2 - 1
        else:
            rect = self.visualRect(self.model().index(rows - 1, 0))
            x = rect.right() + self.spacing() // 2 + 1
        painter = QPainter(self.viewport())
        painter.setPen(QPen(self.palette().highlight().color(), 3))
        painter.drawLine(QPoint(x, rect.top() + 2), QPoint(x, rect.bottom() - 2))
        painter.end()


class _WrappedLabel(QLabel):
    """Wrapped text that takes the height the zone gives it: not height-for-width, so the zone's layout shares
    its height by the parts' minimums (a long message squeezes the placeholder, not the zone out of shape)."""

    def hasHeightForWidth(self) -> bool:
        return False


ONE_ONLY = "This takes one picture: drop, paste or choose just one."
PLACEHOLDER = "Drop an image here (several, or a folder, for a batch)\nor click to browse · Ctrl+V to paste"


class ImageDropZone(QFrame):
    image_changed = Signal(str)
    rejected = Signal(str)
    loading_changed = Signal(bool)  # an image is being checked: until it settles, `source` is the old one
    images_changed = Signal()  # the set of images changed (one taken, strip grown or shrunk, reordered, checked)

    def __init__(
        self, parent: QWidget | None = None, *, name: str = "imageDrop", label: str = "Image", allow_set: bool = True
    ) -> None:
        """`name` is the zone's objectName (its parts are named after it; the first zone keeps the names it always
        had); `allow_set=False` makes a zone for one picture only (several are refused, with the reason)."""
        super().__init__(parent)
        self.allow_set = allow_set
        self.setObjectName(name)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumSize(QSize(200, 90))
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(label)
        # A visible focus ring for keyboard users, and a highlight while something is dragged over it.
        self.setStyleSheet(
            f"#{name} {{ border: 1px solid palette(mid); border-radius: 4px; }}"
            f"#{name}:focus {{ border: 2px solid palette(highlight); }}"
            f'#{name}[hover="true"] {{ border: 2px dashed palette(highlight); }}'
        )
        self.setAccessibleDescription("Drop an image here, paste one, or press Enter to browse")
        self.current: LoadedImage | None = None
        self._generation = 0
        self._pending: int | None = None
        self._loading_shown = False
        self._hovering = False
        self._batch = False
        self._batch_note = ""

        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumHeight(32)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.placeholder = _WrappedLabel(
            PLACEHOLDER if allow_set else "Drop an image here\nor click to browse · Ctrl+V"
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.placeholder.setMinimumHeight(32)
        self.strip_model = StripModel(self)
        self.strip = ImageStrip(self)
        self.strip.setModel(self.strip_model)
        self.strip.remove_requested.connect(self.remove_image)
        self.strip.move_requested.connect(self.move_image)
        self.strip.setCursor(Qt.CursorShape.ArrowCursor)
        # One line about the image (name, size, format) or the set, elided to fit; the whole of it is the tooltip.
        self.title = QLabel()
        self.title.setObjectName("imageTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self._title_text = ""
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.add_button = QToolButton()
        self.add_button.setObjectName("addImagesButton")
        self.add_button.setText("Add…")
        self.add_button.setAccessibleName("Add images")
        self.add_button.setToolTip("Add images to the set (or drop and paste them here)")
        self.add_button.clicked.connect(self.browse)
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("clearImagesButton")
        self.clear_button.setText("Clear")
        self.clear_button.setAccessibleName("Clear images")
        self.clear_button.setToolTip("Remove every image from the set")
        self.clear_button.clicked.connect(self.clear)
        for button in (self.add_button, self.clear_button):
            button.setCursor(Qt.CursorShape.ArrowCursor)
            button.setAutoRaise(True)
        self.details = QLabel()
        self.details.setObjectName("imageDetails")
        self.details.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.notes = self.details  # notes about the image share the reserved line below (errors come first)
        # Two lines always reserved under the picture: a refusal or the notes about the image, read in full,
        # without moving anything when they appear.
        self.error = _WrappedLabel()
        self.error.setObjectName(f"{name}Error")
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.error.setFixedHeight(self.error.fontMetrics().lineSpacing() * 2 + 2)
        self._problem = ""
        self._note_text = ""
        self._long_line = False  # the message takes more than its two lines (a narrow zone)

        # What the zone is for ("Image", "First frame", "Keyframes"), at its top; hidden when empty.
        self.caption = QLabel()
        self.caption.setObjectName(f"{name}Caption")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        caption_font = self.caption.font()
        caption_font.setBold(True)
        self.caption.setFont(caption_font)
        self.caption.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(1)
        layout.addWidget(self.caption)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.strip, 1)
        layout.addStretch(0)  # the room the parts above leave (a long message hides the placeholder)
        title_row = QHBoxLayout()
        title_row.setContentsMargins(0, 0, 0, 0)
        title_row.setSpacing(2)
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.add_button)
        title_row.addWidget(self.clear_button)
        layout.addLayout(title_row)
        layout.addWidget(self.error)
        if name != "imageDrop":  # the first zone's parts keep their names; another zone's are its own
            for part, suffix in (
                (self.title, "Title"),
                (self.add_button, "AddButton"),
                (self.clear_button, "ClearButton"),
                (self.details, "Details"),
                (self.strip, "Strip"),
            ):
                part.setObjectName(f"{name}{suffix}")
        self._render()

    # -- what others read --------------------------------------------------------------------------
    @property
    def source(self) -> str | None:
        """The image the form's single request uses: the one shown, or a strip's first usable image."""
        if self._batch:
            return next((e.source for e in self.strip_model.entries if e.usable), None)
        return self.current.source if self.current else None

    def holds_one_picture(self) -> bool:
        """One picture shown (not a strip, whose thumbnails take Delete themselves): Delete takes it out."""
        return not self._batch and self.current is not None

    @property
    def is_batch(self) -> bool:
        """A strip is shown (what is dropped, pasted or browsed now adds to it)."""
        return self._batch

    def images(self) -> list[str]:
        """The images of the set, in order: the one shown, or a strip's usable ones (refused and unchecked
        ones are left out)."""
        if self._batch:
            return [e.source for e in self.strip_model.entries if e.usable]
        return [self.current.source] if self.current else []

    def images_to_keep(self) -> list[str]:
        """What to remember of the zone: its images, those still being checked included (refused ones not)."""
        if self._batch:
            return [e.source for e in self.strip_model.entries if not e.problem]
        return self.images()

    def entries(self) -> list[StripEntry]:
        """The strip's images as shown, refused ones included ([] when no strip is shown)."""
        return list(self.strip_model.entries) if self._batch else []

    @property
    def is_loading(self) -> bool:
        return self._pending is not None or any(e.loading for e in self.strip_model.entries)

    def _set_pending(self, ticket: int | None) -> None:
        self._pending = ticket
        self._loading_settled()

    def _loading_settled(self) -> None:
        now = self.is_loading
        if now != self._loading_shown:
            self._loading_shown = now
            self.loading_changed.emit(now)

    def set_caption(self, text: str, accessible_name: str = "") -> None:
        """Name what the zone holds at its top (and for screen readers): "First frame", "Keyframes (in order)"."""
        self.caption.setText(text)
        self.caption.setVisible(bool(text))
        self.setAccessibleName(accessible_name or text or self.accessibleName())

    def set_placeholder(self, text: str) -> None:
        """What the empty zone says (the form words it for its model: "Drop the first frame here…")."""
        self.placeholder.setText(text)

    def set_numbered(self, numbered: bool) -> None:
        """Show each usable image's place in the order on its thumbnail (a storyboard's keyframes)."""
        if self.strip.delegate.show_numbers != numbered:
            self.strip.delegate.show_numbers = numbered
            self.strip_model.numbered = numbered
            self.strip.viewport().update()

    def move_image(self, row: int, to: int) -> None:
        """Put the strip's image at `row` at place `to` (the set's order follows); it stays the current one."""
        if not self._batch or not self.strip_model.move(row, to):
            return
        self.strip.setCurrentIndex(self.strip_model.index(to))
        self.strip.scrollTo(self.strip_model.index(to))
        self.strip.viewport().update()  # the numbers of those in between changed too
        self.images_changed.emit()

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
        self._fit_line()

    def _fit_line(self) -> None:
        """Two lines are always reserved for the message; a narrow zone (a transition's half) lends it up to three
        more from the picture above, so a refusal is read in full. The zone's own size never changes for it."""
        spacing = self.error.fontMetrics().lineSpacing()
        layout = self.layout()
        margins = layout.contentsMargins() if layout is not None else self.contentsMargins()
        width = self.contentsRect().width() - margins.left() - margins.right()  # the label's, before it is laid out
        needed = self.error.heightForWidth(width) if self.error.text() and width > 0 else 0
        lines = max(2, min(5, -(-needed // spacing)))
        if self.error.height() == spacing * lines + 2 and self.error.minimumHeight() == self.error.height():
            return
        self.error.setFixedHeight(spacing * lines + 2)
        self._long_line = lines > 2
        self.picture.setMinimumHeight(0 if self._long_line else 32)  # it gives way to a long message
        # the empty zone's invitation too (the message says what to drop)
        self.placeholder.setVisible(self.current is None and not self._batch and not self._long_line)
        if layout is not None:
            layout.activate()

    # -- taking one image --------------------------------------------------------------------------
    def load_path(self, path: str) -> None:
        """Take one image (or a folder: its images become a strip), replacing what is shown once it is checked."""
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
                if await off_ui_thread(Path(path).is_dir):  # a folder: a batch of its images
                    if ticket == self._generation and shiboken6.isValid(self):
                        self._set_pending(None)
                        self._take_sources([path], replace=True)
                    return
                self._refuse(str(exc))
            return
        if ticket == self._generation and shiboken6.isValid(self):  # the window may have closed meanwhile
            self._accept(loaded)

    def set_url(self, url: str, preview: QImage | None = None) -> None:
        self._generation += 1
        self._set_pending(None)
        self._accept(LoadedImage(url, None, preview))

    # -- taking several ----------------------------------------------------------------------------
    def set_images(self, sources: list[str]) -> None:
        """Replace what is shown: nothing clears, one image (a path or a web URL) shows large, several (or a
        folder) become a strip."""
        sources = [s for s in sources if s]
        if not sources:
            self.clear()
        elif len(sources) == 1 and is_web_url(sources[0]):
            self.set_url(sources[0])
        elif len(sources) == 1:
            self.load_path(sources[0])
        else:
            self._take_sources(sources, replace=True)

    def add_images(self, sources: list[str]) -> None:
        """Add images (folders: their images) to the strip, making one from the image shown if need be."""
        sources = [s for s in sources if s]
        if sources:
            self._take_sources(sources, replace=False)

    def clear(self) -> None:
        """Nothing in the zone: the placeholder again (a check under way is forgotten)."""
        self._generation += 1
        self._batch = False
        self._batch_note = ""
        self.current = None
        self._problem = ""
        self.strip_model.replace([])
        self._set_pending(None)
        self._render()
        self.image_changed.emit("")
        self.images_changed.emit()

    def remove_image(self, row: int) -> None:
        """Take the strip's image at `row` out of the set; the next one gets the keyboard focus."""
        if not self._batch or not 0 <= row < len(self.strip_model.entries):
            return
        had_focus = self.strip.hasFocus()
        self.strip_model.remove(row)
        if not self.strip_model.entries:
            self.clear()
            if had_focus:
                self.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._batch_note = ""
        self._problem = ""
        self._loading_settled()
        following = self.strip_model.index(min(row, len(self.strip_model.entries) - 1))
        self.strip.setCurrentIndex(following)
        self._render()
        self.images_changed.emit()

    def _take_sources(self, sources: list[str], replace: bool) -> None:
        """List dropped folders off the UI thread, then fill the strip."""
        if not self.allow_set:
            self._refuse(ONE_ONLY)
            return
        self._generation += 1
        ticket = self._generation
        self._set_pending(ticket)
        if not self._batch:
            self._set_title("Reading the dropped images…")
        spawn(self._expand_then_take(sources, replace, ticket))

    async def _expand_then_take(self, sources: list[str], replace: bool, ticket: int) -> None:
        expanded = await off_ui_thread(_expand, sources)
        if ticket != self._generation or not shiboken6.isValid(self):
            return
        self._set_pending(None)
        self._fill_strip(expanded, replace)

    def _fill_strip(self, expanded: _Expanded, replace: bool) -> None:
        notes: list[str] = []
        if expanded.skipped:
            n = expanded.skipped
            notes.append(
                "Skipped 1 file that is not an image." if n == 1 else f"Skipped {n} files that are not images."
            )
        if not expanded.sources:
            where = ", ".join(expanded.empty_folders) or "what was dropped"
            self._refuse(f"No images in {where}: use JPEG, PNG or WebP files." + (" " + notes[0] if notes else ""))
            return
        if replace or not self._batch:
            start: list[StripEntry] = []
            if not replace and self.current is not None:  # adding to one image: it stays, first in the strip
                start.append(StripEntry(self.current.source, self.current.info, self.current.thumbnail, "", False))
            self.strip_model.replace(start)
            self.current = None
            self._batch = True
            self._chain_after_self()
        known = {e.source for e in self.strip_model.entries}
        added: list[StripEntry] = []
        duplicates = over = 0
        for source in expanded.sources:
            if source in known:
                duplicates += 1
            elif len(self.strip_model.entries) + len(added) >= MAX_BATCH:
                over += 1
            else:
                known.add(source)
                added.append(StripEntry(source, loading=not is_web_url(source)))
        if duplicates:
            notes.append(
                f"{_plural(duplicates, 'image')} already in the set {'was' if duplicates == 1 else 'were'} left out."
            )
        if over:
            notes.insert(0, f"A set holds at most {MAX_BATCH} images: {over} more left out.")
        self.strip_model.append(added)
        for entry in added:
            if entry.loading:
                spawn(self._load_entry(entry))
        self._batch_note = " ".join(notes)
        self._problem = ""
        self._loading_settled()
        self._render()
        if added:  # the first new one in view (the start of a new strip)
            self.strip.scrollTo(self.strip_model.index(len(self.strip_model.entries) - len(added)))
        self.images_changed.emit()

    def _chain_after_self(self) -> None:
        """Tab goes from the zone to its strip and buttons, then on to the form (the window orders the form;
        the zone's own parts follow it, wherever the window put it)."""
        QWidget.setTabOrder(self, self.strip)
        QWidget.setTabOrder(self.strip, self.add_button)
        QWidget.setTabOrder(self.add_button, self.clear_button)

    async def _load_entry(self, entry: StripEntry) -> None:
        try:
            loaded = await off_ui_thread(_load, entry.source, STRIP_THUMB_SIDE)
        except _rejected() as exc:
            entry.problem = str(exc)
        else:
            entry.info, entry.thumbnail = loaded.info, loaded.thumbnail
        entry.loading = False
        if not shiboken6.isValid(self) or not self.strip_model.refresh(entry):
            return  # removed (or the strip cleared) meanwhile
        self._loading_settled()
        self._render()
        self.images_changed.emit()

    # -- the clipboard and the file dialog ---------------------------------------------------------
    def take_mime(self, mime: QMimeData) -> bool:
        urls = [u for u in mime.urls() if u.isValid()]
        sources = [u.toLocalFile() if u.isLocalFile() else u.toString() for u in urls]
        sources = [s for s, u in zip(sources, urls, strict=True) if u.isLocalFile() or is_web_url(s)]
        if len(sources) > 1 or (sources and self._batch):
            self._take_sources(sources, replace=not self._batch)
            return True
        if sources:
            if is_web_url(sources[0]):
                preview = QImage(mime.imageData()) if mime.hasImage() else None
                self.set_url(sources[0], preview)
            else:
                self.load_path(sources[0])
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
            if self._batch:
                self.add_images([text])
            else:
                self.set_url(text)
            return True
        if text and Path(text).is_file():
            if self._batch:
                self.add_images([text])
            else:
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
            if self._batch:
                self._set_pending(None)
                self.add_images([path])
            else:
                self.load_path(path)

    def paste(self) -> bool:
        return self.take_mime(QGuiApplication.clipboard().mimeData())

    def browse(self) -> None:
        """Choose images: one replaces the image shown, several make a strip; with a strip shown they add to it."""
        first = self.source
        start = str(Path(first).parent) if first and not is_web_url(first) else ""
        if not self.allow_set:
            title = f"Choose the {self.accessibleName().lower()}"
            path, _ = QFileDialog.getOpenFileName(self, title, start, IMAGE_FILTER)
            if path:
                self.load_path(path)
            return
        title = "Add images" if self._batch else "Choose an image (or several for a batch)"
        paths, _ = QFileDialog.getOpenFileNames(self, title, start, IMAGE_FILTER)
        if not paths:
            return
        if self._batch:
            self.add_images(paths)
        else:
            self.set_images(paths)

    # -- state -------------------------------------------------------------------------------------
    def _accept(self, loaded: LoadedImage) -> None:
        self._batch = False
        self._batch_note = ""
        self.strip_model.replace([])
        self._set_pending(None)
        self.current = loaded
        self._problem = ""
        self._render()
        self.image_changed.emit(loaded.source)
        self.images_changed.emit()

    def _refuse(self, message: str) -> None:
        self._set_pending(None)
        self._problem = message
        self._render()
        self.rejected.emit(message)

    def _render(self) -> None:
        batch = self._batch
        for widget in (self.strip, self.add_button, self.clear_button):
            widget.setVisible(batch)
        # A strip needs its row of thumbnails, its title and its message line one under the other: the zone
        # never gets shorter than that (the form scrolls instead); one picture just scales down.
        layout = self.layout()
        self.setMinimumHeight(max(90, layout.minimumSize().height()) if batch and layout is not None else 90)
        if batch:
            self._render_strip()
            return
        loaded = self.current
        self.placeholder.setVisible(loaded is None and not self._long_line)
        self.picture.setVisible(loaded is not None)
        if loaded is None:
            if not self.is_loading:
                self._set_title("")
            self._note_text = ""
            self._show_line()
            self.setToolTip("")
            self.setAccessibleDescription("Drop an image here, paste one, or press Enter to browse")
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

    def _render_strip(self) -> None:
        self.placeholder.hide()
        self.picture.hide()
        entries = self.strip_model.entries
        checking = sum(1 for e in entries if e.loading)
        refused = [e for e in entries if e.problem]
        parts = [_plural(len(entries), "image")]
        if checking:
            parts.append(f"checking {checking}…")
        if refused:
            parts.append(f"{len(refused)} can't be used")
        summary = " · ".join(parts)
        self._set_title(summary)
        lines: list[str] = []
        if len(refused) == 1:
            lines.append(f"⚠ {refused[0].problem}")
        elif refused:
            lines.append(f"⚠ {len(refused)} images can't be used (marked ⚠; hover for why): they are left out.")
        if self._batch_note:
            lines.append(f"ℹ {self._batch_note}")
        self._note_text = "  ".join(lines)
        self._show_line()
        if refused and not self._problem:  # a refusal in the set reads as a problem, not a note
            self.error.setStyleSheet(f"color: {theme.error_color()};")
        self.setToolTip("")
        self.setAccessibleDescription(
            f"A set of {summary}. Drop, paste or press Enter to add images; Tab to the strip and press Delete "
            "to remove one, Ctrl+Left or Ctrl+Right to move it."
        )

    def _set_title(self, text: str) -> None:
        self._title_text = text
        self.title.setText(
            self.title.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, max(40, self.title.width()))
        )
        self.title.setToolTip(text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # keep the preview sharp at any size
        super().resizeEvent(event)
        self._fit_line()
        if self.current is not None and not self._batch:
            self._render()
        else:
            self._set_title(self._title_text)

    def hasHeightForWidth(self) -> bool:
        # The zone takes the height it is given (its picture scales); its wrapped labels must not make the form's
        # layout height-for-width, or a scroll area sizes the form by its preferred height and scrolls too soon.
        return False

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

    def event(self, event: QEvent) -> bool:
        # Ctrl+V on a focused zone pastes into this zone (the window's Paste would fill the first one).
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Paste)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.browse()
        else:
            super().keyPressEvent(event)


__all__ = ["MAX_BATCH", "ImageDropZone", "ImageStrip", "LoadedImage", "StripEntry", "StripModel"]
