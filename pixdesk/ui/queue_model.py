"""The queue: a list model of jobs (newest first) and a delegate that paints each row and its badge.

Thumbnails are decoded off the UI thread, only for rows that are painted, so a history of
thousands of jobs opens at once.
"""

from __future__ import annotations

import time
from typing import Any, TypeAlias

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
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
from pixdesk.jobs.spend import CostSource, cost_of, is_demo
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn

JobRole = Qt.ItemDataRole.UserRole + 1
ThumbnailRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3
AnyIndex: TypeAlias = QModelIndex | QPersistentModelIndex


def cost_text(job: Job) -> str:
    """The row's money word: "demo" for demo jobs (they cost nothing), else the cost in USD as far as it is
    known ("charged $0.55" only once the ledger agrees), else nothing."""
    return "demo" if is_demo(job) else cost_of(job).label


def accessible_text(job: Job) -> str:
    """A sentence that starts with the status word, for screen readers (and tests)."""
    text = f"{job.state.value}: {job.request.prompt}"
    extra = job.status_text()
    if extra != job.state.value:
        text += f" ({extra})"
    if job.state in (JobState.FAILED, JobState.UNKNOWN, JobState.STALLED) and job.error:
        text += f". {job.error}"
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
    cost = cost_of(job)
    if is_demo(job):
        lines.append("Demo job: made by the built-in simulator, costs nothing")
    elif cost.source is not CostSource.NONE:
        lines.append(f"Cost: {cost.label}")
        if job.credits:  # credits only where money was spent
            lines.append(f"Credits: {job.credits:,.0f}")
    if job.file_path:
        lines.append(job.file_path)
    return "\n".join(lines)


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
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip_text(job)
        if role == ThumbnailRole:
            return self._thumbnail(job)
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

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
        details = self._details(job)
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
            painter.setPen(QColor(theme.ERROR_COLOR[dark]) if not selected else text_color)
            error_rect = QRect(left, detail_rect.bottom() + 2, error_width, fm_detail.height() + 2)
            painter.drawText(
                error_rect,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm_detail.elidedText(job.error, Qt.TextElideMode.ElideRight, error_rect.width()),
            )
        painter.restore()

    @staticmethod
    def _details(job: Job) -> str:
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
