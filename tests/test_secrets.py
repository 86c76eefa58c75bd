"""The API key is a secret: it never reaches files the app writes, logs, reprs or the window title."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import InitError, KeyringLocked, PasswordDeleteError
from PySide6.QtCore import Qt

from pixdesk.api.errors import PixDeskError
from pixdesk.cli import main
from pixdesk.keystore import KeychainLocked, KeyStore, NoKeychain
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


# -- keychain backends for tests: real keyring backends, selected per KeyStore or globally -------------------------
class MemoryKeyring(KeyringBackend):
    """A working keychain that records which thread touched it."""

    priority = 5

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}
        self.threads: list[threading.Thread] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.append(threading.current_thread())
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.threads.append(threading.current_thread())
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.threads.append(threading.current_thread())
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """A keychain that exists but is locked (as Secret Service answers while the login keyring is locked)."""

    locked = True

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise KeyringLocked("Failed to unlock the collection!")
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.locked:
            raise KeyringLocked("Failed to unlock the collection!")
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        if self.locked:
            raise KeyringLocked("Failed to unlock the collection!")
        super().delete_password(service, username)


class DismissedKeyring(MemoryKeyring):
    """A real backend failing with its own error type (a dbus prompt the user dismissed)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.Secret.Error.IsLocked: Prompt dismissed")


@pytest.fixture
def global_keyring() -> Iterator[Callable[[KeyringBackend], None]]:
    """Select a backend through keyring.set_keyring (what keyring.get_keyring returns); restored afterwards."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_no_keychain_writes_a_user_only_file_only_when_allowed_and_says_so(isolated_env: Path):
    store = KeyStore()
    assert not store.use_keyring  # the test environment has no keychain (fail backend)
    assert store.state == "none"
    with pytest.raises(NoKeychain) as raised:
        store.set("sk-live-123456")
    assert isinstance(raised.value, PixDeskError)
    assert "No system keychain is available" in raised.value.message
    assert str(store.fallback_file) in raised.value.message
    assert not store.fallback_file.exists()

    store.set("sk-live-123456", allow_plain_file=True)
    assert mode_of(store.fallback_file) == 0o600
    assert store.get() == "sk-live-123456"
    assert store.state == "none"
    assert "readable only by you" in store.backend_description
    store.delete()
    assert store.get() is None and not store.fallback_file.exists()


def test_environment_key_overrides_saved_key(isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    store = KeyStore()
    store.set("saved-key-abcdef", allow_plain_file=True)
    monkeypatch.setenv("AIMLAPI_KEY", "env-key-123456")
    assert store.get() == "env-key-123456"
    assert store.state == "environment"
    assert "AIMLAPI_KEY" in store.backend_description


def test_locked_keychain_refuses_to_save_and_writes_no_plain_file(isolated_env: Path):
    backend = LockedKeyring()
    store = KeyStore(backend=backend)
    assert store.use_keyring and store.state == "keychain"
    for allow in (False, True):  # even with consent to a file: a locked keychain is not "no keychain"
        with pytest.raises(KeychainLocked) as raised:
            store.set("sk-live-123456", allow_plain_file=allow)
        assert isinstance(raised.value, PixDeskError)
        assert "locked or refused access" in raised.value.message and "not saved" in raised.value.message
        assert not store.fallback_file.exists()
        assert files_under(isolated_env) == []
    assert store.state == "locked"
    assert "locked" in store.backend_description
    assert store.last_error and "locked" in store.last_error

    backend.locked = False  # the user unlocks the keychain and tries again
    store.set("sk-live-123456")
    assert backend.passwords == {("pixdesk", "aimlapi"): "sk-live-123456"}
    assert store.state == "keychain" and store.last_error is None
    assert store.backend_description == "in the system keychain"
    assert not store.fallback_file.exists()


def test_other_errors_from_a_real_keychain_count_as_locked_not_missing(isolated_env: Path):
    store = KeyStore(backend=DismissedKeyring())
    with pytest.raises(KeychainLocked):
        store.set("sk-live-123456", allow_plain_file=True)
    assert store.state == "locked"
    assert not store.fallback_file.exists()


def test_locked_keychain_read_gives_no_key_and_says_why(isolated_env: Path):
    store = KeyStore(backend=LockedKeyring())
    assert store.get() is None  # no exception: the app starts (in demo mode) and can say why
    assert store.state == "locked"
    assert store.last_error and "could not read" in store.last_error
    assert "locked" in store.backend_description
    assert not store.fallback_file.exists()


def test_locked_keychain_read_uses_a_file_the_user_chose_earlier(isolated_env: Path):
    KeyStore(use_keyring=False).set("sk-file-123456", allow_plain_file=True)  # an earlier, explicit choice
    store = KeyStore(backend=LockedKeyring())
    assert store.get() == "sk-file-123456"
    assert store.state == "locked"
    assert str(store.fallback_file) in store.backend_description


def test_locked_keychain_refuses_delete_and_says_so(isolated_env: Path):
    store = KeyStore(backend=LockedKeyring())
    with pytest.raises(KeychainLocked) as raised:
        store.set("")  # an empty key deletes
    assert "not removed" in raised.value.message


def test_working_keychain_holds_the_key_and_replaces_an_old_file(isolated_env: Path):
    KeyStore(use_keyring=False).set("sk-old-file-123456", allow_plain_file=True)
    backend = MemoryKeyring()
    store = KeyStore(backend=backend)
    store.set("sk-live-654321")
    assert not store.fallback_file.exists()
    assert store.get() == "sk-live-654321"
    assert store.state == "keychain"
    store.delete()
    store.delete()  # nothing stored: not an error
    assert store.get() is None and backend.passwords == {}


def test_keyrings_stand_ins_and_init_errors_mean_no_keychain(isolated_env: Path):
    from keyring.backends import fail, null

    assert KeyStore(backend=fail.Keyring()).state == "none"
    assert KeyStore(backend=null.Keyring()).state == "none"

    class Broken(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise InitError("no D-Bus session")

    store = KeyStore(backend=Broken())
    with pytest.raises(NoKeychain):
        store.set("sk-live-123456")
    assert store.state == "none"
    assert not store.fallback_file.exists()


def test_the_globally_selected_keyring_is_used(isolated_env: Path, global_keyring):
    global_keyring(LockedKeyring())
    store = KeyStore()
    assert store.state == "keychain"
    with pytest.raises(KeychainLocked):
        store.set("sk-live-123456")
    assert store.state == "locked" and not store.fallback_file.exists()

    working = MemoryKeyring()
    global_keyring(working)
    store = KeyStore()
    store.set("sk-live-123456")
    assert working.passwords[("pixdesk", "aimlapi")] == "sk-live-123456"


def test_log_filter_redacts_keys_and_bearer_headers(isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    import logging

    from pixdesk.logs import RedactingFilter

    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    record = logging.LogRecord(
        "pixdesk", logging.INFO, __file__, 1, "sent %s with Authorization: Bearer abc.def", (TEST_KEY,), None
    )
    RedactingFilter().filter(record)
    assert TEST_KEY not in record.getMessage() and "abc.def" not in record.getMessage()
