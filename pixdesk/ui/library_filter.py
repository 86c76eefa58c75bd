"""The library: search and filters over the queue (a proxy model), and the bar that drives them.

What matches:
- Search: every word typed must appear in the prompt (case and accents ignored, in any order, parts of words
  count: "light" finds "lighthouse"). The negative prompt is not searched: people reuse one negative prompt
  ("blurry, low quality…") on every job, so searching it would match nearly everything.
- Status: a named bucket (`StatusFilter`) or any set of JobStates. "unknown/stalled" are the jobs whose outcome
  still needs a look; "failed/cancelled" also holds the jobs known never to have been created.
- Model (a model id), favourites only, and a creation-date range (`DateFilter` presets or from/to).
- Groups: a group row is shown when ANY of its jobs matches (the row keeps summarising the whole group); when
  the group is expanded, its job rows are filtered one by one, so only the matching ones show under it.
Counts (`match_count`, `total_count`) are of jobs, not rows: a collapsed group of 8 that all match counts 8.

Speed: the prompt is folded once per job, in the model (`JobListModel.search_key`); a filter change builds one
small match function and Qt re-tests each row with it, so 10,000 rows refilter in a few milliseconds. Waiting for
the person to stop typing (the debounce) is the bar's job, not the proxy's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget

from pixdesk.api.catalogue import MODELS
from pixdesk.jobs.models import FINAL, Job, JobState
from pixdesk.jobs.spend import start_of_day
from pixdesk.ui.queue_model import (
    GroupSummary,
    JobListModel,
    StatusRole,
    ThumbnailRole,
    fold,
)

DAY = 86400.0
Matcher = Callable[[Job], bool]


class StatusFilter(StrEnum):
    ALL = "all"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed/cancelled"
    ATTENTION = "unknown/stalled"


STATUS_STATES: dict[StatusFilter, frozenset[JobState] | None] = {
    StatusFilter.ALL: None,
    StatusFilter.RUNNING: frozenset(JobState) - FINAL,
    StatusFilter.COMPLETED: frozenset({JobState.COMPLETED}),
    StatusFilter.FAILED: frozenset({JobState.FAILED, JobState.CANCELLED, JobState.NOT_CREATED}),
    StatusFilter.ATTENTION: frozenset({JobState.UNKNOWN, JobState.STALLED}),
}
STATUS_LABELS: dict[StatusFilter, str] = {
    StatusFilter.ALL: "Any status",
    StatusFilter.RUNNING: "Running",
    StatusFilter.COMPLETED: "Completed",
    StatusFilter.FAILED: "Failed or cancelled",
    StatusFilter.ATTENTION: "Unknown or stalled",
}


class DateFilter(StrEnum):
    ALL = "all"
    TODAY = "today"
    WEEK = "last 7 days"
    MONTH = "last 30 days"


DATE_LABELS: dict[DateFilter, str] = {
    DateFilter.ALL: "Any date",
    DateFilter.TODAY: "Today",
    DateFilter.WEEK: "Last 7 days",
    DateFilter.MONTH: "Last 30 days",
}


def date_range(preset: DateFilter | str, now: float | None = None) -> tuple[float | None, float | None]:
    """(since, until) in epoch seconds for a preset: today from local midnight, the others counted back from
    now; (None, None) for any date."""
    preset = DateFilter(preset)
    now = time.time() if now is None else now
    if preset is DateFilter.TODAY:
        return start_of_day(now), None
    if preset is DateFilter.WEEK:
        return now - 7 * DAY, None
    if preset is DateFilter.MONTH:
        return now - 30 * DAY, None
    return None, None


def states_of(status: StatusFilter | str | Iterable[JobState] | None) -> frozenset[JobState] | None:
    """The JobStates a status filter keeps; None keeps every job."""
    if status is None:
        return None
    if isinstance(status, str):
        return STATUS_STATES[StatusFilter(status)]
    return frozenset(status)


@dataclass(frozen=True)
class LibraryQuery:
    """What the library shows; the empty query shows everything."""

    text: str = ""
    states: frozenset[JobState] | None = None
    model: str | None = None
    favourites_only: bool = False
    since: float | None = None  # created at or after
    until: float | None = None  # created before

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(fold(self.text).split())

    @property
    def is_empty(self) -> bool:
        return (
            not self.words
            and self.states is None
            and self.model is None
            and not self.favourites_only
            and self.since is None
            and self.until is None
        )

    def matcher(self, keys: Mapping[str, str]) -> Matcher | None:
        """One function testing a job against every criterion given (None when nothing is asked: all match).
        `keys` maps a job id to its folded prompt (JobListModel.search_keys)."""
        if self.is_empty:
            return None
        words, states, model = self.words, self.states, self.model
        favourites, since, until = self.favourites_only, self.since, self.until

        def match(job: Job) -> bool:
            if states is not None and job.state not in states:
                return False
            if favourites and not job.favourite:
                return False
            if model is not None and job.request.model != model:
                return False
            if since is not None and job.created_at < since:
                return False
            if until is not None and job.created_at >= until:
                return False
            if words:
                key = keys.get(job.id, "")
                for word in words:
                    if word not in key:
                        return False
            return True

        return match


# Changes to these roles alone (the elapsed time ticking, a thumbnail decoded) cannot change what matches.
_COSMETIC_ROLES = frozenset({StatusRole, Qt.ItemDataRole.AccessibleTextRole, ThumbnailRole})


class LibraryFilter(QSortFilterProxyModel):
    """The queue as the library shows it: a JobListModel's rows that match a `LibraryQuery`, in the same order.
    Use `job_at(row)` / `group_at(row)` / `row_of(job_id)` with this model's rows (no index mapping by hand)."""

    query_changed = Signal()  # the query changed and the rows were filtered again
    counts_changed = Signal()  # match_count() or total_count() may have changed (the query, or the jobs)

    def __init__(self, source: JobListModel | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._query = LibraryQuery()
        self._match: Matcher | None = None
        self._source: JobListModel | None = None
        self._count: int | None = None
        self._accepted: list[bool] | None = None  # while refiltering after a query change: each row's answer
        if source is not None:
            self.setSourceModel(source)

    # -- the source ------------------------------------------------------------------------------------
    def setSourceModel(self, model: object) -> None:
        if not isinstance(model, JobListModel):
            raise TypeError("LibraryFilter filters a JobListModel")
        old = self._source
        if old is not None:
            for signal in (old.rowsInserted, old.rowsRemoved, old.modelReset, old.layoutChanged):
                signal.disconnect(self._jobs_changed)
            old.dataChanged.disconnect(self._data_changed)
        super().setSourceModel(model)
        self._source = model
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
            signal.connect(self._jobs_changed)
        model.dataChanged.connect(self._data_changed)
        self._set_matcher()
        self._jobs_changed()

    def source(self) -> JobListModel:
        if self._source is None:
            raise RuntimeError("LibraryFilter has no source model yet")
        return self._source

    def _jobs_changed(self, *_args: object) -> None:
        self._count = None
        self.counts_changed.emit()

    def _data_changed(self, _top: QModelIndex, _bottom: QModelIndex, roles: list[int] | None = None) -> None:
        if roles and _COSMETIC_ROLES.issuperset(roles):
            return
        self._jobs_changed()

    # -- the query -------------------------------------------------------------------------------------
    def query(self) -> LibraryQuery:
        return self._query

    def set_query(self, query: LibraryQuery) -> None:
        """Show what matches `query` (a no-op when it is the current one)."""
        if query == self._query:
            return
        end = getattr(self, "endFilterChange", None)  # Qt 6.10+; invalidateFilter before (deprecated since)
        if end is not None:
            self.beginFilterChange()
        self._query = query
        self._set_matcher()
        # Every row is tested in one pass first (much quicker than Qt's call per row doing the work); the answers
        # serve only this refilter: rows that change later are tested one by one.
        source, match = self._source, self._match
        self._accepted = source.matching_rows(match) if source is not None and match is not None else None
        try:
            if end is not None:
                end(QSortFilterProxyModel.Direction.Rows)
            else:
                self.invalidateFilter()
        finally:
            self._accepted = None
        self._count = None
        self.query_changed.emit()
        self.counts_changed.emit()

    def _set_matcher(self) -> None:
        source = self._source
        self._match = self._query.matcher(source.search_keys()) if source is not None else None

    def set_search(self, text: str) -> None:
        self.set_query(replace(self._query, text=text))

    def set_status(self, status: StatusFilter | str | Iterable[JobState] | None) -> None:
        """A bucket ("running", "completed", "failed/cancelled", "unknown/stalled", "all"), any set of
        JobStates, or None for every status."""
        self.set_query(replace(self._query, states=states_of(status)))

    def set_model_id(self, model_id: str | None) -> None:
        self.set_query(replace(self._query, model=model_id or None))

    def set_favourites_only(self, on: bool) -> None:
        self.set_query(replace(self._query, favourites_only=on))

    def set_date_range(self, since: float | None, until: float | None = None) -> None:
        self.set_query(replace(self._query, since=since, until=until))

    def set_date(self, preset: DateFilter | str, now: float | None = None) -> None:
        self.set_date_range(*date_range(preset, now))

    def clear(self) -> None:
        self.set_query(LibraryQuery())

    def is_active(self) -> bool:
        return not self._query.is_empty

    def matches(self, job: Job) -> bool:
        return self._match is None or self._match(job)

    # -- filtering -------------------------------------------------------------------------------------
    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        accepted = self._accepted
        if accepted is not None:
            return accepted[source_row]
        match, source = self._match, self._source
        if match is None or source is None:
            return True
        return any(match(job) for job in source.jobs_in_row(source_row))

    # -- rows of this model ----------------------------------------------------------------------------
    def source_row(self, row: int) -> int | None:
        index = self.mapToSource(self.index(row, 0))
        return index.row() if index.isValid() else None

    def job_at(self, row: int) -> Job | None:
        """The job of a job row (None for a group row: see `group_at`)."""
        found = self.source_row(row)
        return self.source().job_at(found) if found is not None else None

    def group_at(self, row: int) -> GroupSummary | None:
        found = self.source_row(row)
        return self.source().group_at(found) if found is not None else None

    def row_of(self, job_id: str) -> int | None:
        """This model's row that shows the job (its own, or its collapsed group's); None when it is filtered out
        or not in the list."""
        found = self.source().row_of(job_id)
        if found is None:
            return None
        index = self.mapFromSource(self.source().index(found))
        return index.row() if index.isValid() else None

    def index_of(self, job_id: str) -> QModelIndex:
        """The index of `row_of(job_id)` (invalid when it is not shown), e.g. to select it in the view."""
        row = self.row_of(job_id)
        return self.index(row, 0) if row is not None else QModelIndex()

    # -- counts ----------------------------------------------------------------------------------------
    def total_count(self) -> int:
        """Every job in the library."""
        return self._source.job_count() if self._source is not None else 0

    def match_count(self) -> int:
        """The jobs that match (each job of a group counted, shown or folded away)."""
        if self._count is None:
            match, source = self._match, self._source
            if source is None:
                self._count = 0
            elif match is None:
                self._count = source.job_count()
            else:
                self._count = sum(1 for job in source.jobs() if match(job))
        return self._count


def count_text(library: LibraryFilter) -> str:
    """The bar's count: "1,234 of 10,000" while filtering, "10,000 jobs" (or "1 job") otherwise."""
    total = library.total_count()
    if library.is_active():
        return f"{library.match_count():,} of {total:,}"
    return f"{total:,} job" + ("" if total == 1 else "s")


class LibraryBar(QWidget):
    """Search and filters above the queue: a search box (applied DEBOUNCE_MS after the last keystroke, at once on
    Enter, cleared by Esc), status, model (shown once jobs of two models exist), date, favourites only, and
    how many jobs match."""

    DEBOUNCE_MS = 150

    def __init__(self, library: LibraryFilter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryBar")
        self.library = library
        self.search = QLineEdit()
        self.search.setObjectName("librarySearch")
        self.search.setPlaceholderText("Search prompts…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search prompts")
        self.status_combo = QComboBox()
        self.status_combo.setObjectName("libraryStatusFilter")
        self.status_combo.setAccessibleName("Status filter")
        for status, label in STATUS_LABELS.items():
            self.status_combo.addItem(label, status.value)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("libraryModelFilter")
        self.model_combo.setAccessibleName("Model filter")
        self.model_combo.addItem("Any model", "")
        self.date_combo = QComboBox()
        self.date_combo.setObjectName("libraryDateFilter")
        self.date_combo.setAccessibleName("Date filter")
        for preset, label in DATE_LABELS.items():
            self.date_combo.addItem(label, preset.value)
        self.favourites_button = QToolButton()
        self.favourites_button.setObjectName("libraryFavouritesOnly")
        self.favourites_button.setText("★ Favourites")
        self.favourites_button.setCheckable(True)
        self.favourites_button.setToolTip("Show favourites only")
        self.favourites_button.setAccessibleName("Favourites only")
        # On or off must show at a glance, in any theme: bold (and pressed) while only favourites show.
        self.favourites_button.toggled.connect(self._show_favourites_state)
        self.count_label = QLabel()
        self.count_label.setObjectName("libraryCount")
        self.count_label.setAccessibleName("Jobs shown")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        for widget in (self.status_combo, self.model_combo, self.date_combo):
            filters.addWidget(widget)
        filters.addWidget(self.favourites_button)
        filters.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(filters)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(self.DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_search)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self.apply_search)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        escape.activated.connect(self.clear_search)
        self.status_combo.currentIndexChanged.connect(self._apply_filters)
        self.model_combo.currentIndexChanged.connect(self._apply_filters)
        self.date_combo.currentIndexChanged.connect(self._apply_filters)
        self.favourites_button.toggled.connect(self._apply_filters)
        # Counts and the model list follow the jobs, at most once per burst of updates.
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(100)
        self._refresh.timeout.connect(self.refresh)
        library.counts_changed.connect(self._refresh.start)
        library.query_changed.connect(self._update_count)
        self.refresh()

    def _show_favourites_state(self, on: bool) -> None:
        font = self.favourites_button.font()
        font.setBold(on)
        self.favourites_button.setFont(font)
        self.favourites_button.setText("★ Favourites only" if on else "★ Favourites")

    def focus_chain(self) -> list[QWidget]:
        """Its controls in Tab order (the window links them into its own)."""
        return [self.search, self.status_combo, self.model_combo, self.date_combo, self.favourites_button]

    def apply_search(self) -> None:
        """Filter by what is typed now (the debounce's end, or Enter)."""
        self._debounce.stop()
        self.library.set_search(self.search.text())

    def clear_search(self) -> None:
        self.search.clear()
        self.apply_search()

    def clear(self) -> None:
        """Every filter off: all jobs shown."""
        for combo in (self.status_combo, self.model_combo, self.date_combo):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.favourites_button.blockSignals(True)
        self.favourites_button.setChecked(False)
        self.favourites_button.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._debounce.stop()
        self.library.clear()

    def _apply_filters(self) -> None:
        since, until = date_range(str(self.date_combo.currentData()))
        query = replace(
            self.library.query(),
            states=states_of(str(self.status_combo.currentData())),
            model=str(self.model_combo.currentData() or "") or None,
            favourites_only=self.favourites_button.isChecked(),
            since=since,
            until=until,
        )
        self.library.set_query(query)

    def refresh(self) -> None:
        """Bring the count and the model choices up to date with the jobs."""
        self._refresh.stop()
        self._update_models()
        self._update_count()

    def _update_count(self) -> None:
        self.count_label.setText(count_text(self.library))

    def _update_models(self) -> None:
        models = self.library.source().model_ids() if self.library.sourceModel() is not None else []
        chosen = str(self.model_combo.currentData() or "")
        wanted = ["", *sorted(set(models) | ({chosen} - {""}))]
        present = [str(self.model_combo.itemData(i) or "") for i in range(self.model_combo.count())]
        if present != wanted:
            self.model_combo.blockSignals(True)
            self.model_combo.clear()
            for model_id in wanted:
                spec = MODELS.get(model_id)
                self.model_combo.addItem("Any model" if not model_id else spec.title if spec else model_id, model_id)
            self.model_combo.setCurrentIndex(max(0, wanted.index(chosen)))
            self.model_combo.blockSignals(False)
        # A choice of one is noise: the filter appears once the library holds jobs of two models.
        self.model_combo.setVisible(len(wanted) > 2)
