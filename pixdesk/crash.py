"""Uncaught exceptions are logged with their traceback and shown briefly; they never end the app.

Three places can lose an exception: `sys.excepthook` (also what PySide6 calls for an exception raised in a Qt slot
or virtual), `threading.excepthook` (worker threads) and the asyncio loop's exception handler (callbacks, unretrieved
task results). `install` covers the first two and `loop_exception_handler` is for `loop.set_exception_handler`.

`notify` may be called from any thread: the caller marshals it to the UI thread (a Qt signal).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger("pixdesk.crash")

Notify = Callable[[str], None]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

_notify: Notify | None = None
_log_file: Path | None = None
_previous_sys_hook: Callable[[type[BaseException], BaseException, TracebackType | None], Any] | None = None
_previous_thread_hook: Callable[[threading.ExceptHookArgs], Any] | None = None
_installed = False


def default_log_file() -> Path:
    """Where `pixdesk.logs.setup_logging` writes (named in the short message so users can send it)."""
    from pixdesk.config import data_dir

    return data_dir() / "logs" / "pixdesk.log"


def install(notify: Notify | None = None, *, log_file: Path | None = None) -> None:
    """Route uncaught exceptions (main thread, Qt slots, other threads) to the log and `notify`.

    Installing again only replaces `notify`/`log_file`; `uninstall` restores the hooks found at the first install.
    """
    global _notify, _log_file, _previous_sys_hook, _previous_thread_hook, _installed
    _notify = notify
    _log_file = log_file
    if _installed:
        return
    _previous_sys_hook = sys.excepthook
    _previous_thread_hook = threading.excepthook
    sys.excepthook = _sys_hook
    threading.excepthook = _thread_hook
    _installed = True


def uninstall() -> None:
    """Put back the hooks that were there before `install` (tests, or a clean shutdown)."""
    global _notify, _log_file, _previous_sys_hook, _previous_thread_hook, _installed
    if not _installed:
        return
    if sys.excepthook is _sys_hook and _previous_sys_hook is not None:
        sys.excepthook = _previous_sys_hook
    if threading.excepthook is _thread_hook and _previous_thread_hook is not None:
        threading.excepthook = _previous_thread_hook
    _notify = None
    _log_file = None
    _previous_sys_hook = _previous_thread_hook = None
    _installed = False


def short_text(exc: BaseException | None, fallback: str = "an unexpected error") -> str:
    """One line for the status bar: the exception's type and first line, where the details are; no traceback."""
    if exc is None:
        what = fallback
    else:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        if len(first) > 160:
            first = first[:157] + "…"
        what = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    where = _log_file or default_log_file()
    return _redact(f"Something went wrong: {what} — details are in {where}")


def _redact(text: str) -> str:
    """The same redaction as the log file (the key, Bearer tokens): the text is shown on screen."""
    from pixdesk.logs import RedactingFilter

    record = logging.LogRecord("pixdesk.crash", logging.ERROR, __file__, 0, text, None, None)
    RedactingFilter().filter(record)
    return record.getMessage()


def _report(where: str, exc_info: ExcInfo | None, message: str | None = None) -> None:
    """Log with traceback and notify; never raises (it runs inside exception hooks)."""
    try:
        exc = exc_info[1] if exc_info else None
        log.error("uncaught exception %s%s", where, f": {message}" if message else "", exc_info=exc_info)
        callback = _notify
        if callback is not None:
            callback(short_text(exc, fallback=message or "an unexpected error"))
    except Exception:
        # If even this fails, the logging system itself is broken: nothing sensible is left to do.
        with contextlib.suppress(Exception):
            log.debug("crash report failed", exc_info=True)


def report(exc: BaseException, where: str = "in a background task") -> None:
    """For failures caught elsewhere (a finished task's exception): logged with traceback, shown briefly."""
    _report(where, (type(exc), exc, exc.__traceback__))


def _sys_hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(exc_type, KeyboardInterrupt | SystemExit):  # the user or the code asked to stop: let it
        previous = _previous_sys_hook or sys.__excepthook__
        previous(exc_type, exc, tb)
        return
    _report("in the main thread or a Qt slot", (exc_type, exc, tb))


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:  # as threading's own hook: a thread that exits is not an error
        return
    exc = args.exc_value if args.exc_value is not None else args.exc_type()
    name = args.thread.name if args.thread is not None else "unknown"
    _report(f"in thread {name!r}", (args.exc_type, exc, args.exc_traceback))


def loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """For `loop.set_exception_handler`: an exception in a callback or an unretrieved task result."""
    exc = context.get("exception")
    message = str(context.get("message") or "")
    exc_info: ExcInfo | None = (type(exc), exc, exc.__traceback__) if isinstance(exc, BaseException) else None
    _report("in the event loop", exc_info, message or None)
