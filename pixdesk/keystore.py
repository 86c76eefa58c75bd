"""The API key: the OS credential store first; a user-only (0600) file only where none exists and the user agreed.

`AIMLAPI_KEY` in the environment overrides both. The key is never logged or written elsewhere.

Two situations look alike to keyring but must not be treated alike:

- *no keychain* (keyring's fail/null backend, `NoKeyringError`, `InitError`): the only place left is a file, and we
  write one only when the caller says the user agreed (`allow_plain_file=True`);
- *a keychain that is locked or refused access* (`KeyringLocked`, or any other error from a real backend, such as a
  dbus "locked"/"dismissed" error): the key must not silently land in a plain file instead, so `set` raises
  `KeychainLocked` and `get` reports the state without falling back to a file the user never chose.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pixdesk.api.errors import PixDeskError
from pixdesk.config import config_dir

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "pixdesk"
ACCOUNT = "aimlapi"
log = logging.getLogger(__name__)

KeyState = Literal["environment", "keychain", "locked", "none"]

LOCKED_NOT_SAVED = (
    "The system keychain is locked or refused access. Unlock it (or allow PixDesk) and try again; "
    "the key was not saved."
)
LOCKED_NOT_READ = (
    "The system keychain is locked or refused access, so PixDesk could not read the API key. "
    "Unlock it (or allow PixDesk) and open Settings again."
)
LOCKED_NOT_REMOVED = (
    "The system keychain is locked or refused access. Unlock it (or allow PixDesk) and try again; "
    "the key was not removed."
)


class KeychainLocked(PixDeskError):
    """The keychain exists but is locked or refused access: the key was not saved (or could not be read)."""

    def __init__(self, message: str = LOCKED_NOT_SAVED) -> None:
        super().__init__(message)
        self.message = message


class NoKeychain(PixDeskError):
    """There is no usable system keychain; the caller may ask the user whether a user-only file is acceptable."""

    def __init__(self, fallback_file: Path) -> None:
        message = (
            "No system keychain is available, so the key can only be kept in a file that only your user account "
            f"can read ({fallback_file}). The key was not saved."
        )
        super().__init__(message)
        self.message = message
        self.fallback_file = fallback_file


def _no_keychain_errors() -> tuple[type[BaseException], ...]:
    from keyring.errors import InitError, NoKeyringError

    return (NoKeyringError, InitError)


def _usable(backend: KeyringBackend | None) -> KeyringBackend | None:
    """`backend` if it is a real keychain, None for keyring's fail/null stand-ins or a backend that is not viable."""
    if backend is None:
        return None
    from keyring.backends import fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    try:
        priority = backend.priority
    except Exception:  # a backend reports "not viable here" by raising from its priority
        return None
    return backend if priority and priority > 0 else None


def _default_backend() -> KeyringBackend | None:
    try:
        import keyring

        return _usable(keyring.get_keyring())
    except Exception:  # InitError, a broken backend module, ...: no keychain we can use
        return None


class KeyStore:
    """Where the API key lives; safe to call from a worker thread (the keychain may block on a dbus prompt)."""

    def __init__(
        self,
        fallback_file: Path | None = None,
        use_keyring: bool | None = None,
        *,
        backend: KeyringBackend | None = None,
    ) -> None:
        """`backend` picks a keyring backend (tests); `use_keyring=False` means "behave as if there is none".

        The system's keychain is looked up on first use, not here: importing keyring and finding its backend takes
        tens of milliseconds, and with `AIMLAPI_KEY` set the start-up never needs it."""
        self.fallback_file = fallback_file or config_dir() / "api-key"
        self._lookup = use_keyring is not False and backend is None  # find the system's backend when first needed
        self._found: KeyringBackend | None = (
            _usable(backend) if backend is not None and use_keyring is not False else None
        )
        self._lookup_lock = threading.Lock()
        self._locked = False
        self.last_error: str | None = None

    @property
    def _backend(self) -> KeyringBackend | None:
        if self._lookup:
            with self._lookup_lock:  # worker threads may ask at once: look once
                if self._lookup:
                    self._found = _default_backend()
                    self._lookup = False
        return self._found

    @_backend.setter
    def _backend(self, backend: KeyringBackend | None) -> None:
        self._found, self._lookup = backend, False

    @staticmethod
    def environment_key() -> str | None:
        """`AIMLAPI_KEY`, which overrides any saved key (reading it touches no keychain)."""
        return os.environ.get("AIMLAPI_KEY", "").strip() or None

    # -- what the UI shows -------------------------------------------------------------------------
    @property
    def use_keyring(self) -> bool:
        """True when a real system keychain exists (locked or not)."""
        return self._backend is not None

    @property
    def state(self) -> KeyState:
        """Where the key comes from; "locked" after the keychain refused the last read or write.

        It reflects the last `get`/`set`, so reading it never touches the keychain (safe on the UI thread).
        """
        if os.environ.get("AIMLAPI_KEY", "").strip():
            return "environment"
        if self._backend is None:
            return "none"
        return "locked" if self._locked else "keychain"

    @property
    def backend_description(self) -> str:
        state = self.state
        if state == "environment":
            return "from the AIMLAPI_KEY environment variable"
        if state == "keychain":
            return "in the system keychain"
        if state == "locked":
            if self.fallback_file.exists():
                return (
                    f"in the system keychain, which is locked or refused access (meanwhile the key saved earlier "
                    f"in {self.fallback_file} is used)"
                )
            return "in the system keychain, which is locked or refused access right now"
        return f"in {self.fallback_file} (no system keychain found; readable only by you)"

    # -- reading -----------------------------------------------------------------------------------
    def get(self) -> str | None:
        """The key, or None. A locked keychain gives None (see `state`/`last_error`) rather than an exception,
        so the app can still start (in demo mode) and say why."""
        value = self._read()
        from pixdesk.logs import add_secret

        add_secret(value)
        return value

    def _read(self) -> str | None:
        env = os.environ.get("AIMLAPI_KEY", "").strip()
        if env:
            return env
        backend = self._backend
        if backend is not None:
            try:
                value = backend.get_password(SERVICE, ACCOUNT)
            except _no_keychain_errors():
                self._backend = None
                self._locked = False
            except Exception as exc:
                self._mark_locked(exc, LOCKED_NOT_READ)
                # A file that exists was written on an earlier explicit choice (or by an older PixDesk): fine to use.
                # Never a new one as a substitute for the locked keychain.
                return self._read_file()
            else:
                self._locked = False
                self.last_error = None
                if value:
                    return value
        return self._read_file()

    def _read_file(self) -> str | None:
        try:
            value = self.fallback_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return value or None

    # -- writing -----------------------------------------------------------------------------------
    def set(self, key: str, *, allow_plain_file: bool = False) -> None:
        """Store `key` (an empty one deletes it).

        Raises KeychainLocked when the keychain refuses (nothing is written anywhere), NoKeychain when there is no
        keychain and the user has not agreed to a plain file (`allow_plain_file`), OSError if that file fails.
        """
        key = key.strip()
        if not key:
            self.delete()
            return
        backend = self._backend
        if backend is not None:
            try:
                backend.set_password(SERVICE, ACCOUNT, key)
            except _no_keychain_errors():
                self._backend = None
                self._locked = False
            except Exception as exc:
                self._mark_locked(exc, LOCKED_NOT_SAVED)
                raise KeychainLocked(LOCKED_NOT_SAVED) from exc
            else:
                self._locked = False
                self.last_error = None
                self._remove_file()  # the keychain holds it now; no second copy
                return
        if not allow_plain_file:
            raise NoKeychain(self.fallback_file)
        self._write_file(key)

    def _write_file(self, key: str) -> None:
        self.fallback_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.fallback_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
        os.chmod(self.fallback_file, 0o600)

    def delete(self) -> None:
        """Forget the key. Raises KeychainLocked if the keychain refused (the user asked for it to be gone)."""
        self._remove_file()
        backend = self._backend
        if backend is None:
            return
        from keyring.errors import PasswordDeleteError

        try:
            backend.delete_password(SERVICE, ACCOUNT)
        except PasswordDeleteError:  # nothing stored: already gone
            pass
        except _no_keychain_errors():
            self._backend = None
            self._locked = False
        except Exception as exc:
            self._mark_locked(exc, LOCKED_NOT_REMOVED)
            raise KeychainLocked(LOCKED_NOT_REMOVED) from exc
        else:
            self._locked = False
            self.last_error = None

    def _mark_locked(self, exc: BaseException, message: str) -> None:
        self._locked = True
        self.last_error = message
        # The type only: a backend's message is not ours to vouch for.
        log.info("system keychain refused access (%s)", type(exc).__name__)

    def _remove_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fallback_file.unlink()
