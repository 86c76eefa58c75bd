"""The window as a desktop user meets it: sizes down to the minimum, keyboard-only use, shortcuts from any field,
auto-play, notifications while away, dragging a clip out, the title."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, QRect, Qt, QTimer, QUrl
from PySide6.QtGui import QDrag, QGuiApplication, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QDialog, QLabel, QWidget

from pixdesk.api.request import FieldError
from pixdesk.jobs.models import JobState
from pixdesk.simulator import Simulator
from pixdesk.ui.main_window import MINIMUM_SIZE, MainWindow
from tests.conftest import SAMPLES
from tests.gui_helpers import find
from tests.test_gui_actions import choose, fill_form, select, submit, wait_state
from tests.test_gui_actions import job as job_of

IMAGE = SAMPLES / "portrait.png"
SIZES = [MINIMUM_SIZE, (1366, 768), (1380, 820), (1920, 1080)]


def resize(qtbot: Any, win: MainWindow, width: int, height: int) -> None:
    win.resize(width, height)
    qtbot.waitUntil(lambda: (win.width(), win.height()) == (width, height))
    QApplication.processEvents()
    QApplication.processEvents()  # the splitter re-shares its space on the next turn of the loop


def visible_rect(widget: QWidget, win: MainWindow) -> QRect:
    """The part of `widget` that is really on screen: clipped by every parent up to the window."""
    rect = QRect(widget.mapTo(win, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not win:
        rect = rect.intersected(QRect(parent.mapTo(win, QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect.intersected(win.rect())


def unclipped(widget: QWidget, win: MainWindow) -> bool:
    return visible_rect(widget, win).size() == widget.size()


def complete_one(qtbot: Any, win: MainWindow, prompt: str) -> str:
    job_id = submit(qtbot, win, prompt)
    wait_state(qtbot, win, job_id, "completed")
    return job_id


# -- layout --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_named_widget_is_inside_the_window_and_unclipped(qtbot, window: MainWindow, width: int, height: int):
    resize(qtbot, window, width, height)
    assert not window.inputs_scroll.verticalScrollBar().isVisible(), "the form needs a scroll bar"
    named = [w for w in window.findChildren(QWidget) if w.objectName() and w.isVisibleTo(window)]
    essential = {
        "imageDrop",
        "promptEdit",
        "negativePromptEdit",
        "resolutionCombo",
        "durationCombo",
        "styleCombo",
        "seedEdit",
        "lipSyncGroup",
        "generateButton",
        "generateHint",
        "estimateLabel",
        "playButton",
        "seekSlider",
        "timeLabel",
        "volumeSlider",
        "loopButton",
        "saveButton",
        "queueView",
    }
    assert essential <= {w.objectName() for w in named}
    clipped = [w.objectName() for w in named if not w.objectName().startswith("qt_") and not unclipped(w, window)]
    assert clipped == []
    # Sliders are sliders, not stubs.
    assert find(window, "seekSlider").width() >= 80
    assert find(window, "volumeSlider").width() >= 50
    assert window.is_side_by_side() == (width >= 1120)


def test_the_minimum_size_is_800_by_600(qtbot, window: MainWindow):
    window.resize(640, 480)
    qtbot.waitUntil(lambda: window.width() == 800 and window.height() == 600)
    assert not window.is_side_by_side()  # the queue went under the player


def test_messages_do_not_move_the_form(qtbot, window: MainWindow):
    resize(qtbot, window, *MINIMUM_SIZE)
    generate = find(window, "generateButton")
    before = generate.mapTo(window, QPoint(0, 0))
    window.inputs.show_guard_message("Not sent: today's budget of $20.00 would be exceeded by this job.")
    window.inputs.lip_group.setChecked(True)
    window.inputs.prompt.set_text("x" * 2100)  # over the limit: the line under the prompt says so
    window.inputs.show_errors([FieldError("seed", "The server did not accept this seed.")])
    QApplication.processEvents()
    assert generate.mapTo(window, QPoint(0, 0)) == before
    assert window.inputs.field_message("prompt") == "2,100 / 2,048 characters: 52 over the limit."


def test_two_line_errors_and_the_over_limit_hint_are_read_in_full(qtbot, window: MainWindow):
    resize(qtbot, window, *MINIMUM_SIZE)
    long = "The server refused this prompt: it names a real person, which is not allowed."
    window.inputs.show_errors([FieldError("prompt", long), FieldError("negative_prompt", long)])
    window.inputs.prompt.set_text("y" * 2100)
    QApplication.processEvents()
    for name in ("promptError", "negative_promptError", "generateHint"):
        label = find(window, name)
        assert isinstance(label, QLabel)
        assert label.text(), name
        assert label.heightForWidth(label.width()) <= label.height(), f"{name} is cut: {label.text()!r}"


def test_a_disabled_generate_always_says_why(qtbot, window: MainWindow):
    generate = find(window, "generateButton")
    hint = find(window, "generateHint")
    assert isinstance(hint, QLabel)
    assert not generate.isEnabled()
    assert "image" in hint.text() and generate.toolTip() == hint.text()
    fill_form(qtbot, window, IMAGE, "a wave")
    assert generate.isEnabled()
    window.inputs.lip_group.setChecked(True)
    assert not generate.isEnabled() and "line" in generate.toolTip() and generate.toolTip() == hint.text()


# -- keyboard ------------------------------------------------------------------------------------------
def focus_chain(win: MainWindow, start: QWidget, count: int) -> list[QWidget]:
    start.setFocus(Qt.FocusReason.TabFocusReason)
    seen: list[QWidget] = []
    for _ in range(count):
        widget = QApplication.focusWidget()
        assert widget is not None
        seen.append(widget)
        QTest.keyClick(widget, Qt.Key.Key_Tab)
    return seen


def test_tab_follows_the_screen_and_every_stop_is_visible_and_named(qtbot, window: MainWindow):
    fill_form(qtbot, window, IMAGE, "keyboard only")
    window.inputs.lip_group.setChecked(True)
    qtbot.waitUntil(lambda: unclipped(window.inputs.lip_text.edit, window))  # the group unfolds
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    drop = window.inputs.drop
    stops = focus_chain(window, drop, 40)
    first_round = stops[: stops.index(drop, 1)] if drop in stops[1:] else stops
    names = [w.objectName() for w in first_round]
    expected = [
        "imageDrop",
        "promptEdit",
        "negativePromptEdit",
        "resolutionCombo",
        "durationCombo",
        "styleCombo",
        "seedEdit",
        "seedDiceButton",
        "lipSyncGroup",
        "lipSyncTextEdit",
        "speakerCombo",
        "variationsSpin",
        "generateButton",
        "playButton",
        "seekSlider",
        "muteButton",
        "volumeSlider",
        "loopButton",
        "saveButton",
        "pauseQueueButton",
        "librarySearch",
        "libraryStatusFilter",
        "libraryModelFilter",
        "libraryDateFilter",
        "libraryFavouritesOnly",
        "queueView",
    ]
    # Disabled and hidden controls are skipped by Tab (the player's are disabled with no clip loaded; the model
    # filter shows once the library holds two models): the rest keep this order.
    assert [n for n in names if n in expected] == [
        n for n in expected if (find(window, n).isEnabled() and find(window, n).isVisible()) or n == "imageDrop"
    ]
    for widget in first_round:
        assert widget.isVisible(), widget.objectName()
        assert widget.accessibleName(), f"{widget.objectName() or type(widget).__name__} has no accessible name"
        assert unclipped(widget, window), widget.objectName()


def test_every_focusable_control_has_an_accessible_name(window: MainWindow):
    nameless = [
        w.objectName() or f"{type(w).__name__}:{getattr(w, 'text', lambda: '')()}"
        for w in window.findChildren(QWidget)
        if w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and w.isVisibleTo(window)
        and not w.accessibleName()
        and not (isinstance(w, QAbstractButton) and w.text())  # a button's text is its accessible name
        and not w.objectName().startswith("qt_")
    ]
    assert nameless == []


def test_the_drop_zone_shows_keyboard_focus(qtbot, window: MainWindow):
    drop = window.inputs.drop
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.inputs.prompt.edit.setFocus()
    qtbot.waitUntil(lambda: not drop.hasFocus())
    unfocused = drop.grab().toImage()
    drop.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(drop.hasFocus)
    assert drop.grab().toImage() != unfocused


def test_ctrl_r_from_the_prompt_field_reuses_the_selected_job(qtbot, window: MainWindow):
    job_id = complete_one(qtbot, window, "reuse me from a field")
    select(qtbot, window, job_id)
    window.inputs.prompt.set_text("")
    window.inputs.negative.edit.setFocus()
    qtbot.waitUntil(window.inputs.negative.edit.hasFocus)
    QTest.keyClick(window.inputs.negative.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.inputs.prompt.text() == "reuse me from a field")


def test_ctrl_v_in_the_prompt_pastes_an_image_when_the_clipboard_holds_only_one(qtbot, window: MainWindow):
    clipboard = QGuiApplication.clipboard()
    clipboard.setImage(QImage(str(IMAGE)))
    edit = window.inputs.prompt.edit
    window.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    with qtbot.waitSignal(window.inputs.drop.image_changed, timeout=10000):
        QTest.keyClick(edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.inputs.prompt.text() == ""
    # With text on the clipboard, Ctrl+V in the field pastes the text, as in any editor.
    source = window.inputs.drop.source
    clipboard.setText("a pasted wish")
    QTest.keyClick(edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.inputs.prompt.text() == "a pasted wish"
    assert window.inputs.drop.source == source and not window.inputs.drop.is_loading


def test_copy_and_delete_keep_their_meaning_in_text_fields(qtbot, window: MainWindow):
    job_id = complete_one(qtbot, window, "a finished one")
    select(qtbot, window, job_id)
    edit = window.inputs.prompt.edit
    window.inputs.prompt.set_text("typed words")
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    edit.selectAll()  # type: ignore[union-attr]
    QTest.keyClick(edit, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "typed words"  # the selection, not the job's prompt
    QTest.keyClick(edit, Qt.Key.Key_Delete)
    assert window.inputs.prompt.text() == ""  # the field's text went, not the job
    assert window.model.row_of(job_id) is not None
    # Nothing selected in the field: Ctrl+C copies the selected job's prompt.
    QTest.keyClick(edit, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "a finished one"


def test_delete_from_the_player_removes_the_selected_job(qtbot, window: MainWindow):
    job_id = complete_one(qtbot, window, "remove me from the player")
    select(qtbot, window, job_id)
    window.controller.prompter.answers.append((True, False))  # type: ignore[attr-defined]
    button = find(window, "loopButton")
    button.setFocus()
    qtbot.waitUntil(button.hasFocus)
    QTest.keyClick(button, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.model.row_of(job_id) is None)


def test_settings_has_ctrl_comma_on_every_platform(qtbot, window: MainWindow):
    assert window.settings_action.shortcut().toString() == "Ctrl+,"
    opened: list[str] = []

    def close_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog):
            opened.append(dialog.windowTitle())
            dialog.reject()
        else:
            QTimer.singleShot(20, close_dialog)

    QTimer.singleShot(0, close_dialog)
    edit = window.inputs.prompt.edit
    window.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus)
    QTest.keyClick(edit, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert opened == ["Settings"]


# -- auto-play -----------------------------------------------------------------------------------------
def test_a_finished_clip_plays_unless_the_person_watches_one_they_chose(qtbot, window: MainWindow):
    first = complete_one(qtbot, window, "first clip")
    player = window.player_panel
    qtbot.waitUntil(lambda: player.current_file is not None and player.is_playing())
    assert not player.is_watching()  # it played by itself
    second = complete_one(qtbot, window, "second clip")
    qtbot.waitUntil(lambda: player.current_file == window._job(second).file_path)  # type: ignore[union-attr]
    # The person picks the first clip (a looping one they started is being watched) ...
    select(qtbot, window, first)
    qtbot.waitUntil(lambda: player.current_file == window._job(first).file_path)  # type: ignore[union-attr]
    assert player.is_watching()
    complete_one(qtbot, window, "third clip")
    assert player.current_file == job_of(window, first).file_path


# -- notifications -------------------------------------------------------------------------------------
def make_inactive(qtbot: Any, win: MainWindow) -> QWidget:
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not win.is_attended())
    return other


def test_a_notification_is_requested_when_a_job_finishes_while_the_window_is_inactive(qtbot, window: MainWindow):
    requested: list[tuple[str, str]] = []
    window.notifier.requested.connect(lambda title, body: requested.append((title, body)))
    window.activateWindow()
    qtbot.waitUntil(window.is_attended)
    complete_one(qtbot, window, "watched here")
    assert requested == []  # the person is looking at the window
    make_inactive(qtbot, window)
    job_id = submit(qtbot, window, "finished while away")
    wait_state(qtbot, window, job_id, "completed")
    qtbot.waitUntil(lambda: len(requested) == 1)
    assert requested[0][0] == "Video ready" and "finished while away" in requested[0][1]


def test_a_failure_while_away_is_notified_and_the_setting_turns_it_off(qtbot, window: MainWindow, sim: Simulator):
    requested: list[tuple[str, str]] = []
    window.notifier.requested.connect(lambda title, body: requested.append((title, body)))
    make_inactive(qtbot, window)
    sim.fail_generations = 1
    job_id = submit(qtbot, window, "fails while away")
    wait_state(qtbot, window, job_id, "failed")
    qtbot.waitUntil(lambda: len(requested) == 1)
    assert requested[0][0] == "Video failed"
    window.settings.notify_when_inactive = False
    complete_one(qtbot, window, "quietly done")
    assert len(requested) == 1


FAKE_SERVICE = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Slot, ClassInfo
from PySide6.QtDBus import QDBusConnection

@ClassInfo({"D-Bus Interface": "org.freedesktop.Notifications"})
class Notifications(QObject):
    @Slot(str, "uint", str, str, str, "QStringList", "QVariantMap", int, result="uint")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        print("NOTIFY", app, summary, body, sep="|", flush=True)
        return 42

app = QCoreApplication(sys.argv)
bus = QDBusConnection.sessionBus()
bus.registerObject("/org/freedesktop/Notifications", Notifications(app),
                   QDBusConnection.RegisterOption.ExportAllSlots)
bus.registerService("org.freedesktop.Notifications")
print("READY", flush=True)
app.exec()
"""


@pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon for a private session bus")
def test_notifications_reach_a_freedesktop_service_over_a_real_bus(qtbot, qloop, tmp_path: Path):
    from PySide6.QtDBus import QDBusConnection

    from pixdesk.ui.notifier import DesktopNotifier

    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        script = tmp_path / "service.py"
        script.write_text(FAKE_SERVICE)
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "QT_QPA_PLATFORM": "offscreen"}
        service = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
        try:
            assert service.stdout is not None
            assert service.stdout.readline().strip() == "READY"
            notifier = DesktopNotifier(bus=lambda: QDBusConnection.connectToBus(address, "pixdesk-test-bus"))
            with qtbot.waitSignal(notifier.delivered, timeout=10000) as delivered:
                notifier.notify("Video ready", "“a wave” has finished.")
            assert delivered.args == [42]
            assert service.stdout.readline().strip() == "NOTIFY|PixDesk|Video ready|“a wave” has finished."
        finally:
            service.kill()
            service.wait()
    finally:
        daemon.kill()
        daemon.wait()


def test_no_notification_service_means_nothing_happens(qtbot, qloop):
    from PySide6.QtDBus import QDBusConnection

    from pixdesk.ui.notifier import DesktopNotifier

    notifier = DesktopNotifier(bus=lambda: QDBusConnection.connectToBus("unix:path=/nonexistent/bus", "nobus"))
    delivered: list[int] = []
    notifier.delivered.connect(delivered.append)
    with qtbot.waitSignal(notifier.requested, timeout=2000):
        notifier.notify("Video ready", "done")
    qtbot.wait(200)  # nothing to wait for: a notification that never comes
    assert delivered == []


# -- dragging a clip out -------------------------------------------------------------------------------
def test_dragging_the_playing_clip_carries_its_file_url(qtbot, window: MainWindow):
    job_id = complete_one(qtbot, window, "drag me out")
    player = window.player_panel
    clip = job_of(window, job_id).file_path
    qtbot.waitUntil(lambda: player.current_file == clip)
    drags: list[QMimeData] = []
    player.start_drag = lambda drag: drags.append(drag.mimeData())  # type: ignore[method-assign]
    video = player.video
    start = video.rect().center()
    QTest.mousePress(video, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(video, start + QPoint(QApplication.startDragDistance() + 5, 0))
    QTest.mouseRelease(video, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert len(drags) == 1
    assert drags[0].urls() == [QUrl.fromLocalFile(str(clip))]
    assert Path(drags[0].urls()[0].toLocalFile()).is_file()


def test_the_player_offers_no_drag_without_a_clip(qtbot, window: MainWindow):
    drags: list[QDrag] = []
    player = window.player_panel
    player.start_drag = drags.append  # type: ignore[method-assign]
    start = player.video.rect().center()
    QTest.mousePress(player.video, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(player.video, start + QPoint(40, 0))
    QTest.mouseRelease(player.video, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert player.clip_mime() is None and drags == []


# -- the title -----------------------------------------------------------------------------------------
def test_the_title_says_each_thing_once_and_counts_running_jobs(qtbot, window: MainWindow, sim: Simulator):
    assert window.windowTitle() == "PixDesk"
    sim.queue_seconds = 60
    job_id = submit(qtbot, window, "still running")
    qtbot.waitUntil(lambda: window.windowTitle() == "PixDesk (1 running)")
    window.controller.prompter.answers.append(True)  # type: ignore[attr-defined]
    select(qtbot, window, job_id)
    choose(window, "cancel")
    qtbot.waitUntil(lambda: job_of(window, job_id).state is JobState.CANCELLED)
    qtbot.waitUntil(lambda: window.windowTitle() == "PixDesk")


# -- settings ------------------------------------------------------------------------------------------
def accept_settings_when_open(changes: Any = None) -> list[QDialog]:
    seen: list[QDialog] = []

    def accept() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog) and getattr(dialog, "key_loaded", False):
            seen.append(dialog)
            if changes is not None:
                changes(dialog)
            dialog.accept()
        else:
            QTimer.singleShot(20, accept)

    QTimer.singleShot(0, accept)
    return seen


def test_a_demo_session_stays_a_demo_after_settings_ok(qtbot, qloop, sim: Simulator, monkeypatch):
    """Started with --demo while a key is saved: OK in Settings without touching the box used to go live."""
    from pixdesk.config import load_settings
    from pixdesk.runtime import Runtime
    from tests.conftest import TEST_KEY, ScriptedPrompter

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    runtime = Runtime(load_settings(), demo=True)
    win = MainWindow(runtime)
    win.show()
    win.controller.prompter = ScriptedPrompter()  # type: ignore[assignment]
    try:
        qtbot.waitUntil(win.is_ready, timeout=15000)
        seen = accept_settings_when_open()
        win.open_settings()
        assert seen and seen[0].demo.isChecked()  # type: ignore[attr-defined]  # the box shows the mode
        qtbot.waitUntil(lambda: win.statusBar().currentMessage().startswith("Settings saved"), timeout=10000)
        assert runtime.demo and win.windowTitle() == "PixDesk — demo mode"
        assert not load_settings().demo_mode  # a --demo session is not remembered as a choice
    finally:
        win.close()
        qtbot.waitUntil(win.is_closed, timeout=15000)
        win.deleteLater()
        runtime.close()


def test_the_notification_setting_is_kept(qtbot, window: MainWindow):
    from pixdesk.config import load_settings

    seen = accept_settings_when_open(lambda dialog: dialog.notify.setChecked(False))
    window.open_settings()
    assert seen and not seen[0].test_result.isVisible()  # type: ignore[attr-defined]  # no empty row
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("Settings saved"), timeout=10000)
    assert not window.settings.notify_when_inactive and not load_settings().notify_when_inactive
