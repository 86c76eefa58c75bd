"""What the window says at start when something on disk is wrong: it reports, then carries on."""

from __future__ import annotations

import pytest

from pixdesk.config import database_path, load_settings
from pixdesk.runtime import Runtime
from pixdesk.simulator import Simulator
from pixdesk.ui.main_window import MainWindow
from tests.conftest import TEST_KEY, ScriptedPrompter
from tests.helpers import FAST_POLL, FAST_RETRY


@pytest.mark.allow_log(r"job database was damaged")
def test_a_damaged_job_database_is_reported_in_one_sentence_and_the_window_works(
    qtbot, qloop, sim: Simulator, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    database_path().parent.mkdir(parents=True, exist_ok=True)
    database_path().write_bytes(b"this is not a database, it was damaged by a crash" * 100)

    runtime = Runtime(load_settings())
    win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
    win.controller.prompter = ScriptedPrompter()
    win.show()
    try:
        qtbot.waitUntil(win.is_ready)
        text = win.banner_text.text()
        assert win.banner.isVisible() and "damaged" in text and ".damaged-" in text
        moved = list(database_path().parent.glob("jobs.sqlite3.damaged-*"))
        assert len(moved) == 1 and moved[0].name in text
        assert win.model.rowCount() == 0 and win.engine.running_count() == 0  # a fresh, working store
    finally:
        win.close()
        qtbot.waitUntil(win.is_closed, timeout=15000)
        win.deleteLater()
        runtime.close()


def test_a_locked_keychain_at_start_means_demo_mode_and_the_banner_says_why(qtbot, qloop):
    from pixdesk.keystore import KeyStore
    from tests.test_secrets import LockedKeyring

    runtime = Runtime(load_settings(), keystore=KeyStore(backend=LockedKeyring()))
    win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
    win.controller.prompter = ScriptedPrompter()
    win.show()
    try:
        qtbot.waitUntil(win.is_ready)
        assert runtime.demo and win.windowTitle().startswith("PixDesk")
        text = win.banner_text.text()
        assert win.banner.isVisible() and "could not be read" in text and "Unlock" in text
    finally:
        win.close()
        qtbot.waitUntil(win.is_closed, timeout=15000)
        win.deleteLater()
        runtime.close()
