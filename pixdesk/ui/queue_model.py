"""The queue: a list model of jobs (newest first) and a delegate that paints each row and its badge.

Jobs made together (variations, a batch: one `group_id`) show as one row that summarises them ("Group of 8 ·
3 of 8 done · 1 failed") and expands into their own rows; the model stays a flat list (expanding inserts rows),
so the view, a filter proxy and the window keep working row by row. Thumbnails are decoded off the UI thread,
only for rows that are painted, and only the most recent few hundred are kept, so a history of ten thousand
jobs opens at once and scrolls without holding every picture.
"""

from __future__ import annotations

import math
import time
import unicodedata
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias

import shiboken6
from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QAbstractProxyModel,
    QEvent,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
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
    QHelpEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QToolTip

from pixdesk.api.text import clean_text
from pixdesk.jobs.models import FINAL, NEVER_SENT, Job, JobState
from pixdesk.jobs.spend import Cost, cost_of, is_demo
from pixdesk.ui import theme
from pixdesk.ui.tasks import off_ui_thread, spawn
from pixdesk.ui.thumbnails import decode_png

JobRole = Qt.ItemDataRole.UserRole + 1
ThumbnailRole = Qt.ItemDataRole.UserRole + 2
StatusRole = Qt.ItemDataRole.UserRole + 3
GroupRole = Qt.ItemDataRole.UserRole + 4  # a group row's GroupSummary; None on a job row
FavouriteRole = Qt.ItemDataRole.UserRole + 5  # bool: the job is starred (a group row: any of its jobs is)
SearchKeyRole = Qt.ItemDataRole.UserRole + 6  # str: the folded prompt search compares (computed once per job)
DepthRole = Qt.ItemDataRole.UserRole + 7  # int: 1 for the rows of an expanded group's jobs, else 0
ExpandedRole = Qt.ItemDataRole.UserRole + 8  # bool on a group row: its jobs are shown under it
AnyIndex: TypeAlias = QModelIndex | QPersistentModelIndex


URI_LIST = "text/uri-list"
PLAIN_TEXT = "text/plain"
ACCESSIBLE_PROMPT_LIMIT = 120
ACCESSIBLE_REASON_LIMIT = 300
THUMB_PIXELS = 120  # a thumbnail is kept as a square of this side: the row's 60 px at up to 2x
THUMB_CACHE = 400  # decoded thumbnails kept (the most recently painted); the rest are decoded again when shown


def fold(text: str) -> str:
    """What search compares: lower case (casefold), accents dropped ("café" is found by "cafe"), whitespace
    collapsed. Made once per job, not per keystroke."""
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def shows_star(job: Job) -> bool:
    """A row offers its favourite star when there is a clip to keep (completed), or when it is already starred
    (so it can be unstarred)."""
    return job.state is JobState.COMPLETED or (job.favourite and job.state is not JobState.NOT_CREATED)


# How the members of a group ended, in the order a summary names them.
_ENDINGS: tuple[tuple[JobState, str], ...] = (
    (JobState.FAILED, "failed"),
    (JobState.UNKNOWN, "unknown"),
    (JobState.STALLED, "stalled"),
    (JobState.NOT_CREATED, "not created"),
    (JobState.CANCELLED, "cancelled"),
)


@dataclass(frozen=True)
class GroupSummary:
    """A group row: the jobs made together, in the order they were made (the first one's picture and prompt
    stand for the group)."""

    group_id: str
    jobs: tuple[Job, ...]

    @property
    def count(self) -> int:
        return len(self.jobs)

    @property
    def first(self) -> Job:
        return self.jobs[0]

    @property
    def prompt(self) -> str:
        return self.first.title

    @property
    def states(self) -> Counter[JobState]:
        return Counter(job.state for job in self.jobs)

    @property
    def done(self) -> int:
        return sum(1 for job in self.jobs if job.state is JobState.COMPLETED)

    @property
    def finished(self) -> int:
        return sum(1 for job in self.jobs if job.state in FINAL)

    @property
    def running(self) -> int:
        return self.count - self.finished

    @property
    def progress(self) -> float:
        """The share of the group that has finished (whatever the outcome)."""
        return self.finished / self.count if self.jobs else 1.0

    @property
    def favourite(self) -> bool:
        return any(job.favourite for job in self.jobs)

    @property
    def created_at(self) -> float:
        return max(job.created_at for job in self.jobs)

    @property
    def sent(self) -> int:
        """Unfinished jobs the server has (or is being sent): what "running" means to a person."""
        return sum(1 for job in self.jobs if job.state not in FINAL and job.state not in NEVER_SENT)

    @property
    def state(self) -> JobState:
        """One state whose colours the group's badge borrows: generating while the server has any of its jobs,
        waiting while its unfinished jobs are all still here (a paused queue, the in-flight limit), completed when
        all did, else the worst ending (failed, then unknown or stalled, then cancelled)."""
        if self.running:
            return JobState.GENERATING if self.sent else JobState.WAITING
        states = self.states
        if states[JobState.COMPLETED] == self.count:
            return JobState.COMPLETED
        if states[JobState.FAILED]:
            return JobState.FAILED
        if states[JobState.UNKNOWN] or states[JobState.STALLED]:
            return JobState.UNKNOWN
        return JobState.CANCELLED

    def badge_text(self) -> str:
        state = self.state
        if state is JobState.GENERATING:
            return "running"
        if state is JobState.WAITING:
            return "waiting"
        if state is JobState.COMPLETED:
            return "completed"
        # Every job ended the same way: say how ("cancelled", "failed"); a mix of endings "finished".
        return state.value if self.states[state] == self.count else "finished"

    def outcome_parts(self) -> list[str]:
        """["3 of 8 done", "1 failed", …]: what became of the group's jobs so far."""
        states = self.states
        parts = [f"{states[JobState.COMPLETED]} of {self.count} done"]
        parts += [f"{states[state]} {word}" for state, word in _ENDINGS if states[state]]
        return parts

    @property
    def film(self) -> Job | None:
        """A storyboard's film (the newest, after a retry); None for any other group."""
        films = [job for job in self.jobs if job.is_film]
        return max(films, key=lambda j: j.created_at) if films else None

    def summary_text(self) -> str:
        """The group row's second line: "Group of 8 · 3 of 8 done · 1 failed", or for a storyboard
        "Storyboard · 1 of 2 transitions done · film waiting"."""
        film = self.film
        if film is not None:
            transitions = [job for job in self.jobs if not job.is_film]
            done = sum(1 for job in transitions if job.state is JobState.COMPLETED)
            said = "joined" if film.state is JobState.COMPLETED else film.state.value
            return f"Storyboard · {done} of {len(transitions)} transitions done · film {said}"
        return " · ".join([f"Group of {self.count}", *self.outcome_parts()])


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
    try:
        tag = req.spec.tag
    except KeyError:  # a model this PixDesk does not know (a newer one wrote the row)
        tag = req.model
    parts = [f"film of {len(job.parts)} transitions"] if job.is_film else ([tag] if tag else [])
    resolution, duration = req.effective("resolution"), req.effective("duration")
    if resolution:
        parts.append(str(resolution))
    if duration and not job.is_film:
        parts.append(f"{duration} s")
    if req.aspect_ratio or (tag and "text" in tag):
        parts.append(str(req.effective("aspect_ratio")))
    if req.generate_audio_switch:
        parts.append("sound")
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
        resolution, duration = req.effective("resolution"), req.effective("duration")
        parts += [str(resolution)] if resolution else []
        parts += [f"{duration} s"] if duration and not job.is_film else []
        if job.file_path:
            parts.append(f"saved to {Path(job.file_path).name}")
    if job.error and state in FINAL:
        parts.append(clean_text(job.error, ACCESSIBLE_REASON_LIMIT))
    text = f"{state.value}: {clean_text(job.title, ACCESSIBLE_PROMPT_LIMIT)}"
    if parts:
        text += " — " + ", ".join(parts)
    money = cost_text(job)
    if money:
        text += f" · {money}"
    if job.favourite:
        text += " · favourite"
    return text


def group_accessible_text(group: GroupSummary, expanded: bool) -> str:
    """A group row's sentence for screen readers, the group first: "group of 3, collapsed: She waves hello —
    1 of 3 done, 1 failed"."""
    text = f"group of {group.count}, {'expanded' if expanded else 'collapsed'}: "
    text += clean_text(group.prompt, ACCESSIBLE_PROMPT_LIMIT) + " — " + ", ".join(group.outcome_parts())
    if group.favourite:
        text += " · has favourites"
    return text


def group_tooltip_text(group: GroupSummary) -> str:
    lines = [group.prompt, "", group.summary_text()]
    prompts = {job.request.prompt for job in group.jobs}
    if len(prompts) > 1:
        lines.append(f"{len(prompts)} different prompts")
    lines.append("Click the arrow, or press Enter or →, to show its jobs; ← hides them.")
    return "\n".join(lines)


def tooltip_text(job: Job) -> str:
    lines = [job.title]
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


JOB_ROW = "job"
GROUP_ROW = "group"
# A row of the list: (JOB_ROW, job id, depth) or (GROUP_ROW, group id, 0); depth 1 = under an expanded group.
Row: TypeAlias = tuple[str, str, int]


def _decode_thumbnail(data: bytes) -> QImage:
    """Off the UI thread: the picture cropped to a centred square of THUMB_PIXELS, so painting a row only draws
    it (no scaling per paint) and a cached thumbnail is small (58 kB)."""
    image = decode_png(data)
    if image.isNull():
        return image
    scaled = image.scaled(
        THUMB_PIXELS,
        THUMB_PIXELS,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    left, top = (scaled.width() - THUMB_PIXELS) // 2, (scaled.height() - THUMB_PIXELS) // 2
    return scaled.copy(left, top, THUMB_PIXELS, THUMB_PIXELS)


class JobListModel(QAbstractListModel):
    """Every job, newest first, and the rows they show as. A job without a group (or alone in it) is a row of
    its own; jobs sharing a `group_id` show as one group row, placed where its newest job would be, followed by
    their own rows (indented, in the order they were made) while the group is expanded.

    Row-based calls: `job_at(row)` is the job of a job row and None for a group row (whose `group_at(row)` is
    its GroupSummary): acting on "the selected job" must not silently pick one job of a set. `row_of(job_id)` is
    the row that shows a job: its own, or its collapsed group's; None only when the job is not in the list.
    Id-based calls (`job`, `jobs`, `group_jobs`) see every job, shown or folded away."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[Job] = []  # every job, newest first
        self._by_id: dict[str, Job] = {}
        self._pos: dict[str, int] = {}  # job id -> index in _jobs
        self._keys: dict[str, str] = {}  # job id -> fold(prompt); updated in place (search_keys is a live view)
        self._keys_view = MappingProxyType(self._keys)
        self._members: dict[str, list[str]] = {}  # group id -> its job ids, in the order they were made
        self._expanded: set[str] = set()
        self._summaries: dict[str, GroupSummary] = {}
        self._rows: list[Row] = []
        self._row_index: dict[tuple[str, str], int] = {}
        self._thumbs: OrderedDict[str, QPixmap] = OrderedDict()
        self._decoding: set[str] = set()
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()

    # -- Qt model API ------------------------------------------------------------------------------
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        kind, key, depth = self._rows[index.row()]
        if kind == GROUP_ROW:
            return self._group_data(key, role)
        job = self._by_id.get(key)
        if job is None:  # a row on its way out
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return job.title
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
        if role == FavouriteRole:
            return job.favourite
        if role == SearchKeyRole:
            return self._keys.get(key, "")
        if role == DepthRole:
            return depth
        return None

    def _group_data(self, group_id: str, role: int) -> Any:
        group = self._summary(group_id)
        if group is None:
            return None
        if role == GroupRole:
            return group
        if role == Qt.ItemDataRole.DisplayRole:
            return group.prompt
        if role == StatusRole:
            return group.badge_text()
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return group_accessible_text(group, group_id in self._expanded)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return group.summary_text()
        if role == Qt.ItemDataRole.ToolTipRole:
            return group_tooltip_text(group)
        if role == ThumbnailRole:
            return self._thumbnail(group.first)
        if role == FavouriteRole:
            return group.favourite
        if role == SearchKeyRole:
            return "\n".join(dict.fromkeys(self._keys.get(job.id, "") for job in group.jobs))
        if role == DepthRole:
            return 0
        if role == ExpandedRole:
            return group_id in self._expanded
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if any(draggable_file(job) is not None for job in self.jobs_in_row(index.row())):
            flags |= Qt.ItemFlag.ItemIsDragEnabled  # a finished clip (a group: its finished clips) drags out as files
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
        clip on disk (the view then starts no drag). A group row carries the clips of its finished jobs."""
        paths: list[Path] = []
        for index in indexes:
            for job in self.jobs_in_row(index.row()) if index.isValid() else ():
                path = draggable_file(job)
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
        """Replace the list (history at start); `jobs` newest first. Groups that were expanded stay so."""
        self.beginResetModel()
        self._jobs = list(jobs)
        self._by_id = {job.id: job for job in self._jobs}
        self._reindex()
        self._keys.clear()
        self._keys.update((job.id, fold(job.title)) for job in self._jobs)
        self._members = {}
        for job in reversed(self._jobs):
            if job.group_id is not None:
                self._members.setdefault(job.group_id, []).append(job.id)
        self._expanded &= set(self._members)
        self._summaries.clear()
        for job_id in [i for i in self._thumbs if i not in self._by_id]:
            del self._thumbs[job_id]
        self._rows = self._layout()
        self._reindex_rows()
        self.endResetModel()

    def upsert(self, job: Job) -> None:
        """A new job takes its place by creation time (in its group, if any); a known one is updated in place."""
        old = self._by_id.get(job.id)
        if old is None:
            self._insert(job)
            return
        if job.thumbnail is None:
            job.thumbnail = old.thumbnail
        elif job.thumbnail is not old.thumbnail and job.thumbnail != old.thumbnail:
            self._thumbs.pop(job.id, None)
        self._jobs[self._pos[job.id]] = job
        self._by_id[job.id] = job
        if job.title != old.title:
            self._keys[job.id] = fold(job.title)
        if job.group_id != old.group_id:  # not done today; handled so a row can never go missing
            self._leave_group(old)
            self._join_group(job)
            self._sync(self._layout())
            self._group_changed(old.group_id)
        self._job_changed(job)

    def remove(self, job_id: str) -> None:
        job = self._by_id.pop(job_id, None)
        if job is None:
            return
        del self._jobs[self._pos[job_id]]
        self._reindex()
        self._keys.pop(job_id, None)
        self._thumbs.pop(job_id, None)
        self._leave_group(job)
        self._sync(self._layout())
        self._group_changed(job.group_id)

    def _insert(self, job: Job) -> None:
        position = 0
        while position < len(self._jobs) and self._jobs[position].created_at > job.created_at:
            position += 1
        self._jobs.insert(position, job)
        self._by_id[job.id] = job
        self._reindex()
        self._keys[job.id] = fold(job.title)
        self._join_group(job)
        self._sync(self._layout())
        self._group_changed(job.group_id)

    def _join_group(self, job: Job) -> None:
        if job.group_id is None:
            return
        members = self._members.setdefault(job.group_id, [])
        at = len(members)
        while at > 0 and self._by_id[members[at - 1]].created_at > job.created_at:
            at -= 1
        members.insert(at, job.id)
        self._summaries.pop(job.group_id, None)

    def _leave_group(self, job: Job) -> None:
        members = self._members.get(job.group_id) if job.group_id is not None else None
        if members is None or job.group_id is None:
            return
        if job.id in members:
            members.remove(job.id)
        self._summaries.pop(job.group_id, None)
        if len(members) < 2:
            self._expanded.discard(job.group_id)
        if not members:
            del self._members[job.group_id]

    # -- rows --------------------------------------------------------------------------------------
    def _layout(self) -> list[Row]:
        """The rows the jobs show as now (see the class docstring)."""
        rows: list[Row] = []
        placed: set[str] = set()
        members, expanded = self._members, self._expanded
        for job in self._jobs:
            group_id = job.group_id
            if group_id is None or len(members[group_id]) < 2:
                rows.append((JOB_ROW, job.id, 0))
            elif group_id not in placed:
                placed.add(group_id)
                rows.append((GROUP_ROW, group_id, 0))
                if group_id in expanded:
                    rows.extend((JOB_ROW, member, 1) for member in members[group_id])
        return rows

    def _sync(self, new: list[Row]) -> None:
        """Turn the current rows into `new` with row removals, moves and insertions (never a reset), so the
        view keeps its selection, scroll position and the rows a proxy already filtered."""
        rows = self._rows
        if rows == new:
            return
        root = QModelIndex()
        wanted = set(new)
        i = len(rows) - 1
        while i >= 0:  # rows that are gone, bottom up, a run at a time
            if rows[i] in wanted:
                i -= 1
                continue
            last = i
            while i > 0 and rows[i - 1] not in wanted:
                i -= 1
            self.beginRemoveRows(root, i, last)
            del rows[i : last + 1]
            self.endRemoveRows()
            i -= 1
        kept = set(rows)
        for target, row in enumerate([r for r in new if r in kept]):  # rows whose place changed
            if rows[target] != row:
                source = rows.index(row, target)
                self.beginMoveRows(root, source, source, root, target)
                rows.insert(target, rows.pop(source))
                self.endMoveRows()
        i = 0
        while i < len(new):  # new rows, top down, a run at a time
            if i < len(rows) and rows[i] == new[i]:
                i += 1
                continue
            last = i
            while last + 1 < len(new) and new[last + 1] not in kept:
                last += 1
            self.beginInsertRows(root, i, last)
            rows[i:i] = new[i : last + 1]
            self.endInsertRows()
            i = last + 1
        self._reindex_rows()

    def _reindex(self) -> None:
        self._pos = {job.id: i for i, job in enumerate(self._jobs)}

    def _reindex_rows(self) -> None:
        self._row_index = {(kind, key): i for i, (kind, key, _depth) in enumerate(self._rows)}

    def _summary(self, group_id: str) -> GroupSummary | None:
        group = self._summaries.get(group_id)
        if group is None:
            members = self._members.get(group_id)
            if not members:
                return None
            group = self._summaries[group_id] = GroupSummary(group_id, tuple(self._by_id[i] for i in members))
        return group

    def _emit_row(self, key: tuple[str, str], roles: Sequence[int] = ()) -> None:
        row = self._row_index.get(key)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index, list(roles))

    def _job_changed(self, job: Job) -> None:
        self._emit_row((JOB_ROW, job.id))
        self._group_changed(job.group_id)

    def _group_changed(self, group_id: str | None) -> None:
        if group_id is not None:
            self._summaries.pop(group_id, None)
            self._emit_row((GROUP_ROW, group_id))

    # -- reading -----------------------------------------------------------------------------------
    def job_at(self, row: int) -> Job | None:
        """The job of a job row; None for a group row (see `group_at`) or a row out of range."""
        if not 0 <= row < len(self._rows):
            return None
        kind, key, _depth = self._rows[row]
        return self._by_id.get(key) if kind == JOB_ROW else None

    def group_at(self, row: int) -> GroupSummary | None:
        """The group a group row stands for; None for a job row (also one inside an expanded group)."""
        if not 0 <= row < len(self._rows):
            return None
        kind, key, _depth = self._rows[row]
        return self._summary(key) if kind == GROUP_ROW else None

    def jobs_in_row(self, row: int) -> tuple[Job, ...]:
        """The jobs a row stands for: its job, or all of its group's (what a filter tests, what a drag carries)."""
        if not 0 <= row < len(self._rows):
            return ()
        kind, key, _depth = self._rows[row]
        if kind == GROUP_ROW:
            group = self._summary(key)
            return group.jobs if group is not None else ()
        job = self._by_id.get(key)
        return (job,) if job is not None else ()

    def depth_at(self, row: int) -> int:
        """1 for the row of a job shown under its expanded group, else 0."""
        return self._rows[row][2] if 0 <= row < len(self._rows) else 0

    def row_of(self, job_id: str) -> int | None:
        """The row that shows the job: its own, or its collapsed group's; None when it is not in the list."""
        row = self._row_index.get((JOB_ROW, job_id))
        if row is not None:
            return row
        job = self._by_id.get(job_id)
        return None if job is None or job.group_id is None else self.row_of_group(job.group_id)

    def row_of_group(self, group_id: str) -> int | None:
        """The group's row; None when it has no row (unknown, or a single job shown as a plain row)."""
        return self._row_index.get((GROUP_ROW, group_id))

    def job(self, job_id: str) -> Job | None:
        """Any job in the list, shown or folded into a collapsed group."""
        return self._by_id.get(job_id)

    def jobs(self) -> list[Job]:
        """Every job, newest first, shown or folded into a collapsed group."""
        return list(self._jobs)

    def job_count(self) -> int:
        return len(self._jobs)

    def group_jobs(self, group_id: str) -> list[Job]:
        """The jobs of a group in the order they were made (empty for an unknown group)."""
        return [self._by_id[i] for i in self._members.get(group_id, ())]

    def search_key(self, job_id: str) -> str:
        """The job's prompt as search compares it (`fold`), computed when the job arrived."""
        return self._keys.get(job_id, "")

    def search_keys(self) -> Mapping[str, str]:
        """Every job's `search_key` by job id: a live read-only view (it follows the jobs), for filters that test
        thousands of jobs at a time."""
        return self._keys_view

    def matching_rows(self, match: Callable[[Job], bool]) -> list[bool]:
        """For every row, whether `match` accepts its job (a group row: any of its jobs), in one pass: what a
        filter needs when its query changes, without a call per row."""
        by_id, members = self._by_id, self._members
        result: list[bool] = []
        append = result.append
        for kind, key, _depth in self._rows:
            if kind == JOB_ROW:
                append(match(by_id[key]))
            else:
                for member in members[key]:
                    if match(by_id[member]):
                        append(True)
                        break
                else:
                    append(False)
        return result

    def model_ids(self) -> list[str]:
        """The models the jobs were made with, most used first (what a model filter offers)."""
        return [model for model, _n in Counter(job.request.model for job in self._jobs).most_common()]

    # -- groups ------------------------------------------------------------------------------------
    def is_expanded(self, group_id: str) -> bool:
        return group_id in self._expanded

    def set_expanded(self, group_id: str, expanded: bool) -> None:
        """Show (or hide) a group's jobs under its row. A group of one has no row of its own: nothing happens."""
        if expanded == (group_id in self._expanded):
            return
        row = self.row_of_group(group_id)
        if row is None:
            return
        members = self._members[group_id]
        first, last = row + 1, row + len(members)
        if expanded:
            self.beginInsertRows(QModelIndex(), first, last)
            self._expanded.add(group_id)
            self._rows[first:first] = [(JOB_ROW, member, 1) for member in members]
            self.endInsertRows()
        else:
            self.beginRemoveRows(QModelIndex(), first, last)
            self._expanded.discard(group_id)
            del self._rows[first : last + 1]
            self.endRemoveRows()
        self._reindex_rows()
        self._emit_row((GROUP_ROW, group_id), [ExpandedRole, Qt.ItemDataRole.AccessibleTextRole])

    def toggle_group(self, group_id: str) -> bool:
        """Expand a collapsed group, collapse an expanded one; returns whether it is expanded now."""
        self.set_expanded(group_id, group_id not in self._expanded)
        return group_id in self._expanded

    def reveal(self, job_id: str) -> int | None:
        """The job's own row, expanding its group when it was folded away; None when it is not in the list."""
        job = self._by_id.get(job_id)
        if job is None:
            return None
        if job.group_id is not None and self.row_of_group(job.group_id) is not None:
            self.set_expanded(job.group_id, True)
        return self._row_index.get((JOB_ROW, job_id))

    def _tick(self) -> None:
        """Repaint rows whose elapsed time is ticking."""
        for job in self._jobs:
            if job.state is JobState.GENERATING:
                self._emit_row((JOB_ROW, job.id), [StatusRole, Qt.ItemDataRole.AccessibleTextRole])

    # -- thumbnails --------------------------------------------------------------------------------
    def _thumbnail(self, job: Job) -> QPixmap | None:
        pixmap = self._thumbs.get(job.id)
        if pixmap is not None:
            self._thumbs.move_to_end(job.id)
            return pixmap
        if job.thumbnail and job.id not in self._decoding:
            self._decoding.add(job.id)
            spawn(self._decode(job.id, job.thumbnail))
        return None

    async def _decode(self, job_id: str, data: bytes) -> None:
        image = await off_ui_thread(_decode_thumbnail, data)
        if not shiboken6.isValid(self):  # the list went away (its window closed) while the picture was decoded
            return
        self._decoding.discard(job_id)
        job = self._by_id.get(job_id)
        if image.isNull() or job is None:
            return
        self._thumbs[job_id] = QPixmap.fromImage(image)
        while len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)
        self._emit_row((JOB_ROW, job_id), [ThumbnailRole])
        members = self._members.get(job.group_id) if job.group_id is not None else None
        if members and members[0] == job_id and job.group_id is not None:
            self._emit_row((GROUP_ROW, job.group_id), [ThumbnailRole])


def list_model_of(model: QAbstractItemModel | None) -> JobListModel | None:
    """The JobListModel under a view's model (itself, or under any proxies such as the library filter)."""
    while isinstance(model, QAbstractProxyModel):
        model = model.sourceModel()
    return model if isinstance(model, JobListModel) else None


def source_row(index: QModelIndex) -> tuple[JobListModel, int] | None:
    """A view's index as (JobListModel, its row), through any proxies; None when there is none."""
    model = index.model() if index.isValid() else None
    current = index
    while isinstance(model, QAbstractProxyModel):
        current = model.mapToSource(current)
        model = model.sourceModel()
    if not isinstance(model, JobListModel) or not current.isValid():
        return None
    return model, current.row()


def view_index(view_model: QAbstractItemModel, row: int) -> QModelIndex:
    """The JobListModel row `row` as an index of `view_model` (through proxies); invalid when filtered out."""
    chain: list[QAbstractProxyModel] = []
    model: QAbstractItemModel | None = view_model
    while isinstance(model, QAbstractProxyModel):
        chain.append(model)
        model = model.sourceModel()
    if not isinstance(model, JobListModel):
        return QModelIndex()
    index = model.index(row)
    for proxy in reversed(chain):
        index = proxy.mapFromSource(index)
    return index


def toggle_group_in_view(view: QAbstractItemView, group_id: str) -> None:
    """Expand or collapse a group shown in `view`; the selection, when it is on one of the jobs being hidden,
    moves to the group's row first (rather than to whatever row slides under it)."""
    model = list_model_of(view.model())
    if model is None:
        return
    if model.is_expanded(group_id):
        found = source_row(view.currentIndex())
        if found is not None:
            job = found[0].job_at(found[1])
            group_row = model.row_of_group(group_id)
            if job is not None and job.group_id == group_id and group_row is not None:
                target = view_index(view.model(), group_row)
                if target.isValid():
                    view.setCurrentIndex(target)
    model.toggle_group(group_id)


class _GroupKeys(QObject):
    """The view's keys for groups, as in a tree: → or Enter expands a group row, ← or Enter collapses it, →
    on an expanded one goes to its first job, ← on a job inside a group goes to the group's row."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QAbstractItemView):
            return False
        assert isinstance(event, QKeyEvent)
        key = event.key()
        keys = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if key not in keys or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        view = watched
        found = source_row(view.currentIndex())
        if found is None:
            return False
        model, row = found
        group = model.group_at(row)
        if group is not None:
            expanded = model.is_expanded(group.group_id)
            if key == Qt.Key.Key_Right and expanded:
                first = view_index(view.model(), row + 1)
                if first.isValid():
                    view.setCurrentIndex(first)
                return True
            if key == Qt.Key.Key_Left and not expanded:
                return True
            toggle_group_in_view(view, group.group_id)
            return True
        job = model.job_at(row)
        if key == Qt.Key.Key_Left and job is not None and job.group_id is not None and model.depth_at(row):
            group_row = model.row_of_group(job.group_id)
            target = view_index(view.model(), group_row) if group_row is not None else QModelIndex()
            if target.isValid():
                view.setCurrentIndex(target)
                return True
        return False


# Colours of a group's progress bar per ending (light, dark); the rest of the bar is the track.
PROGRESS_COLORS: tuple[tuple[frozenset[JobState], tuple[str, str]], ...] = (
    (frozenset({JobState.COMPLETED}), ("#2e9d4a", "#5cc878")),
    (frozenset({JobState.FAILED}), theme.ERROR_COLOR),
    (frozenset({JobState.UNKNOWN, JobState.STALLED}), ("#e08a00", "#ffb74d")),
    (frozenset({JobState.CANCELLED, JobState.NOT_CREATED}), ("#9e9e9e", "#8a8a8a")),
)
STAR_COLOR = ("#e6a100", "#ffc940")


def star_path(rect: QRectF) -> QPainterPath:
    """A five-pointed star filling `rect`."""
    center = rect.center()
    outer = min(rect.width(), rect.height()) / 2
    inner = outer * 0.45
    points = [
        QPointF(
            center.x() + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / 5),
            center.y() - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / 5) + outer * 0.08,
        )
        for i in range(10)
    ]
    path = QPainterPath()
    path.addPolygon(QPolygonF(points))
    path.closeSubpath()
    return path


@dataclass(frozen=True)
class _Look:
    palette: QPalette
    dark: bool
    selected: bool
    text: QColor
    muted: QColor


class JobDelegate(QStyledItemDelegate):
    """Paints a row: thumbnail, prompt, details, the status badge, a favourite star on a finished clip (a click
    on it asks the window to star or unstar it), and for a job known not to have been created a "Send again"
    button (a click on it asks the window to resend: the person's explicit choice). A group row has a disclosure
    arrow (a click on it, or Enter/→/←, expands and collapses it), the first job's picture on a stack, the prompt,
    "Group of 8 · 3 of 8 done · 1 failed" and a progress bar; its jobs' rows are indented under it.

    Made with the view as its parent (as the window does), it also takes the view's group keys; else call
    `attach(view)`."""

    ROW_HEIGHT = 76
    THUMB = 60
    INDENT = 28  # how far a group's job rows are indented
    ARROW = 24  # the group row's disclosure column
    STAR = 22
    RESEND_TEXT = "Send again"
    resend_clicked = Signal(str)  # the job's id
    favourite_clicked = Signal(str)  # the job's id: star it, or unstar it when it is a favourite

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keys = _GroupKeys(self)
        if isinstance(parent, QAbstractItemView):
            self.attach(parent)

    def attach(self, view: QAbstractItemView) -> None:
        """Give `view` the group keys (→ ← Enter on group rows)."""
        view.installEventFilter(self._keys)

    @classmethod
    def resend_rect(cls, rect: QRect, font: QFont) -> QRect:
        """Where the button is drawn (bottom right of the row), so a click can be matched to it."""
        fm = QFontMetrics(font)
        width, height = fm.horizontalAdvance(cls.RESEND_TEXT) + 20, fm.height() + 8
        return QRect(rect.right() - 8 - width, rect.bottom() - 6 - height, width, height)

    @classmethod
    def star_rect(cls, rect: QRect) -> QRect:
        """Where a row's favourite star is drawn (bottom right), so a click can be matched to it."""
        return QRect(rect.right() - 8 - cls.STAR, rect.bottom() - 4 - cls.STAR, cls.STAR, cls.STAR)

    @classmethod
    def arrow_rect(cls, rect: QRect) -> QRect:
        """A group row's disclosure arrow: its whole left column takes the click."""
        return QRect(rect.left(), rect.top(), cls.ARROW, rect.height())

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: AnyIndex) -> bool:
        kind = event.type()
        mouse = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick)
        if kind not in mouse or not isinstance(event, QMouseEvent) or event.button() != Qt.MouseButton.LeftButton:
            return super().editorEvent(event, model, option, index)
        pos = event.position().toPoint()
        released = kind == QEvent.Type.MouseButtonRelease
        group = index.data(GroupRole)
        if isinstance(group, GroupSummary):
            on_arrow = self.arrow_rect(option.rect).contains(pos)
            if on_arrow or kind == QEvent.Type.MouseButtonDblClick:
                # A press on the arrow is not a press on the row (the selection stays); a double click anywhere
                # on the row toggles it too (and is not taken for "play").
                if released or not on_arrow:
                    self._toggle(option, model, group.group_id)
                return True
            return super().editorEvent(event, model, option, index)
        job = index.data(JobRole)
        if isinstance(job, Job) and shows_star(job) and self.star_rect(option.rect).contains(pos):
            if released:  # the press is swallowed: starring a row does not select (and play) it
                self.favourite_clicked.emit(job.id)
            return True
        if (
            isinstance(job, Job)
            and job.state is JobState.NOT_CREATED
            and released
            and self.resend_rect(option.rect, option.font).contains(pos)
        ):
            self.resend_clicked.emit(job.id)
            return True
        return super().editorEvent(event, model, option, index)

    def helpEvent(
        self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem, index: AnyIndex
    ) -> bool:
        """The star and the arrow say what a click does."""
        if event.type() == QEvent.Type.ToolTip:
            tip = ""
            job = index.data(JobRole)
            if isinstance(index.data(GroupRole), GroupSummary) and self.arrow_rect(option.rect).contains(event.pos()):
                tip = "Hide its jobs" if index.data(ExpandedRole) else "Show its jobs"
            elif isinstance(job, Job) and shows_star(job) and self.star_rect(option.rect).contains(event.pos()):
                tip = "Remove from favourites" if job.favourite else "Add to favourites"
            if tip:
                QToolTip.showText(event.globalPos(), tip, view)
                return True
        return super().helpEvent(event, view, option, index)

    @staticmethod
    def _toggle(option: QStyleOptionViewItem, model: Any, group_id: str) -> None:
        view = option.widget
        if isinstance(view, QAbstractItemView):
            toggle_group_in_view(view, group_id)
            return
        source = list_model_of(model)
        if source is not None:
            source.toggle_group(group_id)

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return QSize(280, self.ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        group: GroupSummary | None = index.data(GroupRole)
        job: Job | None = index.data(JobRole) if group is None else None
        if group is None and job is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = option.palette
        rect: QRect = option.rect
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        elif index.row() % 2:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        text_color = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = QColor(text_color)
        muted.setAlphaF(0.7)
        look = _Look(palette, theme.is_dark(palette), selected, text_color, muted)
        if group is not None:
            self._paint_group(painter, option, index, group, look)
        elif job is not None:
            depth = index.data(DepthRole) or 0
            content = rect.adjusted(self.INDENT * depth, 0, 0, 0)
            if depth:  # the line that ties a group's jobs to its row
                guide = QColor(look.muted)
                guide.setAlphaF(0.3)
                painter.fillRect(QRect(rect.left() + self.ARROW // 2 - 1, rect.top(), 2, rect.height()), guide)
            self._paint_job(painter, option, index, job, content, look)
        painter.restore()

    def _thumb_rect(self, rect: QRect, left: int) -> QRect:
        return QRect(left, rect.top() + (rect.height() - self.THUMB) // 2, self.THUMB, self.THUMB)

    @staticmethod
    def _paint_thumbnail(painter: QPainter, thumb_rect: QRect, pixmap: QPixmap | None, look: _Look) -> None:
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(thumb_rect), 6, 6)
        painter.save()
        painter.setClipPath(clip)
        if pixmap is not None and not pixmap.isNull():
            side = min(pixmap.width(), pixmap.height())  # a centred square (the model's thumbnails already are)
            source = QRect((pixmap.width() - side) // 2, (pixmap.height() - side) // 2, side, side)
            painter.drawPixmap(thumb_rect, pixmap, source)
        else:
            painter.fillRect(thumb_rect, look.palette.color(QPalette.ColorRole.Mid))
        painter.restore()

    @staticmethod
    def _paint_badge(
        painter: QPainter,
        option: QStyleOptionViewItem,
        rect: QRect,
        text: str,
        state: JobState,
        look: _Look,
        progress: float | None = None,
    ) -> QRect:
        margin = 8
        badge_font = QFont(option.font)
        badge_font.setPointSizeF(max(7.5, badge_font.pointSizeF() * 0.85))
        badge_font.setBold(True)
        fm_badge = QFontMetrics(badge_font)
        badge_w = fm_badge.horizontalAdvance(text) + 16
        badge_h = fm_badge.height() + 6
        badge = QRect(rect.right() - margin - badge_w, rect.top() + 10, badge_w, badge_h)
        background, foreground = theme.badge_colors(state, look.dark)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(badge), badge_h / 2, badge_h / 2)
        if progress is not None:
            filled = QRectF(badge.left(), badge.top(), badge.width() * progress, badge.height())
            painter.setBrush(background.darker(125) if not look.dark else background.lighter(135))
            painter.save()
            path = QPainterPath()
            path.addRoundedRect(QRectF(badge), badge_h / 2, badge_h / 2)
            painter.setClipPath(path)
            painter.drawRect(filled)
            painter.restore()
        painter.setFont(badge_font)
        painter.setPen(foreground)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        return badge

    def _paint_title(
        self, painter: QPainter, option: QStyleOptionViewItem, left: int, right: int, top: int, text: str, look: _Look
    ) -> QRect:
        title_font = QFont(option.font)
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.setPen(look.text)
        fm = QFontMetrics(title_font)
        title_rect = QRect(left, top, right - left, fm.height() + 2)
        painter.drawText(
            title_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(text.replace("\n", " "), Qt.TextElideMode.ElideRight, title_rect.width()),
        )
        return title_rect

    def _paint_star(self, painter: QPainter, rect: QRect, favourite: bool, look: _Look) -> None:
        star = QRectF(self.star_rect(rect)).adjusted(2, 2, -2, -2)
        path = star_path(star)
        painter.save()
        if favourite:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(STAR_COLOR[look.dark]))
        else:
            pen_color = QColor(look.muted)
            painter.setPen(pen_color)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.restore()

    def _paint_job(
        self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex, job: Job, rect: QRect, look: _Look
    ) -> None:
        margin = 8
        thumb_rect = self._thumb_rect(rect, rect.left() + margin)
        self._paint_thumbnail(painter, thumb_rect, index.data(ThumbnailRole), look)
        # The badge, right-aligned on the first line.
        progress = job.progress if job.state is JobState.DOWNLOADING else None
        badge = self._paint_badge(painter, option, rect, job.status_text(time.time()), job.state, look, progress)
        left = thumb_rect.right() + margin + 2
        top = rect.top() + 10
        # Prompt (elided) and details.
        title_rect = self._paint_title(painter, option, left, badge.left() - margin, top, job.title, look)
        star = shows_star(job)
        right = (self.star_rect(rect).left() - 4) if star else rect.right() - margin
        detail_font = QFont(option.font)
        painter.setFont(detail_font)
        painter.setPen(look.muted)
        fm_detail = QFontMetrics(detail_font)
        details = details_text(job)
        detail_rect = QRect(left, title_rect.bottom() + 4, right - left, fm_detail.height() + 2)
        painter.drawText(
            detail_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_detail.elidedText(details, Qt.TextElideMode.ElideRight, detail_rect.width()),
        )
        error_width = detail_rect.width()
        if job.state is JobState.NOT_CREATED:
            button = self.resend_rect(rect, option.font)
            error_width = button.left() - left - margin
            painter.setPen(look.palette.color(QPalette.ColorRole.ButtonText))
            painter.setBrush(look.palette.color(QPalette.ColorRole.Button))
            painter.drawRoundedRect(QRectF(button), 4, 4)
            painter.setFont(QFont(option.font))
            painter.drawText(button, Qt.AlignmentFlag.AlignCenter, self.RESEND_TEXT)
            painter.setFont(detail_font)
        if star:
            self._paint_star(painter, rect, job.favourite, look)
        if job.error and job.state in FINAL:
            # Red only for a failure; a warning (unknown, stalled, not created) in amber; a cancelled job's note
            # ("the server may still finish it") is no error: plain muted text.
            reason = theme.reason_color(job.state, look.dark)
            painter.setPen(look.text if look.selected else reason if reason is not None else look.muted)
            error_rect = QRect(left, detail_rect.bottom() + 2, error_width, fm_detail.height() + 2)
            painter.drawText(
                error_rect,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                fm_detail.elidedText(job.error, Qt.TextElideMode.ElideRight, error_rect.width()),
            )

    def _paint_group(
        self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex, group: GroupSummary, look: _Look
    ) -> None:
        rect: QRect = option.rect
        margin = 8
        expanded = bool(index.data(ExpandedRole))
        # The disclosure arrow: ▸ collapsed, ▾ expanded.
        cx, cy, size = rect.left() + self.ARROW / 2 + 2, rect.center().y() + 0.5, 5.0
        if expanded:
            points = [
                QPointF(cx - size, cy - size / 2),
                QPointF(cx + size, cy - size / 2),
                QPointF(cx, cy + size / 2 + 1),
            ]
        else:
            points = [
                QPointF(cx - size / 2, cy - size),
                QPointF(cx - size / 2, cy + size),
                QPointF(cx + size / 2 + 1, cy),
            ]
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(look.text)
        painter.drawPolygon(QPolygonF(points))
        # The first job's picture on a stack of cards, with the count on it.
        thumb_rect = self._thumb_rect(rect, rect.left() + self.ARROW + 2)
        card = QColor(look.palette.color(QPalette.ColorRole.Mid))
        for offset, alpha in ((6, 0.45), (3, 0.75)):
            card.setAlphaF(alpha)
            painter.setBrush(card)
            painter.drawRoundedRect(QRectF(thumb_rect.translated(offset, -offset)), 6, 6)
        self._paint_thumbnail(painter, thumb_rect, index.data(ThumbnailRole), look)
        count_font = QFont(option.font)
        count_font.setBold(True)
        count_font.setPointSizeF(max(7.0, count_font.pointSizeF() * 0.8))
        fm_count = QFontMetrics(count_font)
        label = f"×{group.count}"
        chip = QRect(0, 0, fm_count.horizontalAdvance(label) + 10, fm_count.height() + 2)
        chip.moveBottomRight(thumb_rect.bottomRight() - QPoint(3, 3))
        painter.setBrush(QColor(0, 0, 0, 170))
        painter.drawRoundedRect(QRectF(chip), chip.height() / 2, chip.height() / 2)
        painter.setFont(count_font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, label)
        # Badge, prompt, the summary line and the group's progress.
        badge = self._paint_badge(painter, option, rect, group.badge_text(), group.state, look)
        left = thumb_rect.right() + margin + 8
        title_rect = self._paint_title(
            painter, option, left, badge.left() - margin, rect.top() + 10, group.prompt, look
        )
        right = (self.star_rect(rect).left() - 4) if group.favourite else rect.right() - margin
        detail_font = QFont(option.font)
        painter.setFont(detail_font)
        painter.setPen(look.muted)
        fm_detail = QFontMetrics(detail_font)
        summary_rect = QRect(left, title_rect.bottom() + 4, right - left, fm_detail.height() + 2)
        painter.drawText(
            summary_rect,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            fm_detail.elidedText(group.summary_text(), Qt.TextElideMode.ElideRight, summary_rect.width()),
        )
        bar = QRectF(left, summary_rect.bottom() + 6, max(0, right - left), 6)
        track = QColor(look.muted)
        track.setAlphaF(0.25)
        path = QPainterPath()
        path.addRoundedRect(bar, 3, 3)
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(bar, track)
        x = bar.left()
        states = group.states
        for members, colours in PROGRESS_COLORS:
            share = sum(states[state] for state in members) / group.count
            if share:
                painter.fillRect(QRectF(x, bar.top(), bar.width() * share, bar.height()), QColor(colours[look.dark]))
                x += bar.width() * share
        painter.restore()
        if group.favourite:  # a reminder that it holds favourites (the stars are on its jobs' rows)
            self._paint_star(painter, rect, True, look)

    @staticmethod
    def _details(job: Job) -> str:
        return details_text(job)
