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


# -- the saved key, read after the first frame (Runtime(key_later=True), as run_gui makes it) ----------------------
class CountingKeyring:
    """A keychain holding `key` that counts its reads (a real KeyringBackend, from tests.test_secrets)."""

    def __new__(cls, key: str | None):  # type: ignore[no-untyped-def]
        from tests.test_secrets import MemoryKeyring

        class Counting(MemoryKeyring):
            reads = 0

            def get_password(self, service: str, username: str) -> str | None:
                Counting.reads += 1
                return super().get_password(service, username)

        backend = Counting()
        if key:
            backend.set_password("pixdesk", "aimlapi", key)
        return backend


def open_deferred(qtbot, sim: Simulator, key: str | None, hint: bool | None):  # type: ignore[no-untyped-def]
    from pixdesk.keystore import KeyStore
    from pixdesk.runtime import KEY_HINT

    settings = load_settings()
    settings.base_url = sim.url
    if hint is not None:
        settings.ui[KEY_HINT] = hint
    backend = CountingKeyring(key)
    runtime = Runtime(settings, keystore=KeyStore(backend=backend), key_later=True)
    assert backend.reads == 0  # nothing read before the window
    win = MainWindow(runtime, engine_options={"poll_policy": FAST_POLL, "retry_policy": FAST_RETRY})
    win.controller.prompter = ScriptedPrompter()
    return runtime, win, backend


def close_deferred(qtbot, runtime: Runtime, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    win.close()
    qtbot.waitUntil(win.is_closed, timeout=15000)
    win.deleteLater()
    runtime.close()


def test_a_saved_key_found_after_the_first_frame_turns_a_first_run_live(qtbot, qloop, sim: Simulator):
    """No hint yet (the first run with this version): the window opens as demo, reads the keychain once it is on
    screen, and is live before it is ready; the next start guesses live from the start."""
    from pixdesk.runtime import KEY_HINT

    runtime, win, backend = open_deferred(qtbot, sim, TEST_KEY, hint=None)
    assert runtime.demo and win.banner.isVisibleTo(win)  # the guess, shown in the first frame
    win.show()
    try:
        qtbot.waitUntil(win.is_ready)
        assert backend.reads >= 1
        assert not runtime.demo and not win.banner.isVisible()
        assert win.mode_label.text().startswith("● Live")
        assert not win.windowTitle().endswith("demo mode")
        assert win.engine.client is runtime.client and runtime.connection.api_key == TEST_KEY
        assert runtime.settings.ui[KEY_HINT] is True  # saved with the settings at close
    finally:
        close_deferred(qtbot, runtime, win)


def test_a_live_guess_with_the_key_gone_becomes_demo_with_the_simulator(qtbot, qloop, sim: Simulator):
    runtime, win, _ = open_deferred(qtbot, sim, None, hint=True)
    assert not runtime.demo and not win.banner.isVisibleTo(win)  # live, as the last run found
    win.show()
    try:
        qtbot.waitUntil(win.is_ready, timeout=20000)
        assert runtime.demo and win.banner.isVisible() and "Demo mode" in win.banner_text.text()
        assert win.windowTitle().endswith("demo mode")
        assert runtime.simulator is not None and runtime.connection.base_url == runtime.simulator.url
    finally:
        close_deferred(qtbot, runtime, win)


def test_the_environment_key_or_demo_mode_never_wait_for_the_keychain(monkeypatch: pytest.MonkeyPatch):
    from pixdesk.keystore import KeyStore

    backend = CountingKeyring("sk-saved-in-keychain")
    monkeypatch.setenv("AIMLAPI_KEY", "sk-from-the-environment")
    runtime = Runtime(load_settings(), keystore=KeyStore(backend=backend), key_later=True)
    try:
        assert runtime.key_known() and not runtime.demo
        assert runtime.connection.api_key == "sk-from-the-environment" and backend.reads == 0
    finally:
        runtime.close()
    monkeypatch.delenv("AIMLAPI_KEY")
    runtime = Runtime(load_settings(), demo=True, keystore=KeyStore(backend=backend), key_later=True)
    try:
        assert runtime.key_known() and runtime.demo and backend.reads == 0
    finally:
        runtime.close()


def test_pausing_before_the_key_is_read_gives_an_engine_of_the_right_mode_that_starts_paused(
    qtbot, qloop, sim: Simulator
):
    """Found in review: Pause queue in the first instant made the engine before the saved key was read, with the
    demo guess's backend and prices but the live key: paid jobs would have been kept as demo ones."""
    runtime, win, _ = open_deferred(qtbot, sim, TEST_KEY, hint=None)  # guess demo; the keychain says live
    win.set_queue_paused(True)
    win.show()
    try:
        qtbot.waitUntil(win.is_ready, timeout=20000)
        assert not runtime.demo
        assert win.engine.backend == runtime.backend == sim.url and win.engine.prices is runtime.prices
        assert win.engine.queue_paused
    finally:
        close_deferred(qtbot, runtime, win)


def test_images_handed_over_before_the_loop_is_attached_are_opened_once_it_is(qtbot, qloop, png):  # type: ignore[no-untyped-def]
    runtime = Runtime(load_settings(), demo=True, start_simulator=False)
    win = MainWindow(runtime, attach_loop=False)
    win.show()
    try:
        qtbot.waitUntil(win.is_usable)
        win.open_images([str(png)])  # a second launch's images, in the first instant
        win.attach_loop()
        qtbot.waitUntil(lambda: win.inputs.images() == [str(png)], timeout=10000)
    finally:
        close_deferred(qtbot, runtime, win)
