"""`pixdesk IMAGE...` and one window per data folder: the command line, the handover from a second launch
(a real second process), what the running window does with strangers on its socket, and the title."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QDir, QTimer
from PySide6.QtWidgets import QApplication

from pixdesk import APP_NAME
from pixdesk.cli import main
from pixdesk.config import data_dir
from pixdesk.launch import image_path, split_gui_arguments
from pixdesk.ui.app import ensure_app
from pixdesk.ui.main_window import MainWindow
from pixdesk.ui.single_instance import (
    MAX_MESSAGE,
    AlreadyRunning,
    SingleInstance,
    claim,
    hand_over,
    instance_name,
)
from tests.conftest import make_image

ROOT = Path(__file__).resolve().parents[1]


# -- the command line ----------------------------------------------------------------------------------------
@pytest.fixture
def gui_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stand in for `run_gui` (the real one is exercised below): record what the command line asked for."""
    calls: list[dict[str, Any]] = []

    def fake_run_gui(demo: bool = False, images: list[str] | None = None) -> int:
        calls.append({"demo": demo, "images": list(images or [])})
        return 0

    monkeypatch.setattr("pixdesk.ui.app.run_gui", fake_run_gui)
    return calls


def test_image_arguments_open_the_window_with_them_as_absolute_paths(
    gui_calls: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    make_image(tmp_path / "a.png")
    make_image(tmp_path / "b.jpg")
    monkeypatch.chdir(tmp_path)
    assert main(["a.png", "b.jpg"]) == 0
    assert main(["--demo", "a.png"]) == 0
    assert main(["a.png", "--demo"]) == 0
    assert main([]) == 0
    assert gui_calls == [
        {"demo": False, "images": [str(tmp_path / "a.png"), str(tmp_path / "b.jpg")]},
        {"demo": True, "images": [str(tmp_path / "a.png")]},
        {"demo": True, "images": [str(tmp_path / "a.png")]},
        {"demo": False, "images": []},
    ]


def test_file_uris_become_paths_folders_are_kept_and_other_uris_or_missing_files_are_skipped_with_one_line(
    gui_calls: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    spaced = make_image(tmp_path / "my picture.png")
    uri = "file://" + str(spaced).replace(" ", "%20")
    missing = tmp_path / "gone.png"
    argv = [uri, "file://localhost" + str(spaced), str(missing), "https://example.com/x.png", str(tmp_path)]
    assert main(argv) == 0
    # The window still opens; a folder goes to it too (its images become a batch, as when a folder is dropped).
    assert gui_calls == [{"demo": False, "images": [str(spaced), str(spaced), str(tmp_path)]}]
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"pixdesk: skipped: no such file: {missing}",
        "pixdesk: skipped: only local files can be opened this way: https://example.com/x.png",
    ]
    assert image_path("file:///tmp/x.png") == "/tmp/x.png"
    assert image_path("x.png", cwd="/somewhere/else") == "/somewhere/else/x.png"
    with pytest.raises(ValueError, match="not a file on this computer"):
        image_path("file://otherhost/tmp/x.png")


def test_a_first_argument_that_names_a_command_is_that_command(
    gui_calls: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["generate", str(tmp_path / "gone.png"), "--prompt", "Hi", "--demo"]) == 2
    assert "pixdesk: error:" in capsys.readouterr().err  # generate's own check of its image
    assert main(["--demo", "jobs"]) == 0
    assert "No jobs yet." in capsys.readouterr().out
    assert gui_calls == []
    # After `--` everything is an image (a file called `jobs`), as is a later argument that names a command.
    assert split_gui_arguments(["--", "jobs"], {"jobs"}) == ([], ["jobs"])
    assert split_gui_arguments(["a.png", "jobs", "--demo"], {"jobs"}) == (["--demo"], ["a.png", "jobs"])
    assert split_gui_arguments(["--demo", "generate", "x"], {"generate"}) is None


def test_help_shows_images_and_commands_and_unknown_options_are_bad_input(capsys: pytest.CaptureFixture[str]):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "pixdesk [-h] [--version] [--demo] [IMAGE ...]" in out and "COMMAND" in out and "generate" in out
    assert main(["--bogus", "a.png"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert main(["generate", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: pixdesk generate")


# -- the handover, end to end --------------------------------------------------------------------------------
def launch(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`pixdesk ARGS` as a new process with this test's data folders; were it to open a window, it would say
    "window shown" and close it at once (PIXDESK_EXIT_WHEN_SHOWN), so a failed handover cannot hang the test."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PIXDESK_EXIT_WHEN_SHOWN": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "pixdesk", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(qtbot: Any, proc: subprocess.Popen[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60000)  # the window serves it meanwhile
    out, err = proc.communicate()
    return proc.returncode, out, err, time.monotonic() - started


def test_a_second_launch_hands_its_image_to_the_running_window_and_exits(
    window: MainWindow, qtbot: Any, tmp_path: Path
):
    instance = SingleInstance()
    assert instance.listen()
    instance.attach(window)
    try:
        picture = make_image(tmp_path / "picture.png")
        window.showMinimized()
        qtbot.waitUntil(window.isMinimized)
        # A relative path, from a launch in another folder than the window's: resolved where it was typed.
        assert Path.cwd() != tmp_path
        code, out, err, seconds = finish(qtbot, launch("--demo", "picture.png", cwd=tmp_path))
        assert code == 0, err
        assert out == ""  # no "window shown": it opened none
        assert seconds < 20  # in practice well under a second after Python starts; no 2 s deadline hit
        qtbot.waitUntil(lambda: window.inputs.drop.source == str(picture))
        assert not window.isMinimized() and window.isVisible()  # brought to the front

        # A launch with no image (the launcher's icon) just raises the window.
        window.showMinimized()
        qtbot.waitUntil(window.isMinimized)
        code, out, err, _ = finish(qtbot, launch(cwd=tmp_path))
        assert code == 0 and out == "", err
        qtbot.waitUntil(lambda: not window.isMinimized())
        assert window.inputs.drop.source == str(picture)
    finally:
        instance.close()


def test_a_launch_with_nobody_running_opens_its_own_window_then_lets_go(qtbot: Any, tmp_path: Path):
    make_image(tmp_path / "picture.png")
    code, out, err, _ = finish(qtbot, launch("--demo", "picture.png", cwd=tmp_path))
    assert code == 0, err
    assert out.splitlines() == ["window shown"]
    second = SingleInstance()  # it closed: the name is free again
    assert second.listen()
    second.close()


# -- the instance's socket: strangers, stale files, races -------------------------------------------------
@pytest.fixture
def instance(qapp: QApplication) -> Iterator[SingleInstance]:
    server = SingleInstance()
    assert server.listen() and server.is_listening()
    yield server
    server.close()


def in_thread(fn: Any, *args: Any) -> Future[Any]:
    """Run a blocking client beside the UI thread (which must go on serving), as a second process would."""
    pool = ThreadPoolExecutor(1)
    future = pool.submit(fn, *args)
    pool.shutdown(wait=False)
    return future


class RawClient:
    """A client that speaks the protocol by hand (or not at all), without blocking the test's UI thread."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.setblocking(False)
        self.received = b""
        self.closed = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def ended(self) -> bool:
        """Read what has arrived; True once the instance closed the connection."""
        while not self.closed:
            try:
                chunk = self.sock.recv(4096)
            except BlockingIOError:
                return False
            except ConnectionResetError:
                chunk = b""
            self.received += chunk
            self.closed = not chunk
        return True

    def close(self) -> None:
        self.sock.close()


def hand_over_from_a_thread(qtbot: Any, instance: SingleInstance, images: list[str]) -> list[str]:
    with qtbot.waitSignal(instance.activated, timeout=10000) as blocker:
        future = in_thread(hand_over, instance.name, images, False, 5.0)
        qtbot.waitUntil(future.done, timeout=10000)
    assert future.result() is True
    return list(blocker.args[0])


@pytest.mark.allow_log(r"Ignored a malformed message")
@pytest.mark.parametrize(
    "junk",
    [
        b"not json\n",
        b"\xff\xfe\x00garbage\n",
        b"[" * 50_000 + b"\n",  # nested too deep for the parser
        b'{"images": "picture.png"}\n',
        b'{"images": ["relative/picture.png"]}\n',
        b'["images"]\n',
    ],
)
def test_junk_gets_error_and_the_instance_goes_on(instance: SingleInstance, qtbot: Any, png: Path, junk: bytes):
    received: list[list[str]] = []
    instance.activated.connect(received.append)
    raw = RawClient(instance.server_path())
    try:
        raw.send(junk)
        qtbot.waitUntil(raw.ended)
        assert raw.received == b"error\n"
    finally:
        raw.close()
    assert received == []
    assert hand_over_from_a_thread(qtbot, instance, [str(png)]) == [str(png)]


@pytest.mark.allow_log(r"Ignored a message over 64 KiB")
def test_an_oversized_message_is_dropped_unread(instance: SingleInstance, qtbot: Any, png: Path):
    def flood() -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(instance.server_path())
            sock.settimeout(10)
            try:
                sock.sendall(b'{"images": ["/' + b"x" * (2 * MAX_MESSAGE) + b'"]}\n')
                return sock.recv(100)
            except OSError:  # the instance hung up on it mid-way
                return b""

    received: list[list[str]] = []
    instance.activated.connect(received.append)
    future = in_thread(flood)
    qtbot.waitUntil(future.done, timeout=10000)
    assert future.result() == b"" and received == []
    assert hand_over_from_a_thread(qtbot, instance, [str(png)]) == [str(png)]


def test_a_silent_connection_neither_blocks_others_nor_stays(instance: SingleInstance, qtbot: Any, png: Path):
    instance.connection_timeout = 0.5
    idle = RawClient(instance.server_path())
    try:
        idle.send(b'{"images": [')  # and then nothing more
        assert hand_over_from_a_thread(qtbot, instance, [str(png)]) == [str(png)]  # served meanwhile
        assert not idle.ended()
        qtbot.waitUntil(idle.ended, timeout=5000)  # dropped after its time, without an answer
        assert idle.received == b""
    finally:
        idle.close()


def test_a_long_list_of_files_is_cut_to_fit_one_message(instance: SingleInstance, qtbot: Any, tmp_path: Path):
    many = [str(tmp_path / f"{'p' * 200}-{i}.png") for i in range(1000)]  # about 250 KB of paths
    images = hand_over_from_a_thread(qtbot, instance, many)
    assert 0 < len(images) < len(many) and images == many[: len(images)]


def test_a_stale_socket_file_from_a_crash_is_taken_over(qapp: QApplication, qtbot: Any, png: Path):
    name = instance_name()
    path = os.path.join(QDir.tempPath(), name)
    crashed = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    crashed.bind(path)  # what a crashed instance leaves: the file, nobody listening
    crashed.close()
    assert os.path.exists(path)
    try:
        assert hand_over(name, [str(png)], timeout=1.0) is False  # refused at once: nobody listens
        instance = claim([str(png)])
        assert instance is not None and instance.is_listening()
        try:
            assert hand_over_from_a_thread(qtbot, instance, [str(png)]) == [str(png)]
        finally:
            instance.close()
        assert not os.path.exists(path)  # a clean exit leaves nothing behind
    finally:
        if os.path.exists(path):
            os.unlink(path)


def test_one_instance_per_data_folder_and_separate_folders_do_not_meet(qapp: QApplication, tmp_path: Path):
    first = SingleInstance()
    second = SingleInstance()
    try:
        assert first.listen()
        assert not second.listen()  # demo or live: one data folder, one window
        assert instance_name(tmp_path / "elsewhere") != instance_name() == instance_name(data_dir())
        first.close()
        assert second.listen()  # the next launch after the window closed
    finally:
        first.close()
        second.close()


def test_an_instance_that_does_not_answer_is_never_doubled(instance: SingleInstance, png: Path):
    # The test's own UI thread is busy right here, as a frozen window's would be: nothing serves the socket.
    started = time.monotonic()
    with pytest.raises(AlreadyRunning, match="already running"):
        claim([str(png)], timeout=0.3, patience=1.0)
    assert time.monotonic() - started < 5


def test_a_closing_window_answers_busy_so_the_launch_waits_for_it_to_go(window: MainWindow, qtbot: Any, png: Path):
    instance = SingleInstance()
    assert instance.listen()
    instance.attach(window)
    try:
        window.close()  # the shutdown starts: what arrives now would be lost with the window
        raw = RawClient(instance.server_path())
        try:
            raw.send(b'{"images": ["' + str(png).encode() + b'"], "demo": false}\n')
            qtbot.waitUntil(raw.ended)
            assert raw.received == b"busy\n"
        finally:
            raw.close()
        assert window.inputs.drop.source != str(png)
    finally:
        instance.close()


# -- run_gui itself, and the title --------------------------------------------------------------------------
def test_run_gui_opens_its_images_takes_later_ones_and_titles_say_each_thing_once(qapp: QApplication, tmp_path: Path):
    first = make_image(tmp_path / "first.png")
    later = make_image(tmp_path / "later.jpg", fmt="JPEG")
    seen: dict[str, Any] = {}

    def step() -> None:
        win = next((w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)
        if win is None or not win.is_ready() or win.inputs.drop.is_loading:
            return
        if "title" not in seen and win.inputs.drop.source == str(first):
            seen["title"] = win.windowTitle()
            seen["handover"] = in_thread(hand_over, instance_name(), [str(later)], False, 5.0)
        elif "handover" in seen and seen["handover"].done() and win.inputs.drop.source == str(later):
            seen["closed"] = True
            win.close()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(step)
    timer.start()
    try:
        assert main(["--demo", str(first)]) == 0
    finally:
        timer.stop()
    assert seen.get("closed") and seen["handover"].result() is True
    # Said once: Qt appends an application *display name* to every title on X11, and none is set.
    assert seen["title"] == f"{APP_NAME} — demo mode"
    app = ensure_app()
    assert app.applicationDisplayName() == APP_NAME
    app.setApplicationName("probe")  # an unset display name follows the application name; a set one would not
    try:
        assert app.applicationDisplayName() == "probe"
    finally:
        app.setApplicationName(APP_NAME)
    after = SingleInstance()  # the window closed: its name is free
    assert after.listen()
    after.close()
