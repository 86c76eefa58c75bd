"""A small log file for troubleshooting (data folder `logs/pixdesk.log`), with the API key redacted.

Nothing we log carries the key; the filter is the second line of defence should a library do so.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

from pixdesk.config import data_dir

BEARER = re.compile(r"(Bearer\s+)[^\s'\"]+", re.IGNORECASE)
_handler: logging.Handler | None = None
_handler_folder: Path | None = None


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        key = os.environ.get("AIMLAPI_KEY", "").strip()
        for secret in (key, *_extra_secrets):
            if secret and len(secret) >= 6:
                message = message.replace(secret, "***")
        message = BEARER.sub(r"\1***", message)
        record.msg, record.args = message, None
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = BEARER.sub(r"\1***", record.exc_text)
            for secret in (key, *_extra_secrets):
                if secret and len(secret) >= 6:
                    record.exc_text = record.exc_text.replace(secret, "***")
        return True


_extra_secrets: list[str] = []


def add_secret(value: str | None) -> None:
    """Make sure `value` (a key from the keychain or settings) never reaches the log."""
    if value and value not in _extra_secrets:
        _extra_secrets.append(value)


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
