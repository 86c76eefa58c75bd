"""The queue as a desktop citizen (issue 10): finished clips drag out as files, rows speak their status,
cancelled rows are no errors and free jobs show no cost, save dialogs open where they should, and a folder
that cannot be opened says why in the window."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QRect, QStandardPaths, Qt, QUrl
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs.models import Job, JobState
from pixdesk.simulator import Simulator
from pixdesk.ui import theme
from pixdesk.ui.main_window import MainWindow
from pixdesk.ui.queue_model import JobDelegate, JobListModel, cost_text, details_text, tooltip_text
from tests.conftest import SAMPLES, ScriptedPrompter
from tests.test_gui_actions import choose, make_state, prompter_of, row_of, status_text, submit, wait_state
from tests.test_gui_actions import job as job_of

IMAGE = SAMPLES / "portrait.png"
LIVE = "https://api.example.test"  # any live backend ("demo" is the simulator's)
ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole
DESCRIPTION = Qt.ItemDataRole.AccessibleDescriptionRole
STOPPED = "PixDesk stopped watching this job; the server may still finish it and charge for it."


def make_job(state: JobState, prompt: str = "She waves hello", **fields: Any) -> Job:
    fields.setdefault("backend", LIVE)
    request = GenerationRequest(image=str(IMAGE), prompt=prompt, resolution="720p", duration=5)
    return Job(request=request, state=state, **fields)


def model_with(*jobs: Job) -> JobListModel:
    model = JobListModel()
    model.set_jobs(list(jobs))
    return model


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    path = tmp_path / "library" / "clip.mp4"
    path.parent.mkdir()
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42")  # what is inside does not matter to a drag
    return path


# -- 1. dragging a finished clip out -------------------------------------------------------------------------
def test_a_finished_clip_drags_out_as_its_file_url_and_only_as_a_copy(qapp: Any, clip: Path) -> None:
    done = make_job(JobState.COMPLETED, file_path=str(clip), server_id="gen-1")
    model = model_with(done)
    index = model.index(0)
    assert model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled
    assert "text/uri-list" in model.mimeTypes()
    assert model.supportedDragActions() == Qt.DropAction.CopyAction  # a file manager never moves it out
    mime = model.mimeData([index])
    assert isinstance(mime, QMimeData)
    assert mime.urls() == [QUrl.fromLocalFile(str(clip))]
    (url,) = mime.urls()
    assert url.isLocalFile() and Path(url.toLocalFile()).is_file() and url.toLocalFile().endswith(".mp4")
    assert mime.text() == str(clip)


def test_rows_without_a_finished_clip_on_disk_give_no_drag(qapp: Any, clip: Path, tmp_path: Path) -> None:
    rows = [
        make_job(JobState.GENERATING, server_id="gen-2", generating_since=time.time()),
        make_job(JobState.DOWNLOADING, server_id="gen-3", progress=0.4),
        make_job(JobState.FAILED, server_id="gen-4", error="refused"),
        make_job(JobState.CANCELLED),
        make_job(JobState.COMPLETED, server_id="gen-5", file_path=str(tmp_path / "gone.mp4")),  # deleted since
        make_job(JobState.COMPLETED, server_id="gen-6"),  # no file at all
    ]
    model = model_with(*rows)
    for row in range(model.rowCount()):
        index = model.index(row)
        assert not model.flags(index) & Qt.ItemFlag.ItemIsDragEnabled, rows[row].state
        assert model.flags(index) & Qt.ItemFlag.ItemIsSelectable
        assert model.mimeData([index]) is None


def press_and_drag(view_port: Any, start: QPoint) -> None:
    """A left-button press on a row and a move far enough to start a drag, as a person does."""
    QTest.mousePress(view_port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for dx in (4, 12, 24, 48):
        QTest.mouseMove(view_port, start + QPoint(dx, 0))
    QTest.mouseRelease(view_port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(48, 0))


def test_dragging_a_finished_row_in_the_window_starts_a_drag_of_its_clip(
    qtbot: Any, window: MainWindow, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real press-and-move on the queue starts Qt's drag with the model's data. Offscreen, QDrag.exec returns
    at once (there is no drop target to deliver to) and the QDrag is gone by the time the move returns, so what
    the drag carried is read from the model's answer to the view, not from the QDrag."""
    done_id = make_state(qtbot, window, sim, "completed")
    carried: list[QMimeData | None] = []
    answer = window.model.mimeData

    def spy(indexes: Sequence[QModelIndex]) -> QMimeData:
        data = answer(indexes)
        carried.append(data)
        return data

    monkeypatch.setattr(window.model, "mimeData", spy)
    index = window.library.index_of(done_id)
    window.queue.scrollTo(index)
    press_and_drag(window.queue.viewport(), window.queue.visualRect(index).center())
    assert len(carried) == 1 and carried[0] is not None
    path = job_of(window, done_id).file_path
    assert path is not None
    assert carried[0].urls() == [QUrl.fromLocalFile(path)]
    # Copy, never move: the clip and its row are still there after the drag.
    assert Path(path).is_file() and window.model.row_of(done_id) is not None

    # A row still running gives no drag at all.
    sim.queue_seconds, sim.generate_seconds = 0, 120
    running_id = submit(qtbot, window, "still generating")
    wait_state(qtbot, window, running_id, "generating")
    carried.clear()
    index = window.library.index_of(running_id)
    press_and_drag(window.queue.viewport(), window.queue.visualRect(index).center())
    assert carried == []


# -- 2. cancelled is no error; what cost nothing shows no cost ---------------------------------------------
def reddish_pixels(image: QImage) -> int:
    """Pixels clearly red (the error colour, or glyphs drawn in it)."""
    count = 0
    for y in range(image.height()):
        for x in range(image.width()):
            color = image.pixelColor(x, y)
            if color.red() - max(color.green(), color.blue()) > 80:
                count += 1
    return count


def paint_row(job: Job) -> QImage:
    """What the delegate paints for the job's row, unselected, in the application's (light) palette."""
    model = model_with(job)
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 560, JobDelegate.ROW_HEIGHT)
    option.palette = QApplication.palette()
    option.font = QApplication.font()
    option.state = QStyle.StateFlag.State_Enabled
    image = QImage(option.rect.size(), QImage.Format.Format_ARGB32)
    image.fill(option.palette.base().color())
    painter = QPainter(image)
    JobDelegate().paint(painter, option, model.index(0))
    painter.end()
    return image


def test_a_cancelled_row_is_not_painted_as_an_error(qapp: Any) -> None:
    assert not theme.is_dark(QApplication.palette())  # the red counted below is the light theme's
    failed = make_job(JobState.FAILED, server_id="gen-7", error="The content was refused by moderation.")
    cancelled = make_job(JobState.CANCELLED, server_id="gen-8", error=STOPPED)
    assert reddish_pixels(paint_row(failed)) > 20  # the failure's reason is drawn in red
    assert reddish_pixels(paint_row(cancelled)) == 0  # "the server may still finish it" is a note, not an error


@pytest.mark.parametrize("dark", [False, True])
def test_badge_and_reason_colours_per_state(qapp: Any, dark: bool) -> None:
    error = QColor(theme.ERROR_COLOR[dark])
    failed_badge, _ = theme.badge_colors(JobState.FAILED, dark)
    cancelled_badge, _ = theme.badge_colors(JobState.CANCELLED, dark)
    assert cancelled_badge != failed_badge and cancelled_badge != error
    assert cancelled_badge.hsvSaturation() < 30  # grey: neutral
    assert theme.reason_color(JobState.FAILED, dark) == error
    assert theme.reason_color(JobState.CANCELLED, dark) is None  # the row's ordinary muted text
    for state in (JobState.UNKNOWN, JobState.STALLED, JobState.NOT_CREATED):  # worth a look, not failures
        assert theme.reason_color(state, dark) == QColor(theme.NOTE_COLOR[dark])


def no_money(model: JobListModel, row: int) -> None:
    index = model.index(row)
    job = model.job_at(row)
    assert job is not None
    assert cost_text(job) == "", job.state
    assert "$" not in index.data(DESCRIPTION) and "$" not in index.data(ACCESSIBLE)
    assert "Cost" not in index.data(Qt.ItemDataRole.ToolTipRole) and "Credits" not in tooltip_text(job)


def test_jobs_that_cost_nothing_show_no_cost(qapp: Any) -> None:
    free = [
        make_job(JobState.COMPLETED, server_id="gen-9", charged_usd=0.0, credits=0),  # the ledger charged nothing
        make_job(JobState.COMPLETED, server_id="gen-10", usd_spent=0.0),  # the server reported nothing spent
        make_job(JobState.CANCELLED, server_id="gen-11", estimated_usd=0.0, error=STOPPED),  # a free model
        make_job(JobState.CANCELLED, estimated_usd=0.4),  # cancelled before it was ever sent
        make_job(JobState.FAILED, server_id="gen-12", estimated_usd=0.4, error="refused"),  # not charged
        make_job(JobState.NOT_CREATED, estimated_usd=0.4, error="Not created"),  # never became a generation
    ]
    model = model_with(*free)
    for row in range(model.rowCount()):
        no_money(model, row)


def test_jobs_that_cost_something_still_show_it_and_demo_says_demo(qapp: Any) -> None:
    charged = make_job(JobState.COMPLETED, server_id="gen-13", charged_usd=0.55, credits=1155)
    stopped = make_job(JobState.CANCELLED, server_id="gen-14", estimated_usd=0.4, error=STOPPED)  # may still charge
    demo = make_job(JobState.COMPLETED, backend="demo", server_id="gen-15", usd_spent=0.4)
    model = model_with(charged, stopped, demo)
    assert "charged $0.55" in model.index(0).data(DESCRIPTION) and "Credits: 1,155" in tooltip_text(charged)
    assert "estimated $0.40" in model.index(1).data(DESCRIPTION)
    assert cost_text(demo) == "demo" and "$" not in model.index(2).data(DESCRIPTION)


# -- 3. rows speak their status ------------------------------------------------------------------------------
def test_each_row_speaks_a_status_sentence_and_its_details(qapp: Any, clip: Path) -> None:
    now = time.time()
    jobs = [
        make_job(JobState.COMPLETED, server_id="g1", file_path=str(clip), charged_usd=0.55, created_at=now - 1),
        make_job(JobState.DOWNLOADING, server_id="g2", progress=0.4, created_at=now - 2),
        make_job(JobState.GENERATING, server_id="g3", generating_since=now - 65, created_at=now - 3),
        make_job(JobState.FAILED, server_id="g4", error="The content was refused by moderation.", created_at=now - 4),
        make_job(JobState.CANCELLED, server_id="g5", error=STOPPED, estimated_usd=0.4, created_at=now - 5),
        make_job(JobState.WAITING, created_at=now - 6),
    ]
    model = model_with(*jobs)
    said = [model.index(row).data(ACCESSIBLE) for row in range(model.rowCount())]
    assert said[0] == "completed: She waves hello — 720p, 5 s, saved to clip.mp4 · charged $0.55"
    assert said[1] == "downloading: She waves hello — 40% downloaded"
    assert re.fullmatch(r"generating: She waves hello — 1:0\d elapsed", said[2]), said[2]
    assert said[3] == "failed: She waves hello — The content was refused by moderation."
    assert said[4] == f"cancelled: She waves hello — {STOPPED} · estimated $0.40"
    assert said[5] == "waiting: She waves hello"
    for row, job in enumerate(jobs):
        description = model.index(row).data(DESCRIPTION)
        assert description == details_text(job) and description.startswith("720p · 5 s")


def test_a_long_prompt_is_shortened_for_the_screen_reader(qapp: Any) -> None:
    long = make_job(JobState.QUEUED, prompt="A cat walks " * 100 + "\nslowly", server_id="g6")
    model = model_with(long)  # kept: an index does not keep its model alive
    said = model.index(0).data(ACCESSIBLE)
    assert said.startswith("queued: A cat walks") and len(said) < 200 and "\n" not in said


def test_a_finished_job_in_the_window_says_where_its_clip_is(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    path = job_of(window, job_id).file_path
    assert path is not None
    said = window.model.index(row_of(window, job_id)).data(ACCESSIBLE)
    assert said.startswith("completed: a finished clip — ") and f"saved to {Path(path).name}" in said


# -- 4. where the save dialog opens -------------------------------------------------------------------------
def offered_folder(prompter: Any) -> Path:
    return Path(prompter.save_paths_offered[-1]).parent


def test_the_save_dialog_opens_in_videos_then_where_the_last_clip_was_saved(
    qtbot: Any, window: MainWindow, sim: Simulator, isolated_env: Path, tmp_path: Path
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    prompter = prompter_of(window)
    videos = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation))
    assert videos.parent == Path.home() == isolated_env and not videos.exists()

    # No Videos folder: home (a dialog opened in a missing folder lands somewhere arbitrary).
    prompter.answers.append("")  # Cancel
    choose(window, "save")
    assert prompter.asked[-1][0] == "Save video"
    assert offered_folder(prompter) == Path.home()
    assert Path(prompter.save_paths_offered[-1]).suffix == ".mp4"

    # The platform's Videos folder, once it exists.
    videos.mkdir()
    prompter.answers.append("")
    choose(window, "save")
    assert offered_folder(prompter) == videos

    # After a save, the next dialog starts where that clip went.
    out = tmp_path / "my clips"
    out.mkdir()
    prompter.answers.append(str(out / "waving"))
    choose(window, "save")
    qtbot.waitUntil(lambda: "Saved to" in status_text(window), timeout=10000)
    source = job_of(window, job_id).file_path
    assert source is not None and (out / "waving.mp4").read_bytes() == Path(source).read_bytes()
    prompter.answers.append("")
    choose(window, "save")
    assert offered_folder(prompter) == out

    # That folder gone: the save folder chosen in Settings, when there is one, comes before Videos.
    shutil.rmtree(out)
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    window.settings.save_folder = str(chosen)
    prompter.answers.append("")
    choose(window, "save")
    assert offered_folder(prompter) == chosen
    assert not prompter.warnings and prompter.answers == []


def test_an_unscripted_save_dialog_fails_the_test(qapp: Any) -> None:
    prompter = ScriptedPrompter()
    with pytest.raises(pytest.fail.Exception, match="unexpected question: Save video"):
        prompter.ask_save_path("Save video", "/somewhere/clip.mp4", "MP4 video (*.mp4)")
    assert prompter.asked == [("Save video", "/somewhere/clip.mp4")]
    prompter.answers.append("/elsewhere/mine.mp4")
    assert prompter.ask_save_path("Save video", "/somewhere/clip.mp4", "MP4 video (*.mp4)") == "/elsewhere/mine.mp4"


# -- 5. opening the containing folder ----------------------------------------------------------------------
def desktop_opening(asked: list[QUrl], opens: bool) -> Callable[[QUrl], bool]:
    """Stands in for the desktop (the controller's public `open_url` seam): records each URL handed to it and
    says whether a program took it."""

    def open_url(url: QUrl) -> bool:
        asked.append(url)
        return opens

    return open_url


def test_open_folder_that_no_file_manager_can_open_says_why_in_the_window(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    asked: list[QUrl] = []
    window.controller.open_url = desktop_opening(asked, opens=False)  # no file manager
    window.statusBar().clearMessage()
    choose(window, "folder")
    path = job_of(window, job_id).file_path
    assert path is not None
    folder = str(Path(path).parent)
    assert [u.toLocalFile() for u in asked] == [folder]
    assert status_text(window) == f"Could not open the folder {folder}: no file manager is set up to open folders."


def test_open_folder_that_was_moved_away_says_so(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    path = job_of(window, job_id).file_path
    assert path is not None
    folder = Path(path).parent
    asked: list[QUrl] = []
    window.controller.open_url = lambda url: asked.append(url) or True
    window.player_panel.clear()  # the player lets go of the clip before its folder goes
    folder.rename(folder.with_name(folder.name + "-moved"))
    window.statusBar().clearMessage()
    choose(window, "folder")
    assert asked == []  # nothing is handed to the desktop for a folder that is not there
    assert status_text(window) == f"Could not open the folder {folder}: it was moved or deleted."


def test_open_folder_hands_the_folder_to_the_desktop(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    asked: list[QUrl] = []
    window.controller.open_url = desktop_opening(asked, opens=True)
    window.statusBar().clearMessage()
    choose(window, "folder")
    path = job_of(window, job_id).file_path
    assert path is not None
    assert [u.toLocalFile() for u in asked] == [str(Path(path).parent)]
    assert "Could not" not in status_text(window)
