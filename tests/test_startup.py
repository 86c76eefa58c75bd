"""Starting and stopping as a person sees it: the window comes first, the rest follows; closing ends the process.

The subprocess tests launch `python -m pixdesk` as the desktop does, with the start-up seams of `pixdesk.ui.app`
(PIXDESK_EXIT_WHEN_SHOWN: close the window once it is ready; PIXDESK_STARTUP_REPORT: when it became usable and
ready, and which modules were loaded then). No timings are asserted here: bench/bench_startup.py measures them.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.config import config_dir, data_dir, database_path, load_settings
from pixdesk.jobs import Job, JobState, JobStore
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 120.0  # s: generous; how quickly it happens is the benchmark's business
# Needed only once a clip plays, a job runs, the demo starts or the keychain is asked: never for the first frame.
# asyncio and qasync come once the window has painted (pixdesk.ui.app.run_gui), the parser only for commands.
NOT_FOR_THE_FIRST_FRAME = (
    "pixdesk.simulator",
    "av",
    "numpy",
    "keyring",
    "PySide6.QtMultimedia",
    "asyncio",
    "qasync",
    "pixdesk.cli",
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], dict[str, dict[str, Any]]]:
    """`python -m pixdesk` in this test's data folders; returns the finished process and its start-up events."""
    report = tmp_path / "startup.jsonl"
    full_env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PIXDESK_EXIT_WHEN_SHOWN": "1",
        "PIXDESK_STARTUP_REPORT": str(report),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "pixdesk"],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    events: dict[str, dict[str, Any]] = {}
    if report.exists():
        for line in report.read_text().splitlines():
            record = json.loads(line)
            events[record["event"]] = record
    return proc, events


def within(modules: Any, packages: tuple[str, ...]) -> list[str]:
    """The modules that are one of `packages` or inside one."""
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


def seed_history(count: int, backend: str) -> None:
    store = JobStore(database_path())
    try:
        for i in range(count):
            store.save(
                Job(
                    request=GenerationRequest(image=str(SAMPLES / "portrait.png"), prompt=f"earlier clip {i}"),
                    state=JobState.COMPLETED,
                    backend=backend,
                    created_at=time.time() - 3600 - i,
                )
            )
    finally:
        store.close()


def test_a_live_window_shows_before_the_simulator_pyav_or_the_keychain_are_loaded(tmp_path: Path):
    proc, events = launch(tmp_path, AIMLAPI_KEY="sk-startup-test", AIMLAPI_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["window shown"]
    loaded = set(events["usable"]["modules"])
    assert "pixdesk.ui.main_window" in loaded  # the report really was written from the window
    assert not within(loaded, NOT_FOR_THE_FIRST_FRAME)
    # The Qt-free modules came before PySide6, whose import hook makes every later import slower.
    assert events["usable"]["after_qt"] == []
    # The Qt classes made by the first frame (what the benchmark's floor window makes too): Qt Multimedia's wait.
    made = events["usable"]["qt_classes"]
    assert {"QMainWindow", "QListView", "QComboBox"} <= set(made["PySide6.QtWidgets"])
    assert not within(made, ("PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets"))
    # Live mode never needs the simulator, even once the history is loaded and the jobs resumed.
    assert not within(events["ready"]["modules"], ("pixdesk.simulator", "av"))


def test_the_http_stack_and_image_decoding_wait_for_the_first_frame_too(tmp_path: Path):
    """requests and Pillow come with the job engine, which the window makes once it is on screen. That holds
    as soon as the `pixdesk.api` and `pixdesk.jobs` packages stop importing their heavy modules in `__init__`."""
    probe = "import sys, pixdesk.api.catalogue, pixdesk.jobs.models; print('requests' in sys.modules)"
    eager = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=DEADLINE)
    if eager.stdout.strip() == "True":
        pytest.skip("pixdesk.api / pixdesk.jobs still import the HTTP stack when any of their modules is imported")
    proc, events = launch(tmp_path, AIMLAPI_KEY="sk-startup-test", AIMLAPI_BASE_URL=f"http://127.0.0.1:{closed_port()}")
    assert proc.returncode == 0, proc.stderr
    assert not within(events["usable"]["modules"], ("requests", "urllib3", "PIL", "pixdesk.jobs.engine"))
    assert within(events["ready"]["modules"], ("pixdesk.jobs.engine",))


def test_demo_mode_starts_the_simulator_after_the_window_shows_and_then_is_ready(tmp_path: Path):
    seed_history(3, backend="demo")
    proc, events = launch(tmp_path)  # no key anywhere: demo mode
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["window shown"]
    # Neither the simulator nor the keychain (no key in the environment: the saved key is looked for once the
    # window is on screen).
    assert not within(events["usable"]["modules"], NOT_FOR_THE_FIRST_FRAME)
    assert "pixdesk.simulator" in events["ready"]["modules"]  # it came up, and the start-up went through it
    assert events["usable"]["monotonic"] <= events["ready"]["monotonic"] <= events["closing"]["monotonic"]


def test_closing_ends_the_process_with_everything_saved_and_the_job_store_closed(tmp_path: Path):
    backend = f"http://127.0.0.1:{closed_port()}"
    seed_history(5, backend=backend)
    proc, events = launch(tmp_path, AIMLAPI_KEY="sk-startup-test", AIMLAPI_BASE_URL=backend)
    assert proc.returncode == 0, proc.stderr  # it ended by itself, within the (generous) deadline
    assert "closing" in events
    # The careful part of the close still happened before the process ended.
    assert "geometry" in load_settings().ui  # the window's size and place were saved
    assert not Path(str(database_path()) + "-wal").exists()  # the store was closed, its log checkpointed
    with sqlite3.connect(database_path()) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    store = JobStore(database_path())
    try:
        assert len(store.all()) == 5
    finally:
        store.close()
    assert (data_dir() / "logs").is_dir()
    assert config_dir().is_dir()


def test_work_still_running_at_exit_is_waited_for_not_cut_off(tmp_path: Path):
    """Even after a quiet close, a thread still writing (a clip being saved, say) makes the exit wait for it."""
    written = tmp_path / "saved.txt"
    script = textwrap.dedent(
        f"""
        import threading, time
        from pixdesk.ui import app

        app._quiet_close = True  # as after a window that closed with no job in flight

        def save():
            time.sleep(2 * app.SETTLE_SECONDS)  # longer than the exit waits before leaving it to the interpreter
            with open({str(written)!r}, "w") as fh:
                fh.write("all of it")

        threading.Thread(target=save, name="a save").start()
        app.end_process(0)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert proc.returncode == 0, proc.stderr
    assert written.read_text() == "all of it"


def test_history_appears_once_the_window_has_started(qtbot: Any, qloop: Any, sim: Any, monkeypatch: Any):
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow
    from tests.conftest import TEST_KEY, ScriptedPrompter

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    seed_history(4, backend=sim.url)
    runtime = Runtime(load_settings())
    win = MainWindow(runtime)
    win.controller.prompter = ScriptedPrompter()  # type: ignore[assignment]
    win.show()
    try:
        qtbot.waitUntil(win.is_ready)
        assert win.is_usable()
        assert win.model.rowCount() == 4
        assert {win.model.job_at(r).request.prompt for r in range(4)} == {f"earlier clip {i}" for i in range(4)}
        assert not win.player_panel.has_media()  # nothing played yet: Qt Multimedia is not even loaded for it
    finally:
        win.close()
        qtbot.waitUntil(win.is_closed, timeout=15000)
        win.deleteLater()
        runtime.close()


def test_a_window_closed_before_its_loop_is_attached_closes_once_it_is(qtbot: Any, qloop: Any, monkeypatch: Any):
    """run_gui paints the window before asyncio exists; a close asked for in that instant (the desktop's close
    button) is not lost: the window closes as soon as the loop is there, with nothing left running."""
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow

    monkeypatch.setenv("AIMLAPI_KEY", "sk-startup-test")
    monkeypatch.setenv("AIMLAPI_BASE_URL", f"http://127.0.0.1:{closed_port()}")
    runtime = Runtime(load_settings())
    win = MainWindow(runtime, attach_loop=False)
    win.show()
    try:
        qtbot.waitUntil(win.is_usable)
        win.close()
        assert win.isVisible() and not win.is_closed()  # nothing can shut down without the loop yet
        win.attach_loop()
        qtbot.waitUntil(win.is_closed, timeout=15000)
        assert not win.isVisible()
        assert win.jobs_running_at_close == 0
    finally:
        win.deleteLater()
        runtime.close()


def test_a_demo_job_asked_for_the_moment_the_window_opens_waits_for_the_simulator_and_completes(
    qtbot: Any, qloop: Any, png: Path
):
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow
    from tests.conftest import ScriptedPrompter
    from tests.helpers import FAST_POLL, FAST_RETRY

    options = {"queue_seconds": 0.2, "generate_seconds": 0.3}
    runtime = Runtime(load_settings(), demo=True, simulator_options=options, start_simulator=False)
    assert runtime.simulator is None  # as the app starts: the simulator comes once the window is up
    win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
    win.controller.prompter = ScriptedPrompter()  # type: ignore[assignment]
    win.show()
    try:
        win.generate(GenerationRequest(image=str(png), prompt="right away", resolution="360p"))
        qtbot.waitUntil(lambda: win.model.rowCount() == 1, timeout=30000)
        qtbot.waitUntil(lambda: win.model.job_at(0).state is JobState.COMPLETED, timeout=60000)
        assert runtime.simulator is not None and runtime.simulator.create_requests == 1
        assert win.windowTitle().startswith("PixDesk — demo mode")
        assert win.banner.isVisible()
    finally:
        win.close()
        qtbot.waitUntil(win.is_closed, timeout=15000)
        win.deleteLater()
        runtime.close()


def test_the_demo_key_named_in_the_runtime_is_the_simulators():
    from pixdesk.runtime import DEMO_KEY
    from pixdesk.simulator import DEMO_KEY as SIMULATOR_DEMO_KEY

    assert DEMO_KEY == SIMULATOR_DEMO_KEY


def test_the_default_address_named_in_the_settings_is_the_clients():
    from pixdesk.api.client import DEFAULT_BASE_URL as CLIENT_DEFAULT
    from pixdesk.config import DEFAULT_BASE_URL

    assert DEFAULT_BASE_URL == CLIENT_DEFAULT


def test_the_command_names_known_before_the_parser_is_built_are_its_commands():
    from pixdesk.cli import build_parser
    from pixdesk.launch import COMMANDS

    assert set(COMMANDS) == set(build_parser().commands)


@pytest.mark.parametrize("argv", [["--he"], ["-h", "photo.png"]])
def test_help_on_the_window_path_still_lists_the_commands(argv: list[str], capsys: pytest.CaptureFixture[str]):
    from pixdesk.launch import main  # the console script's path: help is the full parser's

    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "COMMAND" in out and "generate" in out
