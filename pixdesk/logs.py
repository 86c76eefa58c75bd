"""A small log file for troubleshooting (data folder `logs/pixdesk.log`), with the API key redacted.

Nothing we log carries the key; the filter is the second line of defence should a library do so.
The secrets themselves live in `pixdesk.api.text`, which also cleans what the server says before
it is shown: one registry, so a key known to the log filter is also hidden from the UI, and back.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from pixdesk.api.text import BEARER, _extra_secrets, redact, register_secret
from pixdesk.config import data_dir

__all__ = ["BEARER", "RedactingFilter", "_extra_secrets", "add_secret", "setup_logging"]

_handler: logging.Handler | None = None
_handler_folder: Path | None = None

add_secret = register_secret
"""Make sure a value (a key from the keychain or settings) never reaches the log (kept for keystore)."""


class RedactingFilter(logging.Filter):
    """Rewrites every record with its secrets (registered ones, `AIMLAPI_KEY`, Bearer tokens) masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        register_secret(os.environ.get("AIMLAPI_KEY"))  # the key may be set after the client was made
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def setup_logging(level: int = logging.INFO) -> None:
    """Log to the data folder's `logs/pixdesk.log` (re-pointed if the data folder changed)."""
    global _handler, _handler_folder
    folder = data_dir() / "logs"
    root = logging.getLogger("pixdesk")
    if _handler is not None:
        if folder == _handler_folder:
            return
        root.removeHandler(_handler)
        _handler.close()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            folder / "pixdesk.log", maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.setLevel(level)
    root.addHandler(handler)
    _handler, _handler_folder = handler, folder
