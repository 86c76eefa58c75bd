"""The queue as a library (issue 12): jobs made together collapse into one row with their progress and expand
by keyboard and click; a search box and filters find jobs among 10,000; a star on each finished clip.

Driven the way a person does: keys and clicks on a real QListView with the real delegate, typing into the
library bar; what is asserted is what they would see (the count label, the rows shown, the row's sentences).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QListView, QVBoxLayout, QWidget

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs.models import Job, JobState
from pixdesk.ui.library_filter import LibraryBar, LibraryFilter, StatusFilter
from pixdesk.ui.queue_model import (
    STAR_COLOR,
    FavouriteRole,
    GroupRole,
    JobDelegate,
    JobListModel,
    JobRole,
    ThumbnailRole,
)
from tests.conftest import SAMPLES, png_bytes

IMAGE = SAMPLES / "portrait.png"
ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole
SUMMARY = Qt.ItemDataRole.AccessibleDescriptionRole
OTHER_MODEL = "pixverse/v5.5/image-to-video"
TOTAL = 10_000


def make_job(
    state: JobState = JobState.COMPLETED,
    prompt: str = "She waves hello",
    model: str | None = None,
    seed: int | None = None,
    **fields: Any,
) -> Job:
    fields.setdefault("backend", "https://api.example.test")
    request = GenerationRequest(image=str(IMAGE), prompt=prompt, resolution="720p", duration=5, seed=seed)
    if model is not None:
        request = replace(request, model=model)
    return Job(request=request, state=state, **fields)


@dataclass
class Library:
    """What the window will show: the library bar above the queue view, over one JobListModel."""

    box: QWidget
    model: JobListModel
    library: LibraryFilter
    bar: LibraryBar
    view: QListView
    delegate: JobDelegate

    def count(self) -> str:
        return self.bar.count_label.text()

    def rows(self) -> int:
        return self.view.model().rowCount()

    def index(self, row: int) -> QModelIndex:
        return self.view.model().index(row, 0)

    def said(self) -> list[str]:
        """Each row's sentence for a screen reader, top to bottom."""
        return [self.index(row).data(ACCESSIBLE) for row in range(self.rows())]

    def row_showing(self, job_id: str) -> int:
        row = self.library.row_of(job_id)
        assert row is not None, job_id
        return row

    def click(self, point: QPoint, double: bool = False) -> None:
        action = QTest.mouseDClick if double else QTest.mouseClick
        action(self.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)

    def key(self, key: Qt.Key) -> None:
        QTest.keyClick(self.view, key)


@pytest.fixture
def open_library(qtbot: Any) -> Iterator[Any]:
    def make(jobs: list[Job], height: int = 640) -> Library:
        box = QWidget()
        model = JobListModel(box)
        model.set_jobs(jobs)
        library = LibraryFilter(model, box)
        bar = LibraryBar(library)
        view = QListView()
        view.setObjectName("queueView")
        view.setUniformItemSizes(True)  # as the window's queue
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setModel(library)
        delegate = JobDelegate(view)
        view.setItemDelegate(delegate)
        layout = QVBoxLayout(box)
        layout.addWidget(bar)
        layout.addWidget(view)
        box.resize(640, height)
        qtbot.addWidget(box)
        box.show()
        qtbot.waitExposed(box)
        return Library(box, model, library, bar, view, delegate)

    yield make


def three_variations(now: float) -> list[Job]:
    """Three variations of one prompt (one finished, one generating, one waiting), newest first."""
    return [
        make_job(JobState.WAITING, "A lighthouse in a storm", group_id="set-1", seed=12, created_at=now - 10),
        make_job(
            JobState.GENERATING,
            "A lighthouse in a storm",
            group_id="set-1",
            seed=11,
            created_at=now - 11,
            server_id="g-11",
            generating_since=now - 30,
        ),
        make_job(JobState.COMPLETED, "A lighthouse in a storm", group_id="set-1", seed=10, created_at=now - 12),
    ]


# -- 1. a group is one row ----------------------------------------------------------------------------------
def test_a_group_of_three_is_one_row_that_expands_and_collapses_by_keyboard_and_click(
    qtbot: Any, open_library: Any
) -> None:
    now = time.time()
    newer = make_job(JobState.COMPLETED, "A cat on a sofa", created_at=now)
    older = make_job(JobState.FAILED, "A dog in the rain", created_at=now - 100, error="refused")
    group = three_variations(now)
    lib: Library = open_library([newer, *group, older])
    first_made = group[-1]

    assert lib.rows() == 3
    assert lib.index(1).data(SUMMARY) == "Group of 3 · 1 of 3 done"
    assert lib.said()[1] == "group of 3, collapsed: A lighthouse in a storm — 1 of 3 done"
    summary = lib.library.group_at(1)
    assert summary is not None and summary.first.id == first_made.id and summary.count == 3
    assert lib.library.job_at(1) is None  # a group row is not "a job": actions on it must not pick one
    assert lib.count() == "5 jobs"

    # Keyboard: → expands (its jobs under it, in the order they were made), ← on a job goes back to the group,
    # ← collapses; Enter expands and collapses too, and never "plays" the group row.
    activated: list[QModelIndex] = []
    lib.view.activated.connect(activated.append)
    lib.view.setFocus()
    lib.view.setCurrentIndex(lib.index(1))
    lib.key(Qt.Key.Key_Right)
    assert lib.rows() == 6
    assert [lib.library.job_at(r).request.seed for r in (2, 3, 4)] == [10, 11, 12]  # type: ignore[union-attr]
    assert lib.said()[1].startswith("group of 3, expanded:")
    lib.key(Qt.Key.Key_Right)  # into the group: its first job
    assert lib.view.currentIndex().row() == 2
    lib.key(Qt.Key.Key_Left)  # back to the group's row
    assert lib.view.currentIndex().row() == 1 and lib.rows() == 6
    lib.key(Qt.Key.Key_Left)
    assert lib.rows() == 3 and lib.view.currentIndex().row() == 1
    lib.key(Qt.Key.Key_Return)
    assert lib.rows() == 6
    lib.key(Qt.Key.Key_Enter)
    assert lib.rows() == 3
    assert activated == []

    # Mouse: a click on the arrow expands and collapses without selecting; a double click on the row toggles.
    lib.view.setCurrentIndex(lib.index(0))
    arrow = JobDelegate.arrow_rect(lib.view.visualRect(lib.index(1))).center()
    lib.click(arrow)
    assert lib.rows() == 6 and lib.view.currentIndex().row() == 0
    lib.click(arrow)
    assert lib.rows() == 3
    lib.click(lib.view.visualRect(lib.index(1)).center(), double=True)
    assert lib.rows() == 6 and activated == []
    # Collapsing while one of its jobs is selected leaves the selection on the group's row.
    lib.view.setCurrentIndex(lib.index(3))
    lib.click(arrow)
    assert lib.rows() == 3 and lib.view.currentIndex().row() == 1


def test_a_group_row_follows_its_jobs_and_keeps_the_selection_where_it_was(qtbot: Any, open_library: Any) -> None:
    now = time.time()
    group = three_variations(now)
    plain = make_job(JobState.COMPLETED, "A cat on a sofa", created_at=now - 5)
    lib: Library = open_library([plain, *group])
    assert lib.rows() == 2 and lib.library.group_at(1) is not None

    lib.view.setCurrentIndex(lib.index(0))  # the person looks at the cat
    waiting, generating, done = group
    lib.model.upsert(Job(**{**vars(generating), "state": JobState.COMPLETED, "generating_since": None}))
    assert lib.index(1).data(SUMMARY) == "Group of 3 · 2 of 3 done"
    lib.model.upsert(Job(**{**vars(waiting), "state": JobState.FAILED, "error": "refused"}))
    assert lib.index(1).data(SUMMARY) == "Group of 3 · 2 of 3 done · 1 failed"
    assert lib.index(1).data(Qt.ItemDataRole.DisplayRole) == "A lighthouse in a storm"

    # Retrying the failed one makes a newer job in the same group: the group's row moves up to where its
    # newest job is, and the selection stays on the cat.
    retry = make_job(JobState.WAITING, "A lighthouse in a storm", group_id="set-1", created_at=now + 1)
    lib.model.upsert(retry)
    assert lib.rows() == 2
    assert lib.index(0).data(SUMMARY) == "Group of 4 · 2 of 4 done · 1 failed"
    assert lib.view.currentIndex().data(JobRole).id == plain.id

    # Removing jobs: a group of one is a plain row again.
    for job in (retry, waiting, generating):
        lib.model.remove(job.id)
    assert lib.rows() == 2 and all(lib.index(r).data(GroupRole) is None for r in range(2))
    assert lib.model.row_of(done.id) is not None and lib.library.job_at(lib.row_showing(done.id)) is not None


def test_row_lookups_see_jobs_folded_into_a_collapsed_group(qtbot: Any, open_library: Any) -> None:
    now = time.time()
    group = three_variations(now)
    lib: Library = open_library([make_job(created_at=now), *group])
    model = lib.model
    folded = group[1].id
    assert model.row_of(folded) == 1  # the row that shows it: its collapsed group's
    assert model.job_at(1) is None and model.group_at(1) is not None
    assert model.job(folded) is not None and len(model.jobs()) == 4
    assert [j.request.seed for j in model.group_jobs("set-1")] == [10, 11, 12]
    assert not model.is_expanded("set-1")
    own = model.reveal(folded)  # what selecting a folded job needs: its group opens
    assert model.is_expanded("set-1") and own == 3
    job = model.job_at(3)
    assert job is not None and job.id == folded
    assert model.toggle_group("set-1") is False and model.row_of(folded) == 1
    assert model.toggle_group("no-such-group") is False


def test_dragging_a_group_row_carries_the_clips_of_its_finished_jobs(
    qtbot: Any, open_library: Any, tmp_path: Any
) -> None:
    now = time.time()
    clips = [tmp_path / "first.mp4", tmp_path / "second.mp4"]
    for clip in clips:
        clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    group = three_variations(now)
    group[2].file_path = str(clips[0])  # the finished one
    group[0].state, group[0].file_path = JobState.COMPLETED, str(clips[1])
    lib: Library = open_library(group)
    index = lib.model.index(0)
    assert lib.model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    mime = lib.model.mimeData([index])
    assert [url.toLocalFile() for url in mime.urls()] == [str(clips[0]), str(clips[1])]  # in the order made


# -- 2. favourites --------------------------------------------------------------------------------------------
def star_center(lib: Library, row: int) -> QPoint:
    return JobDelegate.star_rect(lib.view.visualRect(lib.index(row))).center()


def test_clicking_a_finished_rows_star_asks_to_star_it_and_a_star_shows_filled(qtbot: Any, open_library: Any) -> None:
    now = time.time()
    done = make_job(JobState.COMPLETED, "A cat on a sofa", created_at=now)
    running = make_job(JobState.GENERATING, "A dog", created_at=now - 1, server_id="g-1", generating_since=now)
    lib: Library = open_library([done, running])
    lib.view.setCurrentIndex(lib.index(1))

    with qtbot.waitSignal(lib.delegate.favourite_clicked, timeout=2000) as signal:
        lib.click(star_center(lib, 0))
    assert signal.args == [done.id]
    assert lib.view.currentIndex().row() == 1  # starring a row does not select it (nor play its clip)

    # The window stars it (engine.set_favourite) and the row comes back starred: filled, and said.
    lib.model.upsert(Job(**{**vars(done), "favourite": True}))
    assert lib.index(0).data(FavouriteRole) is True
    assert lib.said()[0].endswith("· favourite")
    pixel = lib.view.viewport().grab().toImage().pixelColor(star_center(lib, 0))
    assert colour_near(pixel, QColor(STAR_COLOR[0]))

    # A job still running has no star to click.
    received: list[str] = []
    lib.delegate.favourite_clicked.connect(received.append)
    lib.click(star_center(lib, 1))
    assert received == [] and lib.view.currentIndex().row() == 1


def colour_near(a: QColor, b: QColor, tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in ((a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue())))


# -- 3. search among 10,000 -----------------------------------------------------------------------------------
GROUPS, GROUP_SIZE = 200, 5  # the first 1,000 jobs are variations in sets of 5 (one prompt per set)
SUBJECTS = ["a red fox", "a city at night", "waves on rocks", "a dancer", "rain on glass", "a robot", "a forest"]


def is_lighthouse(i: int) -> bool:
    """Which of the 10,000 jobs mention a lighthouse: a set when its number is a multiple of 4, else every 7th."""
    return (i // GROUP_SIZE) % 4 == 0 if i < GROUPS * GROUP_SIZE else i % 7 == 0


def subject_of(i: int) -> str:
    """The subject of job i (a set's jobs share one)."""
    key = i // GROUP_SIZE if i < GROUPS * GROUP_SIZE else i
    return SUBJECTS[key % len(SUBJECTS)]


def library_jobs(now: float) -> list[Job]:
    """10,000 jobs, newest first, a minute apart: sets of variations, then single jobs; most finished, some
    favourites, a few failed or running."""
    jobs = []
    states = [JobState.COMPLETED] * 6 + [JobState.FAILED, JobState.CANCELLED, JobState.QUEUED]
    for i in range(TOTAL):
        grouped = i < GROUPS * GROUP_SIZE
        subject = subject_of(i)
        prompt = f"The old Lighthouse and {subject}, slow zoom" if is_lighthouse(i) else f"{subject}, slow zoom"
        jobs.append(
            make_job(
                states[i % len(states)],
                prompt,
                created_at=now - 60 * i,
                group_id=f"set-{i // GROUP_SIZE}" if grouped else None,
                seed=i,
                favourite=i % 13 == 0,
            )
        )
    return jobs


def test_the_search_filters_10000_jobs_and_clearing_it_shows_them_all(qtbot: Any, open_library: Any) -> None:
    lib: Library = open_library(library_jobs(time.time()))
    all_rows = GROUPS + (TOTAL - GROUPS * GROUP_SIZE)
    assert lib.count() == "10,000 jobs" and lib.rows() == all_rows

    matching_jobs = sum(1 for i in range(TOTAL) if is_lighthouse(i))
    matching_sets = sum(1 for g in range(GROUPS) if g % 4 == 0)
    matching_rows = matching_sets + sum(1 for i in range(GROUPS * GROUP_SIZE, TOTAL) if is_lighthouse(i))
    lib.bar.search.setFocus()
    qtbot.keyClicks(lib.bar.search, "LIGHTHOUSE zoom")  # any case, every word, any order
    assert lib.count() == "10,000 jobs"  # not filtered at each keystroke: once typing pauses
    qtbot.waitUntil(lambda: lib.count() == f"{matching_jobs:,} of 10,000", timeout=3000)
    assert lib.rows() == matching_rows
    shown = [lib.index(r).data(Qt.ItemDataRole.DisplayRole) for r in range(lib.rows())]
    assert all("Lighthouse" in prompt for prompt in shown)
    top = lib.view.indexAt(QPoint(20, 20))
    assert top.isValid() and "Lighthouse" in top.data(Qt.ItemDataRole.DisplayRole)

    # A word no prompt has: nothing, and the count says so.
    lib.bar.search.setText("lighthouse submarine")
    lib.bar.apply_search()  # Enter applies at once
    assert lib.count() == "0 of 10,000" and lib.rows() == 0

    # Refiltering 10,000 jobs stays quick (the bench measures it properly; this only catches a slow path).
    started = time.perf_counter()
    lib.bar.search.setText("fox")
    lib.bar.apply_search()
    assert time.perf_counter() - started < 0.5
    foxes = sum(1 for i in range(TOTAL) if subject_of(i) == "a red fox")
    assert lib.count() == f"{foxes:,} of 10,000"

    QTest.keyClick(lib.bar.search, Qt.Key.Key_Escape)  # Esc clears the search
    assert lib.bar.search.text() == ""
    assert lib.count() == "10,000 jobs" and lib.rows() == all_rows


def test_a_group_shows_when_any_of_its_jobs_matches_and_only_those_jobs_under_it(qtbot: Any, open_library: Any) -> None:
    now = time.time()
    storyboard = [
        make_job(prompt="Scene 3: the ship sinks", group_id="board", created_at=now - 1),
        make_job(prompt="Scene 2: a storm at sea", group_id="board", created_at=now - 2),
        make_job(prompt="Scene 1: the ship leaves port", group_id="board", created_at=now - 3),
    ]
    lib: Library = open_library([*storyboard, make_job(prompt="A calm lake", created_at=now - 10)])
    lib.library.set_search("ship")
    assert lib.rows() == 1 and lib.library.group_at(0) is not None  # the whole set's row stays
    assert lib.count() == "2 of 4"
    lib.model.toggle_group("board")
    assert [lib.index(r).data(Qt.ItemDataRole.DisplayRole) for r in range(lib.rows())][1:] == [
        "Scene 1: the ship leaves port",
        "Scene 3: the ship sinks",
    ]
    lib.library.set_search("")
    assert lib.rows() == 5


# -- 4. status, favourites, model, date -----------------------------------------------------------------------
def test_status_favourite_model_and_date_filters(qtbot: Any, open_library: Any) -> None:
    now = time.time()
    day = 86400
    jobs = [
        make_job(JobState.GENERATING, "running now", created_at=now, server_id="g1", generating_since=now),
        make_job(JobState.COMPLETED, "done today", created_at=now - 60, favourite=True),
        make_job(JobState.FAILED, "failed 3 days ago", created_at=now - 3 * day, error="refused"),
        make_job(JobState.CANCELLED, "cancelled 3 days ago", created_at=now - 3 * day - 1),
        make_job(JobState.UNKNOWN, "unknown 20 days ago", created_at=now - 20 * day),
        make_job(JobState.STALLED, "stalled 20 days ago", created_at=now - 20 * day - 1, server_id="g2"),
        make_job(JobState.COMPLETED, "done long ago", created_at=now - 60 * day, model=OTHER_MODEL, favourite=True),
    ]
    lib: Library = open_library(jobs)
    bar = lib.bar
    assert lib.count() == "7 jobs"

    def pick(combo: Any, label: str) -> None:
        index = combo.findText(label)
        assert index >= 0, label
        combo.setCurrentIndex(index)

    for label, expected in [
        ("Running", 1),
        ("Completed", 2),
        ("Failed or cancelled", 2),
        ("Unknown or stalled", 2),
        ("Any status", 7),
    ]:
        pick(bar.status_combo, label)
        assert lib.rows() == expected, label
    assert lib.count() == "7 jobs"

    bar.favourites_button.click()
    assert lib.count() == "2 of 7"
    assert {lib.library.job_at(r).request.prompt for r in range(lib.rows())} == {  # type: ignore[union-attr]
        "done today",
        "done long ago",
    }
    bar.favourites_button.click()

    for label, expected in [("Today", 2), ("Last 7 days", 4), ("Last 30 days", 6), ("Any date", 7)]:
        pick(bar.date_combo, label)
        assert lib.rows() == expected, label

    # The model filter shows up because two models are in the library.
    assert not bar.model_combo.isHidden()
    pick(bar.model_combo, "PixVerse v5.5 · image to video")  # a model of the catalogue is shown by its title
    assert lib.count() == "1 of 7" and lib.library.job_at(0).request.model == OTHER_MODEL  # type: ignore[union-attr]
    pick(bar.status_combo, "Running")
    assert lib.count() == "0 of 7" and lib.rows() == 0  # filters combine
    bar.clear()
    assert lib.count() == "7 jobs" and lib.rows() == 7

    # The proxy's own API does the same for callers without the bar.
    lib.library.set_status(StatusFilter.ATTENTION)
    assert lib.library.match_count() == 2
    lib.library.set_status({JobState.COMPLETED})
    lib.library.set_favourites_only(True)
    assert lib.library.match_count() == 2
    lib.library.set_date("last 7 days", now=now)
    assert lib.library.match_count() == 1 and lib.library.row_of(jobs[1].id) == 0
    assert lib.library.row_of(jobs[0].id) is None  # filtered out
    lib.library.clear()
    assert lib.library.match_count() == 7 and not lib.library.is_active()


def test_only_one_model_means_no_model_filter(qtbot: Any, open_library: Any) -> None:
    lib: Library = open_library([make_job(), make_job(created_at=time.time() - 5)])
    assert lib.bar.model_combo.isHidden()
    lib.model.upsert(make_job(model=OTHER_MODEL, created_at=time.time() + 1))
    qtbot.waitUntil(lambda: not lib.bar.model_combo.isHidden(), timeout=2000)
    assert lib.count() == "3 jobs"


# -- 5. painting 10,000 rows ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dark", [False, True])
def test_painting_10000_rows_with_groups_and_thumbnails(qtbot: Any, qloop: Any, open_library: Any, dark: bool) -> None:
    now = time.time()
    jobs = library_jobs(now)
    thumb = png_bytes((160, 90))
    for job in jobs[:40] + jobs[-40:]:
        job.thumbnail = thumb
    lib: Library = open_library(jobs)
    if dark:
        palette = QPalette(lib.view.palette())
        palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
        palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#262626"))
        palette.setColor(QPalette.ColorRole.Window, QColor("#202020"))
        palette.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
        lib.view.setPalette(palette)
    for group in ("set-0", "set-3", f"set-{GROUPS - 1}"):
        lib.model.toggle_group(group)
    qtbot.waitUntil(lambda: lib.index(0).data(ThumbnailRole) is not None, timeout=5000)  # the set's first picture
    bar = lib.view.verticalScrollBar()
    for value in (0, bar.maximum() // 3, bar.maximum() // 2, bar.maximum()):
        bar.setValue(value)
        image = lib.view.viewport().grab().toImage()
        assert not image.isNull() and image.width() > 0
    lib.bar.search.setText("lighthouse")
    lib.bar.apply_search()
    qtbot.waitUntil(lambda: bar.maximum() < TOTAL // 2 * JobDelegate.ROW_HEIGHT)  # the view laid out the matches
    bar.setValue(bar.maximum())
    assert not lib.view.viewport().grab().toImage().isNull()
    last = lib.view.indexAt(QPoint(20, lib.view.viewport().height() - 10))
    assert last.isValid() and last.row() == lib.rows() - 1
