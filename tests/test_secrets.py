"""The API key is a secret: it never reaches files the app writes, logs, reprs or the window title."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from pixdesk.cli import main
from pixdesk.keystore import KeyStore
from pixdesk.simulator import Simulator
from pixdesk.ui.main_window import MainWindow
from tests.conftest import SAMPLES, TEST_KEY
from tests.gui_helpers import drop_file, find


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_no_file_the_app_wrote_contains_the_key(
    qtbot, window: MainWindow, sim: Simulator, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    sim.api_key = TEST_KEY  # the server checks it: the jobs below really authenticate with it
    # GUI: one job end to end, then a save
    assert drop_file(find(window, "imageDrop"), SAMPLES / "portrait.png")
    qtbot.waitUntil(lambda: window.inputs.drop.source is not None)
    qtbot.keyClicks(find(window, "promptEdit"), "Secret-free please")
    qtbot.mouseClick(find(window, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.model.rowCount() == 1 and window.model.job_at(0).state.value == "completed", timeout=30000
    )
    assert TEST_KEY not in window.windowTitle()
    window.close()
    qtbot.waitUntil(lambda: window._closed.done(), timeout=10000)
    asyncio.events._set_running_loop(None)  # the CLI runs its own loop, as in a separate process
    # CLI: a job with --json output, the job list, a failing call whose error is printed
    out = tmp_path / "cli.mp4"
    assert (
        main(
            [
                "generate",
                str(SAMPLES / "sunset-mountains.jpg"),
                "--prompt",
                "CLI job",
                "--resolution",
                "360p",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    assert main(["jobs", "--json"]) == 0
    sim.inject("status", "create", status=401)
    assert main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "refused", "--out", str(tmp_path)]) == 3

    written = files_under(isolated_env, tmp_path)
    names = {p.name for p in written}
    assert "jobs.sqlite3" in names and "pixdesk.log" in names and "settings.json" in names
    assert any(p.suffix == ".json" and p.parent.name == "videos" for p in written)
    leaks = [p for p in written if TEST_KEY.encode() in p.read_bytes()]
    assert leaks == []
    log = next(p for p in written if p.name == "pixdesk.log").read_text()
    assert "completed" in log  # the log is real, and still has no key


def test_keystore_falls_back_to_a_user_only_file_and_says_so(isolated_env: Path):
    store = KeyStore()
    assert not store.use_keyring  # the test environment has no keychain (fail backend)
    store.set("sk-live-123456")
    mode = stat.S_IMODE(os.stat(store.fallback_file).st_mode)
    assert mode == 0o600
    assert store.get() == "sk-live-123456"
    assert "readable only by you" in store.backend_description
    store.delete()
    assert store.get() is None and not store.fallback_file.exists()


def test_environment_key_overrides_saved_key(isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    store = KeyStore()
    store.set("saved-key-abcdef")
    monkeypatch.setenv("AIMLAPI_KEY", "env-key-123456")
    assert store.get() == "env-key-123456"
    assert "AIMLAPI_KEY" in store.backend_description


def test_log_filter_redacts_keys_and_bearer_headers(isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    import logging

    from pixdesk.logs import RedactingFilter

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    record = logging.LogRecord(
        "pixdesk", logging.INFO, __file__, 1, "sent %s with Authorization: Bearer abc.def", (TEST_KEY,), None
    )
    RedactingFilter().filter(record)
    assert TEST_KEY not in record.getMessage() and "abc.def" not in record.getMessage()
