"""The API key: the OS credential store first, a user-only (0600) file where none exists.

`AIMLAPI_KEY` in the environment overrides both. The key is never logged or written elsewhere.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from pixdesk.config import config_dir

SERVICE = "pixdesk"
ACCOUNT = "aimlapi"


def _keyring_usable() -> bool:
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
    except Exception:
        return False
    if isinstance(backend, fail.Keyring):
        return False
    priority = getattr(backend, "priority", 1)
    return bool(priority and priority > 0)


class KeyStore:
    def __init__(self, fallback_file: Path | None = None, use_keyring: bool | None = None) -> None:
        self.fallback_file = fallback_file or config_dir() / "api-key"
        self.use_keyring = _keyring_usable() if use_keyring is None else use_keyring

    @property
    def backend_description(self) -> str:
        if os.environ.get("AIMLAPI_KEY"):
            return "from the AIMLAPI_KEY environment variable"
        if self.use_keyring:
            return "in the system keychain"
        return f"in {self.fallback_file} (no system keychain found; readable only by you)"

    def get(self) -> str | None:
        value = self._read()
        from pixdesk.logs import add_secret

        add_secret(value)
        return value

    def _read(self) -> str | None:
        env = os.environ.get("AIMLAPI_KEY", "").strip()
        if env:
            return env
        if self.use_keyring:
            import keyring

            with contextlib.suppress(Exception):
                value = keyring.get_password(SERVICE, ACCOUNT)
                if value:
                    return value
        try:
            value = self.fallback_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return value or None

    def set(self, key: str) -> None:
        key = key.strip()
        if not key:
            self.delete()
            return
        if self.use_keyring:
            import keyring

            try:
                keyring.set_password(SERVICE, ACCOUNT, key)
                self._remove_file()
                return
            except Exception:
                self.use_keyring = False
        self.fallback_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.fallback_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
        os.chmod(self.fallback_file, 0o600)

    def delete(self) -> None:
        if self.use_keyring:
            import keyring

            with contextlib.suppress(Exception):
                keyring.delete_password(SERVICE, ACCOUNT)
        self._remove_file()

    def _remove_file(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fallback_file.unlink()
