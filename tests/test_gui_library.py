"""Iterating in volume, in the real window against the real simulator: variations and batches make groups, the
queue pauses and resumes, a group is cancelled, favourites persist and filter, two clips are compared, the library
is searched, and the form (with its recent prompts) comes back after a restart."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from pixdesk.jobs.models import Job, JobState
from pixdesk.simulator import Simulator
from pixdesk.ui.main_window import MainWindow
from pixdesk.ui.queue_model import JobDelegate
from tests.conftest import SAMPLES, ScriptedPrompter, WindowMaker, close  # `windows`: in conftest
from tests.gui_helpers import drop_mime, find
from tests.test_gui_actions import IMAGE, click_generate, fill_form, job_menu, stored


def widget(win: MainWindow, name: str, kind: type[QWidget]) -> Any:
    found = find(win, name)
    assert isinstance(found, kind)
    return found


def set_variations(win: MainWindow, n: int) -> None:
    spin = widget(win, "variationsSpin", QSpinBox)
    spin.setValue(n)


def jobs_of(win: MainWindow) -> list[Job]:
    return win.model.jobs()


def wait_all(qtbot: Any, win: MainWindow, count: int, state: JobState, timeout: int = 30000) -> list[Job]:
    qtbot.waitUntil(lambda: sum(1 for j in jobs_of(win) if j.state is state) == count, timeout=timeout)
    return [j for j in jobs_of(win) if j.state is state]


def one_finished(qtbot: Any, win: MainWindow, prompt: str) -> Job:
    """One job from the form, waited for until it has completed."""
    fill_form(qtbot, win, IMAGE, prompt)
    click_generate(qtbot, win)
    (job,) = wait_all(qtbot, win, 1, JobState.COMPLETED)
    return job


def shown_rows(win: MainWindow) -> int:
    return win.queue.model().rowCount()


def click_row(qtbot: Any, win: MainWindow, job_id: str, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier):  # type: ignore[no-untyped-def]
    index = win.library.index_of(job_id)
    assert index.isValid()
    win.queue.scrollTo(index)
    qtbot.mouseClick(win.queue.viewport(), Qt.MouseButton.LeftButton, modifier, win.queue.visualRect(index).center())


def test_variations_make_n_jobs_with_consecutive_seeds_as_one_group(qtbot: Any, windows: WindowMaker, sim: Simulator):
    win = windows()
    fill_form(qtbot, win, IMAGE, "A lighthouse at dawn")
    widget(win, "seedEdit", QLineEdit).setText("100")
    set_variations(win, 3)
    assert widget(win, "generateButton", QPushButton).text() == "Generate 3"
    click_generate(qtbot, win)
    done = wait_all(qtbot, win, 3, JobState.COMPLETED)
    assert sorted(j.request.seed for j in done) == [100, 101, 102]  # type: ignore[type-var]
    assert len({j.group_id for j in done}) == 1 and done[0].group_id is not None
    assert sim.create_requests == 3
    assert shown_rows(win) == 1  # one group row in the list
    summary = win.library.group_at(0)
    assert summary is not None and summary.summary_text().startswith("Group of 3 · 3 of 3 done")


def test_a_batch_drop_of_three_images_makes_three_jobs(
    qtbot: Any, windows: WindowMaker, sim: Simulator, tmp_path: Path
):
    win = windows()
    images = []
    for name in ("portrait.png", "sunset-mountains.jpg", "robot-transparent.png"):
        images.append(tmp_path / name)
        shutil.copy(SAMPLES / name, images[-1])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in images])
    assert drop_mime(find(win, "imageDrop"), mime)
    qtbot.waitUntil(lambda: win.inputs.set_size() == 3, timeout=10000)
    qtbot.keyClicks(find(win, "promptEdit"), "Same settings, three pictures")
    qtbot.waitUntil(lambda: widget(win, "generateButton", QPushButton).isEnabled(), timeout=10000)
    click_generate(qtbot, win)
    done = wait_all(qtbot, win, 3, JobState.COMPLETED)
    assert sorted(Path(j.request.image).name for j in done) == sorted(p.name for p in images)
    assert len({j.group_id for j in done}) == 1
    assert sim.create_requests == 3


def test_pause_holds_new_jobs_resume_sends_them_and_a_restart_stays_paused(
    qtbot: Any, windows: WindowMaker, sim: Simulator
):
    win = windows()
    pause = widget(win, "pauseQueueButton", QPushButton)
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    assert pause.text() == "Resume queue" and win.pause_action.isChecked()
    assert "queue paused" in widget(win, "runningLabel", QLabel).text()
    fill_form(qtbot, win, IMAGE, "Held while paused")
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: any(j.detail == "Queue paused" for j in jobs_of(win)), timeout=10000)
    assert sim.create_requests == 0 and jobs_of(win)[0].state is JobState.WAITING

    close(qtbot, win)  # paused when closed ...
    win = windows()
    assert widget(win, "pauseQueueButton", QPushButton).text() == "Resume queue"  # ... still paused after a restart
    assert win.windowTitle() == "PixDesk (1 waiting)"  # held here, not running: nothing was sent
    assert sim.create_requests == 0
    qtbot.mouseClick(widget(win, "pauseQueueButton", QPushButton), Qt.MouseButton.LeftButton)
    wait_all(qtbot, win, 1, JobState.COMPLETED)
    assert sim.create_requests == 1


def test_cancel_the_whole_group_from_its_row(qtbot: Any, windows: WindowMaker, sim: Simulator):
    win = windows()
    sim.queue_seconds = 120  # they stay at the server
    fill_form(qtbot, win, IMAGE, "Four at once")
    set_variations(win, 4)
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: sum(1 for j in jobs_of(win) if j.server_id) == 4, timeout=20000)
    win.queue.setCurrentIndex(win.library.index(0, 0))
    assert win.selected_group() is not None and win.cancel_group_action.isEnabled()
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    prompter.answers.append(True)
    win.cancel_group_action.trigger()
    assert prompter.asked[-1][0] == "Stop the whole group?" and "already has 4" in prompter.asked[-1][1]
    wait_all(qtbot, win, 4, JobState.CANCELLED)


def test_a_star_persists_across_a_restart_and_filters_the_library(qtbot: Any, windows: WindowMaker):
    win = windows()
    for prompt in ("A red kite", "A blue whale"):
        fill_form(qtbot, win, IMAGE, prompt)
        click_generate(qtbot, win)
        qtbot.waitUntil(lambda p=prompt: any(j.request.prompt == p for j in jobs_of(win)), timeout=10000)
    done = wait_all(qtbot, win, 2, JobState.COMPLETED)
    kite = next(j for j in done if j.request.prompt == "A red kite")
    index = win.library.index_of(kite.id)
    star = JobDelegate.star_rect(win.queue.visualRect(index)).center()
    qtbot.mouseClick(win.queue.viewport(), Qt.MouseButton.LeftButton, pos=star)
    qtbot.waitUntil(lambda: bool((j := win.model.job(kite.id)) and j.favourite), timeout=10000)
    assert (saved := stored(kite.id)) is not None and saved.favourite

    close(qtbot, win)
    win = windows()
    assert (job := win.model.job(kite.id)) is not None and job.favourite
    widget(win, "libraryFavouritesOnly", QWidget).click()
    qtbot.waitUntil(lambda: shown_rows(win) == 1)
    assert win.library.job_at(0) is not None and win.library.job_at(0).id == kite.id  # type: ignore[union-attr]
    assert widget(win, "libraryCount", QLabel).text() == "1 of 2"


def test_ctrl_d_stars_the_selected_clip_and_unstars_it(qtbot: Any, windows: WindowMaker):
    win = windows()
    job = one_finished(qtbot, win, "Keyboard star")
    click_row(qtbot, win, job.id)
    qtbot.keyClick(win.queue, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool((j := win.model.job(job.id)) and j.favourite), timeout=10000)
    job_menu(win).aboutToShow.emit()  # the Job menu as it opens
    assert win.favourite_action.text() == "Remove from favourites"
    qtbot.keyClick(win.queue, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool((j := win.model.job(job.id)) and not j.favourite), timeout=10000)


def test_the_search_box_filters_the_library(qtbot: Any, windows: WindowMaker):
    win = windows()
    for prompt in ("Sunset over the sea", "A cat on a roof", "Sunset in the desert"):
        fill_form(qtbot, win, IMAGE, prompt)
        click_generate(qtbot, win)
        qtbot.waitUntil(lambda p=prompt: any(j.request.prompt == p for j in jobs_of(win)), timeout=10000)
    wait_all(qtbot, win, 3, JobState.COMPLETED)
    qtbot.keyClick(win, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)  # Find: focus to the search box
    search = widget(win, "librarySearch", QLineEdit)
    assert search.hasFocus()
    qtbot.keyClicks(search, "sunset")
    qtbot.waitUntil(lambda: shown_rows(win) == 2)
    assert widget(win, "libraryCount", QLabel).text() == "2 of 3"
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: shown_rows(win) == 3)


def test_two_finished_clips_open_side_by_side_with_what_differs(qtbot: Any, windows: WindowMaker):
    win = windows()
    fill_form(qtbot, win, IMAGE, "Compare me")
    widget(win, "seedEdit", QLineEdit).setText("7")
    set_variations(win, 2)
    click_generate(qtbot, win)
    done = wait_all(qtbot, win, 2, JobState.COMPLETED)
    win.queue.setCurrentIndex(win.library.index(0, 0))  # the group row: its two clips
    job_menu(win).aboutToShow.emit()
    assert win.compare_action.isEnabled()
    win.compare_action.trigger()
    dialog = win.compare_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    qtbot.waitUntil(dialog.grid.is_loaded, timeout=15000)
    assert sorted(dialog.grid.labels()) == ["seed 7", "seed 8"]
    assert {j.id for j in done} == {c.item.job_id for c in dialog.grid.cells()}
    dialog.close()
    qtbot.waitUntil(lambda: win.compare_dialog is None)


def test_the_form_and_recent_prompts_come_back_after_a_restart(qtbot: Any, windows: WindowMaker):
    win = windows()
    fill_form(qtbot, win, IMAGE, "A lighthouse at dawn")
    set_variations(win, 2)
    click_generate(qtbot, win)
    wait_all(qtbot, win, 2, JobState.COMPLETED)
    win.inputs.prompt.set_text("Half-typed idea")
    close(qtbot, win)

    win = windows()
    qtbot.waitUntil(lambda: win.inputs.prompt.text() == "Half-typed idea", timeout=10000)
    assert win.inputs.variations() == 2
    qtbot.waitUntil(lambda: win.inputs.images() == [str(IMAGE)], timeout=10000)
    assert "A lighthouse at dawn" in win.inputs.recent_prompts()
    edit = find(win, "promptEdit")
    win.inputs.prompt.set_text("")
    edit.setFocus()
    qtbot.keyClicks(edit, "A ligh")
    popup = win.inputs.recent.popup
    qtbot.waitUntil(popup.isVisible, timeout=5000)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.inputs.prompt.text() == "A lighthouse at dawn")


def finished_set(qtbot: Any, win: MainWindow, prompt: str, n: int, seed: int = 1) -> list[Job]:
    fill_form(qtbot, win, IMAGE, prompt)
    widget(win, "seedEdit", QLineEdit).setText(str(seed))
    set_variations(win, n)
    click_generate(qtbot, win)
    return wait_all(qtbot, win, n, JobState.COMPLETED)


def test_removing_two_selected_clips_asks_once_deletes_their_files_and_undo_brings_both_back(
    qtbot: Any, windows: WindowMaker
):
    win = windows()
    done = finished_set(qtbot, win, "Three of a kind", 3)
    group = done[0].group_id
    assert group is not None
    win.model.set_expanded(group, True)
    first, second = sorted(done, key=lambda j: j.request.seed or 0)[:2]
    click_row(qtbot, win, first.id)
    click_row(qtbot, win, second.id, Qt.KeyboardModifier.ControlModifier)
    files = [Path(j.file_path or "") for j in (first, second)]
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    prompter.answers.append((True, True))  # remove, and delete the files too
    qtbot.keyClick(win.queue, Qt.Key.Key_Delete)
    assert prompter.asked[-1][0] == "Remove 2 jobs?"
    qtbot.waitUntil(lambda: win.model.job(first.id) is None and win.model.job(second.id) is None)
    qtbot.waitUntil(lambda: not any(f.exists() for f in files), timeout=10000)
    assert win.player_panel.current_file not in {str(f) for f in files}  # the deleted clips do not play on
    assert win.model.job_count() == 1
    win.controller.undo_action.trigger()  # one Ctrl+Z: both
    qtbot.waitUntil(lambda: win.model.job_count() == 3, timeout=10000)
    assert all(f.is_file() for f in files)


def delete_group_row(qtbot: Any, win: MainWindow) -> ScriptedPrompter:
    """Delete on the first row (a group's), answering Remove (files kept) to the one question it asks."""
    win.queue.setCurrentIndex(win.library.index(0, 0))
    win.queue.setFocus()
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    prompter.answers.append((True, False))
    qtbot.keyClick(win.queue, Qt.Key.Key_Delete)
    return prompter


def test_delete_on_a_group_row_removes_the_whole_set(qtbot: Any, windows: WindowMaker):
    win = windows()
    finished_set(qtbot, win, "Gone together", 2)
    prompter = delete_group_row(qtbot, win)
    assert prompter.asked[-1][0] == "Remove 2 jobs?"
    qtbot.waitUntil(lambda: win.model.job_count() == 0, timeout=10000)
    assert widget(win, "libraryNoMatch", QWidget).isHidden()  # an empty library is not "nothing matches"


def test_a_removal_asked_for_just_before_quitting_is_finished_before_the_engine_closes(
    qtbot: Any, windows: WindowMaker
):
    from tests.helpers import stored_jobs

    win = windows()
    finished_set(qtbot, win, "Gone at the last moment", 2)
    delete_group_row(qtbot, win)
    close(qtbot, win)  # Quit right away: the removal under way ends first, no error meets a closed engine
    assert stored_jobs() == []


def test_compare_on_a_group_of_six_shows_the_first_four_and_says_so(qtbot: Any, windows: WindowMaker):
    win = windows()
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    prompter.answers.append(True)  # the guard asks about the whole set's price ($2.40 > $2.00): Send
    done = finished_set(qtbot, win, "Six seeds", 6, seed=20)
    assert prompter.asked[-1][0] == "Send 6 jobs for ≈ $2.40?" and "Send them?" in prompter.asked[-1][1]
    click_row(qtbot, win, done[0].id)  # the folded group's row
    assert win.selected_group() is not None
    qtbot.keyClick(win.queue, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: win.compare_dialog is not None and win.compare_dialog.isVisible())
    assert win.compare_dialog is not None and len(win.compare_dialog.grid.cells()) == 4
    assert "first 4 of 6" in win.statusBar().currentMessage()


def test_a_paused_queue_counts_its_jobs_as_waiting_and_quitting_says_they_were_not_sent(
    qtbot: Any, windows: WindowMaker, sim: Simulator
):
    win = windows()
    qtbot.keyClick(win, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert win.pause_action.isChecked()
    fill_form(qtbot, win, IMAGE, "Held")
    set_variations(win, 2)
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: sum(1 for j in jobs_of(win) if j.detail == "Queue paused") == 2, timeout=10000)
    assert widget(win, "runningLabel", QLabel).text() == "2 waiting · queue paused"
    assert win.windowTitle() == "PixDesk (2 waiting)"
    group = win.library.group_at(0)
    assert group is not None and group.badge_text() == "waiting"
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    prompter.answers.append(False)  # asked, and declined
    win.close()
    text = prompter.asked[-1][1]
    assert "still running" not in text and "2 jobs not sent yet wait here" in text and "resume the queue" in text
    assert sim.create_requests == 0


def test_when_the_filters_hide_every_job_the_list_says_so_and_show_all_brings_them_back(
    qtbot: Any, windows: WindowMaker
):
    win = windows()
    one_finished(qtbot, win, "Visible at first")
    search = widget(win, "librarySearch", QLineEdit)
    qtbot.keyClicks(search, "zzz")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: shown_rows(win) == 0)
    qtbot.waitUntil(lambda: widget(win, "libraryNoMatch", QWidget).isVisible())
    fill_form(qtbot, win, IMAGE, "Made while filtered")
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: "hidden by the library's search or filters" in win.statusBar().currentMessage())
    qtbot.mouseClick(widget(win, "libraryShowAll", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown_rows(win) == 2)
    assert search.text() == "" and not widget(win, "libraryNoMatch", QWidget).isVisible()


def test_a_click_on_the_players_seek_bar_goes_to_that_point(qtbot: Any, windows: WindowMaker):
    win = windows()
    job = one_finished(qtbot, win, "Seek me")
    click_row(qtbot, win, job.id)
    slider = find(win, "seekSlider")
    qtbot.waitUntil(lambda: slider.maximum() > 0, timeout=10000)  # type: ignore[attr-defined]
    slider_end = slider.maximum()  # type: ignore[attr-defined]
    pos = slider.rect().center()
    pos.setX(slider.width() * 3 // 4)
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: abs(win.player_panel.player.position() - slider_end * 0.75) < slider_end * 0.15)


def two_finished(qtbot: Any, win: MainWindow) -> list[Job]:
    for prompt in ("A red kite", "A blue whale"):
        fill_form(qtbot, win, IMAGE, prompt)
        click_generate(qtbot, win)
        qtbot.waitUntil(lambda p=prompt: any(j.request.prompt == p for j in jobs_of(win)), timeout=10000)
    return wait_all(qtbot, win, 2, JobState.COMPLETED)


def test_a_right_click_inside_a_multiple_selection_keeps_it(qtbot: Any, windows: WindowMaker):
    """Found in review: the right-click re-selected the clicked row alone, so Compare was never on that menu."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMenu

    win = windows()
    first, second = two_finished(qtbot, win)
    click_row(qtbot, win, first.id)
    click_row(qtbot, win, second.id, Qt.KeyboardModifier.ControlModifier)
    offered: list[str] = []

    def read_and_close() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        offered.extend(a.objectName() for a in menu.actions() if a.isEnabled())
        menu.close()

    QTimer.singleShot(50, read_and_close)
    win.queue.customContextMenuRequested.emit(win.queue.visualRect(win.library.index_of(first.id)).center())
    assert len(win.queue.selectionModel().selectedRows()) == 2
    assert "compareAction" in offered


def test_closing_the_window_closes_the_compare_window_too(qtbot: Any, windows: WindowMaker):
    """Found in review: the compare window (and its sound) outlived the main window."""
    win = windows()
    first, second = two_finished(qtbot, win)
    click_row(qtbot, win, first.id)
    click_row(qtbot, win, second.id, Qt.KeyboardModifier.ControlModifier)
    win.compare_action.trigger()
    dialog = win.compare_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.grid.is_loaded, timeout=15000)
    close(qtbot, win)
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()


def test_stopping_a_group_whose_creates_are_on_their_way_asks_first(qtbot: Any, windows: WindowMaker, sim: Simulator):
    """Found in review: only jobs with a server id counted, so a group whose creates were still being answered
    was stopped without a word (and those creates are charged)."""
    win = windows()
    sim.queue_seconds = 120
    sim.inject("hang", "create", count=2, seconds=2.0)
    fill_form(qtbot, win, IMAGE, "Two in flight")
    set_variations(win, 2)
    click_generate(qtbot, win)
    qtbot.waitUntil(lambda: sum(1 for j in jobs_of(win) if j.state is JobState.SUBMITTING) == 2, timeout=20000)
    win.queue.setCurrentIndex(win.library.index(0, 0))
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    prompter.answers.append(False)  # asked, and declined: nothing stops
    win.cancel_group_action.trigger()
    assert prompter.asked[-1][0] == "Stop the whole group?"
    assert not any(j.state is JobState.CANCELLED for j in jobs_of(win))
