"""Every job action, driven the way a person does (the Job menu, the context menu's actions, the queue's
shortcuts, Generate), in every state a job can be in, against the real window and the real simulator."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QPushButton

from pixdesk.config import database_path
from pixdesk.jobs.models import Job, JobState
from pixdesk.jobs.states import allowed_actions
from pixdesk.jobs.store import JobStore
from pixdesk.jobs.timing import RetryPolicy
from pixdesk.simulator import Simulator
from pixdesk.ui.main_window import MainWindow
from pixdesk.ui.queue_model import JobRole
from tests.conftest import SAMPLES, TEST_KEY, ScriptedPrompter
from tests.gui_helpers import drop_file, find
from tests.test_gui import rows

IMAGE = SAMPLES / "portrait.png"
ALL_STATES = [
    "waiting",
    "submitting",
    "queued",
    "generating",
    "downloading",
    "completed",
    "failed",
    "cancelled",
    "unknown",
    "stalled",
]
# The stall window gives up on a server that keeps failing after half a second (the default is minutes).
STALL_RETRY = RetryPolicy(base=0.05, ceiling=0.1, budget=0.5)


# -- building windows ----------------------------------------------------------------------------------
@pytest.fixture
def open_window(
    qtbot: Any, qloop: Any, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., MainWindow]]:
    """Build windows like conftest's `window` fixture, with the engine options a test needs; the test may
    close them itself (closing is what some tests are about). Whatever is still open is closed at the end."""
    from pixdesk.config import load_settings
    from pixdesk.runtime import Runtime
    from tests.helpers import FAST_POLL, FAST_RETRY

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    made: list[tuple[MainWindow, Runtime]] = []

    def make(**engine_options: Any) -> MainWindow:
        options = {"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY, **engine_options}
        runtime = Runtime(load_settings())
        win = MainWindow(runtime, engine_options=options)
        win.show()
        win.controller.prompter = ScriptedPrompter()  # type: ignore[assignment]
        qtbot.waitUntil(win.is_ready)
        made.append((win, runtime))
        return win

    yield make
    for win, runtime in made:
        prompter = prompter_of(win)
        prompter.fail_on_unexpected = False
        prompter.default = True
        if not win.is_closed():
            win.close()
        qtbot.waitUntil(win.is_closed, timeout=15000)
        win.deleteLater()
        runtime.close()


def prompter_of(win: MainWindow) -> ScriptedPrompter:
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    return prompter


# -- driving the window --------------------------------------------------------------------------------
def fill_form(qtbot: Any, win: MainWindow, image: Path, prompt: str) -> None:
    """Drop the image (waiting until the drop zone has checked it) and type the prompt. A check still
    running when the window closes touches deleted widgets: see the report on drop_zone.py."""
    with qtbot.waitSignal(win.inputs.drop.image_changed, timeout=10000):
        assert drop_file(find(win, "imageDrop"), image)
    edit = find(win, "promptEdit")
    edit.setPlainText("")  # type: ignore[attr-defined]
    qtbot.keyClicks(edit, prompt)


def reuse_with_keyboard(qtbot: Any, win: MainWindow) -> None:
    """Ctrl+R on the list; returns once the form holds the job's image again."""
    with qtbot.waitSignal(win.inputs.drop.image_changed, timeout=10000):
        key(qtbot, win, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)


def click_generate(qtbot: Any, win: MainWindow) -> None:
    button = find(win, "generateButton")
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def submit(qtbot: Any, win: MainWindow, prompt: str) -> str:
    """Fill the form, click Generate, return the new job's id."""
    before = {j.id for j in win.model.jobs()}
    fill_form(qtbot, win, IMAGE, prompt)
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: len(win.model.jobs()) == len(before) + 1, timeout=10000)
    (job,) = [j for j in win.model.jobs() if j.id not in before]
    return job.id


def row_of(win: MainWindow, job_id: str) -> int:
    row = win.model.row_of(job_id)
    assert row is not None, "the job is not in the list"
    return row


def state_of(win: MainWindow, job_id: str) -> str:
    row = win.model.row_of(job_id)
    return "" if row is None else str(rows(win)[row]).split(":")[0]


def wait_state(qtbot: Any, win: MainWindow, job_id: str, state: str, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: state_of(win, job_id) == state, timeout=timeout)


def job(win: MainWindow, job_id: str) -> Job:
    found = win.model.index(row_of(win, job_id)).data(JobRole)
    assert isinstance(found, Job)
    return found


def select(qtbot: Any, win: MainWindow, job_id: str) -> None:
    """Click the job's row, and give the list the keyboard focus (as the click does on a desktop)."""
    index = win.library.index_of(job_id)  # the view shows the library's rows
    win.queue.scrollTo(index)
    qtbot.mouseClick(win.queue.viewport(), Qt.MouseButton.LeftButton, pos=win.queue.visualRect(index).center())
    win.activateWindow()
    win.queue.setFocus()
    qtbot.waitUntil(lambda: win.selected_job() is not None and win.selected_job().id == job_id)  # type: ignore[union-attr]


def job_menu(win: MainWindow) -> QMenu:
    for action in win.menuBar().actions():
        if action.text().replace("&", "") == "Job":
            menu = action.menu()
            assert isinstance(menu, QMenu)
            return menu
    raise AssertionError("no Job menu")


def offered(win: MainWindow) -> set[str]:
    """What the Job menu offers as it opens (the names of its enabled actions)."""
    menu = job_menu(win)
    menu.aboutToShow.emit()
    in_menu = {a for a in menu.actions() if not a.isSeparator()}
    return {name for name, action in win.job_actions.items() if action in in_menu and action.isEnabled()}


def choose(win: MainWindow, name: str) -> None:
    """Pick an entry of the Job menu for the selected row."""
    menu = job_menu(win)
    menu.aboutToShow.emit()
    action = win.job_actions[name]
    assert action.isEnabled(), f"{name} is not offered"
    action.trigger()


def key(qtbot: Any, win: MainWindow, key: Qt.Key, modifier: Qt.KeyboardModifier) -> None:
    qtbot.keyClick(win.queue, key, modifier)


def status_text(win: MainWindow) -> str:
    return win.statusBar().currentMessage()


def stored(job_id: str) -> Job | None:
    store = JobStore(database_path())
    try:
        return store.get(job_id)
    finally:
        store.close()


# -- putting a job in each state -----------------------------------------------------------------------
def make_state(qtbot: Any, win: MainWindow, sim: Simulator, state: str) -> str:
    """Bring one job into `state` through what a person and the server do; returns its id."""
    if state == "waiting":
        win.engine.max_in_flight = 1
        sim.queue_seconds = 120
        first = submit(qtbot, win, "the first one keeps the only slot")
        wait_state(qtbot, win, first, "queued")
        job_id = submit(qtbot, win, "waiting for a slot")
    elif state == "submitting":
        sim.inject("hang", "create", seconds=3)
        job_id = submit(qtbot, win, "the server is slow to answer")
    elif state == "queued":
        sim.queue_seconds = 120
        job_id = submit(qtbot, win, "queued at the server")
    elif state == "generating":
        sim.queue_seconds, sim.generate_seconds = 0, 120
        job_id = submit(qtbot, win, "generating at the server")
    elif state == "downloading":
        sim.queue_seconds, sim.generate_seconds = 0, 0
        sim.inject("drip", "download", seconds=0.2)
        job_id = submit(qtbot, win, "downloading slowly")
    elif state == "completed":
        sim.queue_seconds, sim.generate_seconds = 0, 0
        job_id = submit(qtbot, win, "a finished clip")
    elif state == "failed":
        sim.fail_generations = 1
        job_id = submit(qtbot, win, "this one fails")
    elif state == "cancelled":
        sim.queue_seconds = 120
        job_id = submit(qtbot, win, "stopped watching")
        wait_state(qtbot, win, job_id, "queued")
        select(qtbot, win, job_id)
        prompter_of(win).answers.append(True)
        choose(win, "cancel")
    elif state == "unknown":
        sim.inject("drop_after_accept", "create")
        job_id = submit(qtbot, win, "the answer was lost")
    elif state == "stalled":
        sim.inject("status", "poll", count=100000, status=500)
        job_id = submit(qtbot, win, "lost contact")
    else:
        raise AssertionError(state)
    wait_state(qtbot, win, job_id, state, timeout=30000)
    select(qtbot, win, job_id)
    return job_id


def window_for(request: pytest.FixtureRequest, state: str) -> MainWindow:
    if state == "stalled":
        make: Callable[..., MainWindow] = request.getfixturevalue("open_window")
        return make(retry_policy=STALL_RETRY)
    win: MainWindow = request.getfixturevalue("window")
    return win


# -- 1. what each state offers, and the actions that are always there ----------------------------------
@pytest.mark.parametrize("state", ALL_STATES)
def test_the_job_menu_offers_what_the_state_table_allows(
    qtbot: Any, request: pytest.FixtureRequest, sim: Simulator, state: str
) -> None:
    win = window_for(request, state)
    job_id = make_state(qtbot, win, sim, state)
    current = job(win, job_id)
    assert current.state.value == state
    assert offered(win) == {a.value for a in allowed_actions(current)}

    # Copy prompt (Ctrl+C on the list) and Reuse settings (Ctrl+R) work in every state.
    QGuiApplication.clipboard().clear()
    key(qtbot, win, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() == current.request.prompt)
    assert status_text(win) == "Prompt copied"
    find(win, "promptEdit").setPlainText("something else entirely")  # type: ignore[attr-defined]
    reuse_with_keyboard(qtbot, win)
    assert win.inputs.prompt.text() == current.request.prompt
    assert win.inputs.drop.source == str(IMAGE)
    assert win.inputs.request() == current.request


def test_the_context_menu_offers_the_same_actions(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "failed")
    shown: list[set[str]] = []

    def read_and_close_the_menu() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        shown.append({a.objectName().removeprefix("jobAction_") for a in menu.actions() if a.isEnabled() and a.text()})
        menu.close()

    QTimer.singleShot(50, read_and_close_the_menu)
    pos = window.queue.visualRect(window.library.index_of(job_id)).center()
    window.queue.customContextMenuRequested.emit(pos)  # what a right-click on the row sends
    assert shown == [{a.value for a in allowed_actions(job(window, job_id))}]


# -- play, save, open folder ---------------------------------------------------------------------------
def test_play_shows_the_clip_in_the_player(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    window.player_panel.clear()
    choose(window, "play")
    path = job(window, job_id).file_path
    assert path and Path(path).is_file()
    assert window.player_panel.player.source().toLocalFile() == path


def test_save_as_writes_the_clip(
    qtbot: Any, window: MainWindow, sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    target = tmp_path / "out" / "my clip"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "MP4 video (*.mp4)"))
    choose(window, "save")
    saved = target.with_suffix(".mp4")
    qtbot.waitUntil(lambda: "Saved to" in status_text(window), timeout=10000)
    source = job(window, job_id).file_path
    assert source is not None
    assert saved.read_bytes() == Path(source).read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["my clip.mp4"]


@pytest.mark.parametrize("where", ["read-only folder", "a file in the way"])
def test_save_to_an_unwritable_folder_warns_and_leaves_nothing(
    qtbot: Any, window: MainWindow, sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "read-only folder" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    job_id = make_state(qtbot, window, sim, "completed")
    folder = tmp_path / "locked"
    folder.mkdir()
    target = folder / "clip.mp4"
    if where == "a file in the way":
        (folder / "sub").write_text("a file, not a folder")
        target = folder / "sub" / "clip.mp4"
    folder.chmod(0o500)
    try:
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "MP4 video (*.mp4)"))
        choose(window, "save")
        prompter = prompter_of(window)
        qtbot.waitUntil(lambda: bool(prompter.warnings), timeout=10000)
        (_title, text), *more = prompter.warnings
        assert not more
        library_copy = job(window, job_id).file_path
        assert library_copy is not None and library_copy in text and str(target) in text
        assert sorted(p.name for p in folder.iterdir()) == ([] if where == "read-only folder" else ["sub"])
        assert Path(library_copy).is_file()
        assert "Saved" not in status_text(window)
    finally:
        folder.chmod(0o700)


def test_open_folder_opens_the_library_folder(
    qtbot: Any, window: MainWindow, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    opened: list[QUrl] = []

    def record(url: QUrl) -> bool:
        opened.append(url)
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", record)
    choose(window, "folder")
    path = job(window, job_id).file_path
    assert path is not None
    assert [u.toLocalFile() for u in opened] == [str(Path(path).parent)]


# -- retry ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("state", ["completed", "failed", "cancelled"])
def test_retry_makes_a_new_job_without_asking(qtbot: Any, window: MainWindow, sim: Simulator, state: str) -> None:
    job_id = make_state(qtbot, window, sim, state)
    sent = sim.create_requests
    sim.queue_seconds, sim.generate_seconds = 0, 0
    choose(window, "retry")
    qtbot.waitUntil(lambda: len(window.model.jobs()) == 2, timeout=10000)
    (new,) = [j for j in window.model.jobs() if j.id != job_id]
    assert new.request == job(window, job_id).request
    wait_state(qtbot, window, new.id, "completed")
    assert sim.create_requests == sent + 1
    questions = [title for title, _ in prompter_of(window).asked]
    assert questions == (["Stop this job?"] if state == "cancelled" else [])  # only the cancel that made it


def test_retry_of_an_unknown_job_asks_first(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "unknown")
    sent = sim.create_requests
    prompter = prompter_of(window)
    prompter.answers.append(False)
    choose(window, "retry")
    assert len(prompter.asked) == 1 and "paying twice" in prompter.asked[0][1]
    assert [j.id for j in window.model.jobs()] == [job_id]
    assert sim.create_requests == sent

    prompter.answers.append(True)
    choose(window, "retry")
    qtbot.waitUntil(lambda: len(window.model.jobs()) == 2, timeout=10000)
    (new,) = [j for j in window.model.jobs() if j.id != job_id]
    wait_state(qtbot, window, new.id, "completed")
    assert sim.create_requests == sent + 1
    assert state_of(window, job_id) == "unknown"


# -- resume --------------------------------------------------------------------------------------------
def test_resume_a_stalled_job_goes_on_to_completed(qtbot: Any, open_window: Any, sim: Simulator) -> None:
    win = open_window(retry_policy=STALL_RETRY)
    job_id = make_state(qtbot, win, sim, "stalled")
    assert "Lost contact" in rows(win)[row_of(win, job_id)]
    sim.faults.clear()
    sim.queue_seconds, sim.generate_seconds = 0, 0
    sent = sim.create_requests
    choose(win, "resume")
    wait_state(qtbot, win, job_id, "completed")
    assert sim.create_requests == sent  # watched again, never sent again
    saved = stored(job_id)
    assert saved is not None and saved.state is JobState.COMPLETED and saved.file_path
    assert Path(saved.file_path).is_file()


def test_resume_a_job_stopped_at_the_server_goes_on_to_completed(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    job_id = make_state(qtbot, window, sim, "cancelled")
    gen = sim.generations[job(window, job_id).server_id or ""]
    gen.queue_seconds = gen.generate_seconds = 0
    sent = sim.create_requests
    choose(window, "resume")
    wait_state(qtbot, window, job_id, "completed")
    assert sim.create_requests == sent


# -- cancel --------------------------------------------------------------------------------------------
def test_cancel_a_never_sent_job_asks_nothing_and_sends_nothing(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "waiting")
    choose(window, "cancel")
    wait_state(qtbot, window, job_id, "cancelled")
    assert prompter_of(window).asked == []
    assert job(window, job_id).server_id is None
    assert sim.create_requests == 1  # only the first job's
    assert "resume" not in offered(window) and "retry" in offered(window)
    saved = stored(job_id)
    assert saved is not None and saved.state is JobState.CANCELLED


@pytest.mark.parametrize("state", ["submitting", "queued", "generating", "downloading", "stalled"])
def test_cancel_a_job_the_server_has_asks_first(
    qtbot: Any, request: pytest.FixtureRequest, sim: Simulator, state: str
) -> None:
    win = window_for(request, state)
    job_id = make_state(qtbot, win, sim, state)
    prompter = prompter_of(win)
    prompter.answers.append(False)
    choose(win, "cancel")
    assert len(prompter.asked) == 1 and "may still finish" in prompter.asked[0][1]
    assert state_of(win, job_id) in (state, "queued", "generating", "downloading", "completed")
    if state != "stalled":
        assert win.engine.is_running(job_id)

    prompter.answers.append(True)
    choose(win, "cancel")
    wait_state(qtbot, win, job_id, "cancelled", timeout=15000)
    text = rows(win)[row_of(win, job_id)]
    assert job(win, job_id).server_id is not None
    assert "may still finish" in (job(win, job_id).error or ""), text
    assert sim.create_requests == 1


# -- 2. remove a running or never-sent job --------------------------------------------------------------
@pytest.mark.parametrize("state", ["queued", "generating", "submitting", "downloading"])
def test_remove_a_running_job_asks_and_it_never_comes_back(
    qtbot: Any, window: MainWindow, sim: Simulator, state: str
) -> None:
    job_id = make_state(qtbot, window, sim, state)
    prompter = prompter_of(window)
    prompter.answers.append(False)
    key(qtbot, window, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
    assert len(prompter.asked) == 1 and "may still finish" in prompter.asked[0][1]
    assert window.model.row_of(job_id) is not None

    prompter.answers.append(True)
    key(qtbot, window, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
    assert window.model.row_of(job_id) is None
    qtbot.waitUntil(lambda: "Removed" in status_text(window), timeout=15000)
    assert not window.engine.is_running(job_id)
    # Let the simulator finish it: the window hears nothing more of it.
    sim.queue_seconds = sim.generate_seconds = 0
    sim.faults.clear()
    qtbot.waitUntil(lambda: window.engine.running_count() == 0)
    assert window.model.row_of(job_id) is None and rows(window) == []
    assert stored(job_id) is None
    assert window.running_label.text() == "Idle"


def test_remove_a_waiting_job_asks_nothing_and_sends_nothing(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "waiting")
    key(qtbot, window, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
    assert window.model.row_of(job_id) is None
    qtbot.waitUntil(lambda: "Removed" in status_text(window), timeout=15000)
    assert prompter_of(window).asked == []
    window.engine.max_in_flight = 4  # the slot it waited for is free now: still nothing is sent
    (first,) = window.model.jobs()
    select(qtbot, window, first.id)
    prompter_of(window).answers.append(True)
    choose(window, "cancel")
    wait_state(qtbot, window, first.id, "cancelled")
    assert sim.create_requests == 1
    assert stored(job_id) is None


@pytest.mark.parametrize("state", ["failed", "cancelled", "unknown"])
def test_remove_a_finished_job_without_a_file(qtbot: Any, window: MainWindow, sim: Simulator, state: str) -> None:
    job_id = make_state(qtbot, window, sim, state)
    choose(window, "remove")
    assert window.model.row_of(job_id) is None
    qtbot.waitUntil(lambda: stored(job_id) is None, timeout=10000)
    # Undo is offered once the removal is done (Edit → Undo remove enabled), not the instant the row is deleted.
    qtbot.waitUntil(window.controller.undo_action.isEnabled, timeout=10000)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_state(qtbot, window, job_id, state)
    saved = stored(job_id)
    assert saved is not None and saved.state.value == state


def test_remove_and_undo_a_stalled_job(qtbot: Any, open_window: Any, sim: Simulator) -> None:
    win = open_window(retry_policy=STALL_RETRY)
    job_id = make_state(qtbot, win, sim, "stalled")
    prompter_of(win).answers.append(True)
    choose(win, "remove")
    assert len(prompter_of(win).asked) == 1
    qtbot.waitUntil(lambda: stored(job_id) is None, timeout=10000)
    qtbot.waitUntil(win.controller.undo_action.isEnabled, timeout=10000)
    win.controller.undo_action.trigger()
    wait_state(qtbot, win, job_id, "stalled")


# -- 3. remove a finished job, its files, undo -----------------------------------------------------------
def files_of(path: str | None) -> tuple[Path, Path]:
    assert path is not None
    video = Path(path)
    return video, video.with_suffix(".json")


def test_remove_a_finished_job_with_its_files_and_undo(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    video, sidecar = files_of(job(window, job_id).file_path)
    assert video.is_file() and sidecar.is_file()
    content = video.read_bytes()
    session_spend = window.credits_label.text()
    prompter = prompter_of(window)
    prompter.answers.append((True, True))
    key(qtbot, window, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
    assert len(prompter.asked) == 1 and "undo" in prompter.asked[0][1]
    assert window.model.row_of(job_id) is None
    assert window.player_panel.current_file is None
    qtbot.waitUntil(lambda: "Removed" in status_text(window), timeout=10000)
    assert not video.exists() and not sidecar.exists()
    assert stored(job_id) is None
    assert window.controller.undo_action.isEnabled()

    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_state(qtbot, window, job_id, "completed")
    qtbot.waitUntil(lambda: "Restored" in status_text(window))
    assert video.read_bytes() == content and sidecar.is_file()
    saved = stored(job_id)
    assert saved is not None and saved.state is JobState.COMPLETED and saved.file_path == str(video)
    assert not window.controller.undo_action.isEnabled()
    assert window.credits_label.text() == session_spend  # a row coming back is not a second charge


def test_remove_a_finished_job_keeping_its_files(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    video, sidecar = files_of(job(window, job_id).file_path)
    prompter_of(window).answers.append((True, False))
    choose(window, "remove")
    qtbot.waitUntil(lambda: "Removed" in status_text(window), timeout=10000)
    assert window.model.row_of(job_id) is None and stored(job_id) is None
    assert video.is_file() and sidecar.is_file()


def test_declining_the_removal_of_a_finished_job_keeps_everything(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    video, sidecar = files_of(job(window, job_id).file_path)
    prompter_of(window).answers.append((False, True))
    choose(window, "remove")
    assert window.model.row_of(job_id) is not None and stored(job_id) is not None
    assert video.is_file() and sidecar.is_file()
    assert not window.controller.undo_action.isEnabled()


def test_undo_several_removals_in_reverse_order_and_the_trash_is_emptied_on_close(
    qtbot: Any, open_window: Any, sim: Simulator
) -> None:
    win = open_window()
    sim.queue_seconds, sim.generate_seconds = 0, 0
    ids = []
    for prompt in ("one", "two", "three"):
        job_id = submit(qtbot, win, f"clip {prompt}")
        wait_state(qtbot, win, job_id, "completed")
        ids.append(job_id)
    files = {i: files_of(job(win, i).file_path) for i in ids}
    prompter = prompter_of(win)
    for i, job_id in enumerate(ids):
        select(qtbot, win, job_id)
        prompter.answers.append((True, True))
        key(qtbot, win, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
        qtbot.waitUntil(lambda n=i: len(win.controller.removals) == n + 1, timeout=10000)
    assert rows(win) == []
    assert not any(p.exists() for pair in files.values() for p in pair)
    trash = win.runtime.library.session  # where this window's deleted files wait for an undo
    assert trash.is_dir()

    win.controller.undo_action.trigger()
    qtbot.waitUntil(lambda: win.model.row_of(ids[2]) is not None)
    assert [j.id for j in win.model.jobs()] == [ids[2]]
    assert all(p.is_file() for p in files[ids[2]])
    win.controller.undo_action.trigger()
    qtbot.waitUntil(lambda: win.model.row_of(ids[1]) is not None)
    assert {j.id for j in win.model.jobs()} == {ids[1], ids[2]}
    assert all(p.is_file() for p in files[ids[1]]) and not files[ids[0]][0].exists()

    win.close()  # nothing is running: no question
    qtbot.waitUntil(win.is_closed, timeout=15000)
    assert [title for title, _ in prompter.asked] == ["Remove this job?"] * 3
    assert not trash.exists() or not any(trash.iterdir())
    assert not any(p.exists() for p in files[ids[0]])
    assert all(p.is_file() for i in ids[1:] for p in files[i])
    assert stored(ids[0]) is None and stored(ids[1]) is not None


# -- 4. closing with work in progress -------------------------------------------------------------------
def test_closing_names_the_running_jobs_and_can_be_declined(qtbot: Any, open_window: Any, sim: Simulator) -> None:
    win = open_window()
    # downloading (slowly)
    sim.queue_seconds, sim.generate_seconds = 0, 0
    sim.inject("drip", "download", seconds=0.2)
    downloading = submit(qtbot, win, "downloading")
    wait_state(qtbot, win, downloading, "downloading")
    # queued
    sim.queue_seconds = 120
    queued = submit(qtbot, win, "queued")
    wait_state(qtbot, win, queued, "queued")
    # submitting (the create answer is held)
    sim.inject("hang", "create", seconds=2)
    submitting = submit(qtbot, win, "submitting")
    wait_state(qtbot, win, submitting, "submitting")
    # waiting (no slot left)
    win.engine.max_in_flight = 2
    waiting = submit(qtbot, win, "waiting")
    wait_state(qtbot, win, waiting, "waiting")
    assert sim.create_requests == 3

    prompter = prompter_of(win)
    prompter.answers.append(False)
    win.close()
    assert len(prompter.asked) == 1
    _title, text = prompter.asked[0]
    # Three the server has (or is being sent); the fourth was never sent, and says so.
    assert "3 jobs are still running" in text and "1 job not sent yet waits here" in text
    assert win.isVisible() and not win.is_closed()
    assert win.engine.running_count() == 4
    assert all(win.engine.is_running(i) for i in (downloading, queued, submitting, waiting))

    prompter.answers.append(True)
    win.close()
    assert len(prompter.asked) == 2
    assert status_text(win) == "Finishing 1 submission…"
    qtbot.waitUntil(win.is_closed, timeout=15000)
    assert not win.isVisible()
    saved = {i: stored(i) for i in (downloading, queued, submitting, waiting)}
    assert all(j is not None for j in saved.values())
    after_submit = saved[submitting]
    assert after_submit is not None and after_submit.server_id and after_submit.state is JobState.QUEUED
    assert saved[waiting].state is JobState.WAITING and saved[waiting].server_id is None  # type: ignore[union-attr]
    assert sim.create_requests == 3


def test_closing_during_a_create_keeps_the_id_the_server_gives(qtbot: Any, open_window: Any, sim: Simulator) -> None:
    win = open_window()
    sim.queue_seconds = 120
    sim.inject("hang", "create", seconds=2)
    job_id = submit(qtbot, win, "closing while sending")
    wait_state(qtbot, win, job_id, "submitting")
    prompter_of(win).answers.append(True)
    win.close()
    assert "1 job is still running" in prompter_of(win).asked[0][1]
    assert status_text(win) == "Finishing 1 submission…"
    qtbot.waitUntil(win.is_closed, timeout=15000)
    saved = stored(job_id)
    assert saved is not None and saved.state is JobState.QUEUED
    assert saved.server_id is not None and saved.server_id in sim.generations
    assert sim.create_requests == 1


def test_closing_with_nothing_running_asks_nothing(qtbot: Any, open_window: Any, sim: Simulator) -> None:
    win = open_window()
    win.close()
    qtbot.waitUntil(win.is_closed, timeout=15000)
    assert prompter_of(win).asked == []


# -- 5. Generate pressed twice ------------------------------------------------------------------------------
@pytest.mark.parametrize("clicks", [2, 6])
def test_quick_clicks_on_an_unchanged_form_make_one_job(
    qtbot: Any, window: MainWindow, sim: Simulator, clicks: int
) -> None:
    sim.queue_seconds = 120
    fill_form(qtbot, window, IMAGE, "only once, please")
    button = find(window, "generateButton")
    assert isinstance(button, QPushButton)
    for _ in range(clicks):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.text() == "Added to queue"
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("queued"), timeout=10000)
    assert len(window.model.jobs()) == 1 and sim.create_requests == 1

    window.inputs.prompt.set_text("a different wish")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rows(window)) == 2 and rows(window)[0].startswith("queued"), timeout=10000)
    assert sim.create_requests == 2
    assert [j.request.prompt for j in window.model.jobs()] == ["a different wish", "only once, please"]


# -- 6. an exception in a slot ------------------------------------------------------------------------------
@pytest.mark.qt_no_exception_capture
@pytest.mark.allow_log(r"uncaught exception")
def test_an_exception_in_a_slot_is_a_short_notice_and_the_window_goes_on(
    qtbot: Any, window: MainWindow, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")

    def broken(_job: Job) -> None:
        raise RuntimeError("the copy slot broke")

    monkeypatch.setattr(window.controller, "copy_prompt", broken)
    key(qtbot, window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "the copy slot broke" in status_text(window))
    notice = status_text(window)
    assert "Traceback" not in notice and len(notice) <= 300
    assert window.isVisible() and not window.is_closed()

    # Still working: Reuse and Generate.
    window.inputs.prompt.set_text("")
    reuse_with_keyboard(qtbot, window)
    assert window.inputs.prompt.text() == "a finished clip"
    window.inputs.prompt.set_text("after the error")
    click_generate(qtbot, window)
    qtbot.waitUntil(lambda: len(rows(window)) == 2 and rows(window)[0].startswith("completed"), timeout=20000)
    assert window.model.row_of(job_id) == 1


# -- more of what a person runs into -------------------------------------------------------------------------
def test_undo_brings_back_a_removed_running_job_which_goes_on(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "queued")
    server_id = job(window, job_id).server_id
    prompter_of(window).answers.append(True)
    key(qtbot, window, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: "Removed" in status_text(window), timeout=15000)
    assert stored(job_id) is None
    gen = sim.generations[server_id or ""]
    gen.queue_seconds = gen.generate_seconds = 0
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.model.row_of(job_id) is not None)
    wait_state(qtbot, window, job_id, "completed")
    saved = stored(job_id)
    assert saved is not None and saved.state is JobState.COMPLETED and saved.server_id == server_id
    assert sim.create_requests == 1


def test_the_offered_actions_follow_the_selected_job_as_it_changes(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    """Shortcuts act on the enabled state of the actions without the menu being opened: it must stay current."""
    job_id = make_state(qtbot, window, sim, "queued")
    enabled = lambda: {n for n, a in window.job_actions.items() if a.isEnabled()}  # noqa: E731
    assert enabled() == {"copy", "reuse", "remove", "cancel"}
    gen = sim.generations[job(window, job_id).server_id or ""]
    gen.queue_seconds = gen.generate_seconds = 0
    wait_state(qtbot, window, job_id, "completed")
    assert enabled() == {a.value for a in allowed_actions(job(window, job_id))}
    assert "play" in enabled() and "cancel" not in enabled()


def test_the_lists_shortcuts_do_not_fire_while_typing_in_the_form(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    edit = find(window, "promptEdit")
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    QGuiApplication.clipboard().clear()
    edit.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClick(edit, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == edit.toPlainText()  # type: ignore[attr-defined]
    qtbot.keyClick(edit, Qt.Key.Key_End)
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    assert window.model.row_of(job_id) is not None
    assert prompter_of(window).asked == []


def test_right_clicks_do_not_pile_up_menus(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    job_id = make_state(qtbot, window, sim, "failed")
    pos = window.queue.visualRect(window.library.index_of(job_id)).center()

    def right_click() -> None:
        QTimer.singleShot(50, lambda: QApplication.activePopupWidget().close())  # type: ignore[union-attr]
        window.queue.customContextMenuRequested.emit(pos)

    right_click()
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None)
    before = len(window.findChildren(QMenu))
    for _ in range(3):
        right_click()
    qtbot.waitUntil(lambda: len(window.findChildren(QMenu)) <= before, timeout=3000)


def test_removing_a_downloading_job_leaves_no_file_in_the_library(
    qtbot: Any, window: MainWindow, sim: Simulator
) -> None:
    job_id = make_state(qtbot, window, sim, "downloading")
    library = window.runtime.library.folder
    prompter_of(window).answers.append(True)
    key(qtbot, window, Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier)
    qtbot.waitUntil(lambda: "Removed" in status_text(window), timeout=15000)
    qtbot.waitUntil(lambda: not [p for p in library.glob("*") if job_id[:8] in p.name], timeout=5000)


def test_six_clicks_spread_over_more_than_a_second_still_make_one_job(
    qtbot: Any, window: MainWindow, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An impatient person clicks about four times a second: each click is within a second of the one before."""
    from types import SimpleNamespace

    sim.queue_seconds = 120
    fill_form(qtbot, window, IMAGE, "patience")
    clock = SimpleNamespace(t=1000.0)
    monkeypatch.setattr("pixdesk.ui.controller.time", SimpleNamespace(monotonic=lambda: clock.t))
    button = find(window, "generateButton")
    for _ in range(6):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        clock.t += 0.25
    qtbot.waitUntil(lambda: bool(rows(window)) and rows(window)[0].startswith("queued"), timeout=10000)
    assert len(window.model.jobs()) == 1 and sim.create_requests == 1
    clock.t += 1.5  # a deliberate click later is a new wish
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(rows(window)) == 2, timeout=10000)


def test_save_as_when_the_library_copy_is_gone_says_so(
    qtbot: Any, window: MainWindow, sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = make_state(qtbot, window, sim, "completed")
    window.player_panel.release()
    library_copy = Path(job(window, job_id).file_path or "")
    library_copy.unlink()
    target = tmp_path / "clip.mp4"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "MP4 video (*.mp4)"))
    choose(window, "save")
    prompter = prompter_of(window)
    qtbot.waitUntil(lambda: bool(prompter.warnings) or "missing" in status_text(window), timeout=10000)
    said = " ".join(t for _, t in prompter.warnings) + status_text(window)
    assert "missing" in said and "safe in the library" not in said
    assert not target.exists()


def test_generate_right_after_reuse_sends_the_reused_image(qtbot: Any, window: MainWindow, sim: Simulator) -> None:
    sim.queue_seconds = sim.generate_seconds = 0
    first = submit(qtbot, window, "the portrait")
    wait_state(qtbot, window, first, "completed")
    fill_form(qtbot, window, SAMPLES / "sunset-mountains.jpg", "the mountains")
    select(qtbot, window, first)
    button = find(window, "generateButton")
    with qtbot.waitSignal(window.inputs.drop.image_changed, timeout=10000):
        key(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        if button.isEnabled():  # the person clicks at once
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.inputs.drop.source == str(IMAGE)
    qtbot.waitUntil(button.isEnabled)
    qtbot.waitUntil(lambda: all(j.state is JobState.COMPLETED for j in window.model.jobs()), timeout=20000)
    for j in window.model.jobs():
        assert (j.request.prompt, j.request.image) == ("the portrait", str(IMAGE))


def test_generate_waits_while_a_dropped_image_is_being_checked(qtbot, window: MainWindow, tmp_path: Path):
    """Dropping a second image and clicking at once must not send the first image with the new prompt."""
    from tests.conftest import make_image
    from tests.test_gui import fill

    fill(qtbot, window, SAMPLES / "portrait.png", "the second picture moves")
    other = make_image(tmp_path / "other.png", size=(3000, 2000))
    generate = find(window, "generateButton")
    assert isinstance(generate, QPushButton)
    assert drop_file(find(window, "imageDrop"), other)
    assert not generate.isEnabled()  # still checking the new image: the form holds the old one
    qtbot.mouseClick(generate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.inputs.drop.source == str(other))
    assert generate.isEnabled() and window.model.rowCount() == 0
    qtbot.mouseClick(generate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.jobs()[0].request.image == str(other)


def test_undoing_the_removal_of_a_job_from_history_does_not_count_as_new_spend(
    qtbot: Any, open_window: Any, sim: Simulator
) -> None:
    """A row that comes back by Undo was paid in an earlier session: the session's spend stays as it was."""
    from pixdesk.api.request import GenerationRequest

    earlier = Job(
        request=GenerationRequest(image=str(IMAGE), prompt="from yesterday"),
        state=JobState.COMPLETED,
        backend=sim.url,
        server_id="gen-yesterday",
        credits=840_000,
    )
    store = JobStore(database_path())
    assert store.save(earlier)
    store.close()
    win = open_window()
    qtbot.waitUntil(lambda: win.model.row_of(earlier.id) is not None)
    before = win.credits_label.text()
    win.queue.setCurrentIndex(win.library.index_of(earlier.id))
    choose(win, "remove")
    qtbot.waitUntil(lambda: stored(earlier.id) is None, timeout=10000)
    win.controller.undo_action.trigger()
    qtbot.waitUntil(lambda: "Restored" in status_text(win), timeout=10000)
    assert win.model.row_of(earlier.id) is not None
    assert win.credits_label.text() == before


def test_a_job_known_not_created_has_a_send_again_button_on_its_row(
    qtbot: Any, open_window: Any, sim: Simulator
) -> None:
    """Sending again is the person's explicit choice: a button on the row, nothing automatic."""
    from pixdesk.api.request import GenerationRequest
    from pixdesk.ui.queue_model import JobDelegate

    lost = Job(
        request=GenerationRequest(image=str(IMAGE), prompt="never arrived", resolution="360p"),
        state=JobState.NOT_CREATED,
        backend=sim.url,
        error="Not created: the usage logs show no trace of it. Safe to send again (Retry).",
    )
    store = JobStore(database_path())
    assert store.save(lost)
    store.close()
    win = open_window()
    qtbot.waitUntil(lambda: win.model.row_of(lost.id) is not None)
    assert sim.create_requests == 0  # nothing is resent by itself
    index = win.library.index_of(lost.id)
    button = JobDelegate.resend_rect(win.queue.visualRect(index), win.queue.font())
    qtbot.mouseClick(win.queue.viewport(), Qt.MouseButton.LeftButton, pos=button.center())
    qtbot.waitUntil(lambda: len(win.model.jobs()) == 2, timeout=10000)
    qtbot.waitUntil(lambda: sim.create_requests == 1, timeout=10000)
    new = next(j for j in win.model.jobs() if j.id != lost.id)
    assert new.request == lost.request and new.client_request_id != lost.client_request_id
