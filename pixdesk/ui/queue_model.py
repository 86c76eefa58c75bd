"""The queue: a list model of jobs (newest first) and a delegate that paints each row and its badge.

Thumbnails are decoded off the UI thread, only for rows that are painted, so a history of
thousands of jobs opens at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from pixdesk.api.text import clean_text
from pixdesk.jobs.models import FINAL, Job, JobState
from pixdesk.jobs.spend import Cost, cost_of, is_demo
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn

JobRole = Qt.ItemDataRole.UserRole + 1
ThumbnailRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3
AnyIndex: TypeAlias = QModelIndex | QPersistentModelIndex


URI_LIST = "text/uri-list"
PLAIN_TEXT = "text/plain"
ACCESSIBLE_PROMPT_LIMIT = 120
ACCESSIBLE_REASON_LIMIT = 300


def shown_cost(job: Job) -> Cost | None:
    """The cost a row shows, or None when there is nothing to show: demo jobs, jobs never sent, failures the
    server did not charge, and anything that comes to $0 (a "$0.00" or "charged $0.00" says nothing)."""
    if is_demo(job):
        return None
    cost = cost_of(job)
    return cost if cost.label and cost.usd > 0 else None


def cost_text(job: Job) -> str:
    """The row's money word: "demo" for demo jobs (they cost nothing), else the cost in USD as far as it is
    known ("charged $0.55" only once the ledger agrees), else nothing (a job that cost nothing shows no cost)."""
    if is_demo(job):
        return "demo"
    cost = shown_cost(job)
    return cost.label if cost is not None else ""


def details_text(job: Job) -> str:
    """The row's second line (and its AccessibleDescriptionRole): resolution · duration · style · voice · seed ·
    cost · time created."""
    req = job.request
    parts = [str(req.effective("resolution")), f"{req.effective('duration')} s"]
    if req.style:
        parts.append(req.style.replace("_", " "))
    if req.lip_sync_tts_content:
        parts.append(f"voice {req.lip_sync_tts_speaker or 'Auto'}")
    if req.seed is not None:
        parts.append(f"seed {req.seed}")
    money = cost_text(job)
    if money:
        parts.append(money)
    parts.append(time.strftime("%H:%M", time.localtime(job.created_at)))
    return " · ".join(parts)


def accessible_text(job: Job, now: float | None = None) -> str:
    """The row's status sentence for screen readers (its AccessibleTextRole): the status word first, then the
    prompt, then what matters in that state, then the cost. For example
    "completed: She waves hello — 720p, 5 s, saved to clip.mp4 · charged $0.55",
    "downloading: She waves hello — 40% downloaded", "generating: She waves hello — 1:05 elapsed",
    "failed: She waves hello — The content was refused by moderation."
    (The status word comes first so that it is heard first; it is what precedes the first colon.)"""
    state = job.state
    parts: list[str] = []
    status = job.status_text(now)
    if status.startswith(f"{state.value} "):  # "downloading 40%", "generating 1:05"
        rest = status[len(state.value) + 1 :]
        if state is JobState.DOWNLOADING:
            rest += " downloaded"
        elif state is JobState.GENERATING:
            rest += " elapsed"
        parts.append(rest)
    elif status != state.value:  # "retrying (2)", a server's own word, "looking it up in the usage logs…"
        parts.append(status)
    if state is JobState.COMPLETED:
        req = job.request
        parts += [str(req.effective("resolution")), f"{req.effective('duration')} s"]
        if job.file_path:
            parts.append(f"saved to {Path(job.file_path).name}")
    if job.error and state in FINAL:
        parts.append(clean_text(job.error, ACCESSIBLE_REASON_LIMIT))
    text = f"{state.value}: {clean_text(job.request.prompt, ACCESSIBLE_PROMPT_LIMIT)}"
    if parts:
        text += " — " + ", ".join(parts)
    money = cost_text(job)
    if money:
        text += f" · {money}"
    return text


def tooltip_text(job: Job) -> str:
    lines = [job.request.prompt]
    if job.error:
        lines.append(f"\n{job.state.value.capitalize()}: {clean_text(job.error, 600)}")
        if job.error_status:
            lines.append(f"HTTP {job.error_status}")
        if job.request_id:
            lines.append(f"Request id: {job.request_id}")
    if job.server_id:
        lines.append(f"Generation id: {clean_text(job.server_id, 200)}")
    if job.client_request_id:
        lines.append(f"Client request id: {job.client_request_id}")
    cost = shown_cost(job)
    if is_demo(job):
        lines.append("Demo job: made by the built-in simulator, costs nothing")
    elif cost is not None:
        lines.append(f"Cost: {cost.label}")
        if job.credits:  # credits only where money was spent
            lines.append(f"Credits: {job.credits:,.0f}")
    if job.file_path:
        lines.append(job.file_path)
    return "\n".join(lines)


def draggable_file(job: Job) -> Path | None:
    """The clip a row drags out as a file: a completed job's, when it is on disk; else None (no drag)."""
    if job.state is not JobState.COMPLETED or not job.file_path:
        return None
    path = Path(job.file_path)
    return path if path.is_file() else None


class JobListModel(QAbstractListModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []
        self._rows: dict[str, int] = {}
        self._thumbs: dict[str, QPixmap] = {}
        self._decoding: set[str] = set()
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()

    # -- Qt model API ------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return None
        job = self._jobs[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return job.request.prompt
        if role == JobRole:
            return job
        if role == StatusRole:
            return job.status_text()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return accessible_text(job)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return details_text(job)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(job)
        if role == ThumbnailRole:
            return self._thumbnail(job)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid() or not 0 <= index.row() < len(self._jobs):
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if draggable_file(self._jobs[index.row()]) is not None:
            flags |= Qt.ItemFlag.ItemIsDragEnabled  # a finished clip drags out as a file
        return flags

    # -- dragging a finished clip out (to a file manager, a chat, an editor) -------------------------------
    def mimeTypes(self) -> list[str]:
        return [URI_LIST, PLAIN_TEXT]

    def supportedDragActions(self) -> Qt.DropAction:
        """Copy only: a file manager must never move a clip out of the library."""
        return Qt.DropAction.CopyAction

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.IgnoreAction  # nothing is dropped onto the queue

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        """The dragged clips as file URLs (text/uri-list) and their paths as text; None when no row given has a
        clip on disk (the view then starts no drag)."""
        paths: list[Path] = []
        for index in indexes:
            job = self.job_at(index.row()) if index.isValid() else None
            path = draggable_file(job) if job is not None else None
            if path is not None and path not in paths:
                paths.append(path)
        if not paths:
            return None  # type: ignore[return-value]  # Qt's startDrag checks for a null QMimeData
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
        mime.setText("\n".join(str(path) for path in paths))
        return mime

    # -- updates -----------------------------------------------------------------------------------
    def set_jobs(self, jobs: list[Job]) -> None:
        """Replace the list (history at start); `jobs` newest first."""
        self.beginResetModel()
        self._jobs = list(jobs)
        self._reindex()
        self.endResetModel()

    def upsert(self, job: Job) -> None:
        row = self._rows.get(job.id)
        if row is None:
            position = 0
            while position < len(self._jobs) and self._jobs[position].created_at > job.created_at:
                position += 1
            self.beginInsertRows(QModelIndex(), position, position)
            self._jobs.insert(position, job)
            self._reindex()
            self.endInsertRows()
            return
        old = self._jobs[row]
        if job.thumbnail is None:
            job.thumbnail = old.thumbnail
        self._jobs[row] = job
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def remove(self, job_id: str) -> None:
        row = self._rows.get(job_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._jobs[row]
        self._thumbs.pop(job_id, None)
        self._reindex()
        self.endRemoveRows()

    def job_at(self, row: int) -> Job | None:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def row_of(self, job_id: str) -> int | None:
        return self._rows.get(job_id)

    def jobs(self) -> list[Job]:
        return list(self._jobs)

    def _reindex(self) -> None:
        self._rows = {job.id: i for i, job in enumerate(self._jobs)}

    def _tick(self) -> None:
        """Repaint rows whose elapsed time is ticking."""
        for row, job in enumerate(self._jobs):
            if job.state is JobState.GENERATING:
                index = self.index(row)
                self.dataChanged.emit(index, index, [StatusRole, Qt.ItemDataRole.AccessibleTextRole])

    # -- thumbnails --------------------------------------------------------------------------------
    def _thumbnail(self, job: Job) -> QPixmap | None:
        pixmap = self._thumbs.get(job.id)
        if pixmap is not None or not job.thumbnail or job.id in self._decoding:
            return pixmap
        self._decoding.add(job.id)
        spawn(self._decode(job.id, job.thumbnail))
        return None

    async def _decode(self, job_id: str, data: bytes) -> None:
        image = await off_ui_thread(QImage.fromData, data)
        self._decoding.discard(job_id)
        if image.isNull():
            return
        self._thumbs[job_id] = QPixmap.fromImage(image)
        row = self._rows.get(job_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, [ThumbnailRole])


class JobDelegate(QStyledItemDelegate):
    """Paints a row: thumbnail, prompt, details, the status badge, and for a job known not to have been
    created a "Send again" button (a click on it asks the window to resend: the person's explicit choice)."""

    ROW_HEIGHT = 76
    THUMB = 60
    RESEND_TEXT = "Send again"
    resend_clicked = Signal(str)  # the job's id

    @classmethod
    def resend_rect(cls, rect: QRect, font: QFont) -> QRect:
        """Where the button is drawn (bottom right of the row), so a click can be matched to it."""
        fm = QFontMetrics(font)
        width, height = fm.horizontalAdvance(cls.RESEND_TEXT) + 20, fm.height() + 8
        return QRect(rect.right() - 8 - width, rect.bottom() - 6 - height, width, height)

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: AnyIndex) -> bool:
        job = index.data(JobRole)
        if (
            isinstance(job, Job)
            and job.state is JobState.NOT_CREATED
            and event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.LeftButton
            and self.resend_rect(option.rect, option.font).contains(event.position().toPoint())
        ):
            self.resend_clicked.emit(job.id)
            return True
        return super().editorEvent(event, model, option, index)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return QSize(280, self.ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        job: Job | None = index.data(JobRole)
        if job is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = option.palette
        rect: QRect = option.rect
        state = option.state
        dark = theme.is_dark(palette)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        elif index.row() % 2:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        text_color = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = QColor(text_color)
        muted.setAlphaF(0.7)

        margin = 8
        thumb_rect = QRect(rect.left() + margin, rect.top() + (rect.height() - self.THUMB) // 2, self.THUMB, self.THUMB)
        pixmap: QPixmap | None = index.data(ThumbnailRole)
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(thumb_rect), 6, 6)
        painter.setClipPath(clip)
        if pixmap is not None and not pixmap.isNull():
            scaled = pixmap.scaled(
                thumb_rect.size(),
                Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation,
            )
            source = QRect(
                (scaled.width() - thumb_rect.width()) // 2,
                (scaled.height() - thumb_rect.height()) // 2,
                thumb_rect.width(),
                thumb_rect.height(),
            )
            painter.drawPixmap(thumb_rect, scaled, source)
        else:
            painter.fillRect(thumb_rect, palette.color(QPalette.ColorRole.Mid))
        painter.setClipping(False)

        # The badge, right-aligned on the first line.
        badge_font = QFont(option.font)
        badge_font.setPointSizeF(max(7.5, badge_font.pointSizeF() * 0.85))
        badge_font.setBold(True)
        fm_badge = QFontMetrics(badge_font)
        status = job.status_text(time.time())
        badge_w = fm_badge.horizontalAdvance(status) + 16
        badge_h = fm_badge.height() + 6
        left = thumb_rect.right() + margin + 2
        top = rect.top() + 10
        badge = QRect(rect.right() - margin - badge_w, top, badge_w, badge_h)
        background, foreground = theme.badge_colors(job.state, dark)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(badge), badge_h / 2, badge_h / 2)
        if job.state is JobState.DOWNLOADING and job.progress is not None:
            filled = QRectF(badge.left(), badge.top(), badge.width() * job.progress, badge.height())
            painter.setBrush(background.darker(125) if not dark else background.lighter(135))
            painter.save()
            path = QPainterPath()
            path.addRoundedRect(QRectF(badge), badge_h / 2, badge_h / 2)
            painter.setClipPath(path)
            painter.drawRect(filled)
            painter.restore()
        painter.setFont(badge_font)
        painter.setPen(foreground)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, status)

        # Prompt (elided) and details.
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(text_color)
        fm = QFontMetrics(title_font)
        title_rect = QRect(left, top, badge.left() - left - margin, fm.height() + 2)
        painter.drawText(
            title_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(job.request.prompt.replace("\n", " "), Qt.TextElideMode.ElideRight, title_rect.width()),
        )
        detail_font = QFont(option.font)
        painter.setFont(detail_font)
        painter.setPen(muted)
        fm_detail = QFontMetrics(detail_font)
        details = details_text(job)
        detail_rect = QRect(left, title_rect.bottom() + 4, rect.right() - margin - left, fm_detail.height() + 2)
        painter.drawText(
            detail_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_detail.elidedText(details, Qt.TextElideMode.ElideRight, detail_rect.width()),
        )
        error_width = detail_rect.width()
        if job.state is JobState.NOT_CREATED:
            button = self.resend_rect(rect, option.font)
            error_width = button.left() - left - margin
            painter.setPen(palette.color(QPalette.ColorRole.ButtonText))
            painter.setBrush(palette.color(QPalette.ColorRole.Button))
            painter.drawRoundedRect(QRectF(button), 4, 4)
            painter.setFont(QFont(option.font))
            painter.drawText(button, Qt.AlignmentFlag.AlignCenter, self.RESEND_TEXT)
            painter.setFont(detail_font)
        if job.error and job.state in FINAL:
            # Red only for a failure; a warning (unknown, stalled, not created) in amber; a cancelled job's note
            # ("the server may still finish it") is no error: plain muted text.
            reason = theme.reason_color(job.state, dark)
            painter.setPen(text_color if selected else reason if reason is not None else muted)
            error_rect = QRect(left, detail_rect.bottom() + 2, error_width, fm_detail.height() + 2)
            painter.drawText(
                error_rect,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm_detail.elidedText(job.error, Qt.TextElideMode.ElideRight, error_rect.width()),
            )
        painter.restore()

    @staticmethod
    def _details(job: Job) -> str:
        return details_text(job)
