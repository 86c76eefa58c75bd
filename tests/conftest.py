"""Fixtures that build real objects: a real simulator on loopback, real clients, real files."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image, ImageDraw

from pixdesk.api.client import ApiClient
from pixdesk.simulator import Simulator

if TYPE_CHECKING:
    from pixdesk.ui.main_window import MainWindow

WindowMaker = Callable[[], "MainWindow"]

TEST_KEY = "sk-test-7f3a9c1e5b2d4f6a8c0e"
SAMPLES = Path(__file__).resolve().parents[1] / "resources" / "samples"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data/config/cache folders and no key from the developer's machine."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_STATE_HOME", "state"),
    ):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("AIMLAPI_KEY", raising=False)
    monkeypatch.delenv("AIMLAPI_BASE_URL", raising=False)
    return home


class _LogWatch(logging.Handler):
    """Collects WARNING and above from every logger while a test runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_log(request: pytest.FixtureRequest) -> Iterator[_LogWatch]:
    """A test fails when the app logs a warning or error it did not expect (as qutebrowser's suite does).

    Expected ones are declared with `@pytest.mark.allow_log(r"regex", ...)`, matched against the message.
    """
    watch = _LogWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    previous = root.level
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        root.setLevel(previous)
    allowed = [re.compile(p) for m in request.node.iter_markers("allow_log") for p in m.args]
    unexpected = [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in watch.records
        if not any(p.search(r.getMessage()) for p in allowed)
    ]
    if unexpected:
        pytest.fail("unexpected log messages:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(queue_seconds=0.2, generate_seconds=0.3) as server:
        yield server


@pytest.fixture
def live(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """The CLI talks to the simulator as if it were the real API (key and base URL from the environment)."""
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    return sim


@pytest.fixture
def client(sim: Simulator) -> Iterator[ApiClient]:
    api = ApiClient(sim.url, TEST_KEY)
    yield api
    api.close()


def make_image(
    path: Path, size: tuple[int, int] = (640, 480), fmt: str | None = None, mode: str = "RGB", **save: object
) -> Path:
    color: tuple[int, ...] = (40, 120, 200) if mode == "RGB" else (40, 120, 200, 0)
    img = Image.new(mode, size, color)
    draw = ImageDraw.Draw(img)
    draw.ellipse(
        (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4),
        fill=(250, 200, 60) if mode == "RGB" else (250, 200, 60, 255),
    )
    img.save(path, fmt, **save)
    return path


@pytest.fixture
def png(tmp_path: Path) -> Path:
    return make_image(tmp_path / "picture.png")


def png_bytes(size: tuple[int, int] = (320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


# -- GUI fixtures --------------------------------------------------------------------------------
@pytest.fixture
def qloop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """asyncio on Qt's loop, already 'running' so coroutines advance while pytest-qt processes events."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def window(qtbot, qloop, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    from pixdesk.config import load_settings
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow
    from tests.helpers import FAST_POLL, FAST_RETRY

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    runtime = Runtime(load_settings())
    win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
    win.show()  # not qtbot.addWidget: pytest-qt would delete it before its own (asynchronous) close ends
    prompter = ScriptedPrompter()
    win.controller.prompter = prompter
    qtbot.waitUntil(win.is_ready)
    yield win
    prompter.fail_on_unexpected = False  # tearing down: quit even with jobs running
    prompter.default = True
    win.close()
    qtbot.waitUntil(win.is_closed, timeout=15000)
    win.deleteLater()
    runtime.close()


class ScriptedPrompter:
    """Stands in for the window's dialogs (the controller's public `prompter` seam): answers come from
    `answers` in order; every question is recorded in `asked`; an unscripted question fails the test."""

    def __init__(self) -> None:
        self.answers: list[object] = []
        self.asked: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []
        self.save_paths_offered: list[str] = []  # the default path each save dialog opened with
        self.default = False
        self.fail_on_unexpected = True

    def _answer(self, title: str, text: str) -> object:
        self.asked.append((title, text))
        if self.answers:
            return self.answers.pop(0)
        if self.fail_on_unexpected:
            pytest.fail(f"unexpected question: {title}: {text}")
        return self.default

    def confirm(self, title: str, text: str, yes: str = "Yes") -> bool:
        return bool(self._answer(title, text))

    def confirm_remove_finished(self, title: str, text: str, also: str) -> tuple[bool, bool]:
        answer = self._answer(title, text)
        return answer if isinstance(answer, tuple) else (bool(answer), False)

    def warn(self, title: str, text: str) -> None:
        self.warnings.append((title, text))

    def ask_save_path(self, title: str, default_path: str, filter: str) -> str:
        """The save dialog: records (title, default path offered) in `asked` and in `save_paths_offered`; the
        answer is the next scripted one (a path, or "" for Cancel). Unscripted, it fails the test — unless the
        test replaced QFileDialog.getSaveFileName itself (as older tests do), whose answer is then used."""
        import inspect

        from PySide6.QtWidgets import QFileDialog

        self.save_paths_offered.append(default_path)
        if not self.answers and not inspect.isbuiltin(QFileDialog.getSaveFileName):
            self.asked.append((title, default_path))
            path, _ = QFileDialog.getSaveFileName(None, title, default_path, filter)
            return str(path)
        answer = self._answer(title, default_path)
        return answer if isinstance(answer, str) else ""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Collect Qt wrappers while the QApplication still exists, not during interpreter shutdown."""
    import gc

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.processEvents()
        gc.collect()
        app.processEvents()


# -- windows opened one after the other on the same data folder ------------------------------------------
@pytest.fixture
def windows(qtbot: Any, qloop: Any, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[WindowMaker]:
    """Open windows one after the other on the same data folder (a restart is closing one and opening the next);
    each closes the way a person quits."""
    from pixdesk.config import load_settings
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow
    from tests.helpers import FAST_POLL, FAST_RETRY

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    sim.queue_seconds, sim.generate_seconds = 0, 0
    made: list[tuple[MainWindow, Runtime]] = []

    def make() -> MainWindow:
        runtime = Runtime(load_settings())
        win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
        win.controller.prompter = ScriptedPrompter()  # type: ignore[assignment]
        win.show()
        qtbot.waitUntil(win.is_ready)
        made.append((win, runtime))
        return win

    yield make
    for win, runtime in made:
        close(qtbot, win)
        runtime.close()


def close(qtbot: Any, win: MainWindow) -> None:
    """Quit the way a person does (once: a window closed by the test is not closed again)."""
    import shiboken6

    if not shiboken6.isValid(win) or win.is_closed():
        return
    prompter = win.controller.prompter
    assert isinstance(prompter, ScriptedPrompter)
    prompter.fail_on_unexpected, prompter.default = False, True
    if not win.is_closed():
        win.close()
    qtbot.waitUntil(win.is_closed, timeout=15000)
    win.deleteLater()
