"""Fixtures that build real objects: a real simulator on loopback, real clients, real files."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from pixdesk.api.client import ApiClient
from pixdesk.simulator import Simulator

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


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(queue_seconds=0.2, generate_seconds=0.3) as server:
        yield server


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
def window(qtbot, qloop, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:  # noqa: F821
    from pixdesk.config import load_settings
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow
    from tests.helpers import FAST_POLL, FAST_RETRY

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    runtime = Runtime(load_settings())
    win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win._ready)
    yield win
    for job in win.model.jobs():
        win.engine.cancel(job.id)
    win.close()
    qtbot.waitUntil(lambda: win._closed.done(), timeout=10000)
    runtime.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Collect Qt wrappers while the QApplication still exists, not during interpreter shutdown."""
    import gc

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.processEvents()
        gc.collect()
        app.processEvents()
