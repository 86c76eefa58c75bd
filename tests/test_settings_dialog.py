"""The settings dialog never touches the keychain on the UI thread, and saving the key asks before a plain file."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from pixdesk.config import Settings, settings_path
from pixdesk.keystore import KeyStore
from pixdesk.simulator import Simulator
from pixdesk.ui.settings_dialog import SettingsDialog, save_settings_async, store_key
from pixdesk.ui.tasks import spawn
from tests.conftest import TEST_KEY
from tests.test_secrets import LockedKeyring, MemoryKeyring

T = TypeVar("T")


def run(qtbot, coro: Coroutine[Any, Any, T]) -> T:
    """Drive a coroutine on the Qt-hosted asyncio loop (the `qloop` fixture) until it is done."""
    task = spawn(coro)
    qtbot.waitUntil(task.done, timeout=10000)
    return task.result()


class Asker:
    """The `ask` seam: answers every question with `answer` and remembers what it was asked."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.questions: list[tuple[str, str]] = []

    def __call__(self, title: str, text: str) -> bool:
        self.questions.append((title, text))
        return self.answers.pop(0)


def open_dialog(qtbot, keystore: KeyStore, settings: Settings | None = None) -> SettingsDialog:
    dialog = SettingsDialog(settings or Settings(), keystore)
    qtbot.addWidget(dialog)
    return dialog


# -- the dialog ----------------------------------------------------------------------------------------------------
def test_dialog_opens_at_once_and_loads_the_key_off_the_ui_thread(qtbot, qloop):
    backend = MemoryKeyring()
    backend.passwords[("pixdesk", "aimlapi")] = "sk-saved-123456"
    dialog = open_dialog(qtbot, KeyStore(backend=backend))
    assert backend.threads == []  # construction did not touch the keychain
    assert not dialog.key_loaded
    assert dialog.key.placeholderText() == "Loading…" and not dialog.key.isEnabled()
    assert not dialog.key_changed()  # accepting now would not overwrite the saved key with ""

    with qtbot.waitSignal(dialog.key_load_finished, timeout=10000):
        pass
    assert dialog.key_loaded
    assert backend.threads and all(t is not threading.main_thread() for t in backend.threads)
    assert dialog.key.text() == "sk-saved-123456" and dialog.key.isEnabled()
    assert dialog.key.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.key.placeholderText() != "Loading…"
    assert not dialog.key_changed()
    dialog.key.setText("sk-new-654321")
    assert dialog.key_changed() and dialog.new_key() == "sk-new-654321"
    assert "system keychain" in dialog.storage.text()


def test_dialog_says_when_the_keychain_is_locked(qtbot, qloop):
    dialog = open_dialog(qtbot, KeyStore(backend=LockedKeyring()))
    qtbot.waitUntil(lambda: dialog.key_loaded, timeout=10000)
    assert dialog.key.text() == "" and dialog.key.isEnabled()
    assert "locked" in dialog.storage.text()
    assert "locked" in dialog.test_result.text()


def test_dialog_title_and_demo_checkbox_follow_the_settings(qtbot, qloop):
    for demo in (True, False):
        dialog = open_dialog(qtbot, KeyStore(), Settings(demo_mode=demo, max_in_flight=7))
        assert dialog.windowTitle() == "Settings"
        assert dialog.demo.isChecked() is demo
        assert dialog.in_flight.value() == 7
        qtbot.waitUntil(lambda d=dialog: d.key_loaded, timeout=10000)


def test_focus_returns_to_the_key_field_after_test_key(qtbot, qloop, sim: Simulator):
    sim.api_key = TEST_KEY
    backend = MemoryKeyring()
    backend.passwords[("pixdesk", "aimlapi")] = TEST_KEY
    dialog = open_dialog(qtbot, KeyStore(backend=backend), Settings(base_url=sim.url))
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.key_loaded, timeout=10000)
    dialog.test.setFocus()
    qtbot.mouseClick(dialog.test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Balance" in dialog.test_result.text(), timeout=10000)
    qtbot.waitUntil(lambda: dialog.focusWidget() is dialog.key)
    assert dialog.test.isEnabled()


# -- saving the key ------------------------------------------------------------------------------------------------
def test_no_keychain_declined_writes_nothing(qtbot, qloop, isolated_env: Path):
    store = KeyStore()
    ask = Asker(False)
    message = run(qtbot, store_key(None, store, "sk-live-123456", ask=ask))
    assert message and "not saved" in message
    assert len(ask.questions) == 1 and str(store.fallback_file) in ask.questions[0][1]
    assert not store.fallback_file.exists()
    assert store.get() is None


def test_no_keychain_agreed_writes_a_user_only_file(qtbot, qloop, isolated_env: Path):
    store = KeyStore()
    ask = Asker(True)
    assert run(qtbot, store_key(None, store, "sk-live-123456", ask=ask)) is None
    assert stat.S_IMODE(os.stat(store.fallback_file).st_mode) == 0o600
    assert store.get() == "sk-live-123456"


def test_locked_keychain_cancelled_returns_the_message_and_writes_nothing(qtbot, qloop, isolated_env: Path):
    backend = LockedKeyring()
    store = KeyStore(backend=backend)
    ask = Asker(False)
    message = run(qtbot, store_key(None, store, "sk-live-123456", ask=ask))
    assert message and "locked" in message and "not saved" in message
    assert len(ask.questions) == 1 and "locked" in ask.questions[0][1]
    assert not store.fallback_file.exists() and backend.passwords == {}


def test_locked_keychain_retry_after_unlocking_saves_to_the_keychain(qtbot, qloop, isolated_env: Path):
    backend = LockedKeyring()
    store = KeyStore(backend=backend)

    def unlock_and_retry(title: str, text: str) -> bool:
        backend.locked = False  # the user unlocked it while the message box was up
        return True

    assert run(qtbot, store_key(None, store, "sk-live-123456", ask=unlock_and_retry)) is None
    assert backend.passwords == {("pixdesk", "aimlapi"): "sk-live-123456"}
    assert not store.fallback_file.exists()
    assert all(t is not threading.main_thread() for t in backend.threads)


def test_working_keychain_saves_without_asking(qtbot, qloop, isolated_env: Path):
    backend = MemoryKeyring()
    ask = Asker()  # any question would fail: nothing to pop
    assert run(qtbot, store_key(None, KeyStore(backend=backend), "sk-live-123456", ask=ask)) is None
    assert backend.passwords == {("pixdesk", "aimlapi"): "sk-live-123456"}


def test_save_settings_async_writes_the_file(qtbot, qloop, isolated_env: Path):
    settings = Settings(max_in_flight=3, demo_mode=True)
    run(qtbot, save_settings_async(settings))
    saved = json.loads(settings_path().read_text(encoding="utf-8"))
    assert saved["max_in_flight"] == 3 and saved["demo_mode"] is True
