"""An uncaught exception anywhere (Qt slot, worker thread, asyncio callback) is logged and shown, never fatal."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Signal

from pixdesk import crash
from tests.conftest import TEST_KEY

CRASH_LOG = r"^uncaught exception"


class Notes:
    """The notify callback: remembers each short text and the thread it came from."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, text: str) -> None:
        self.texts.append(text)
        self.threads.append(threading.current_thread())


@pytest.fixture
def notes() -> Iterator[Notes]:
    collected = Notes()
    crash.install(collected)
    try:
        yield collected
    finally:
        crash.uninstall()


def crash_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pixdesk.crash" and r.levelno == logging.ERROR]


def assert_has_traceback(record: logging.LogRecord, function_name: str) -> None:
    assert record.exc_info is not None and record.exc_info[2] is not None
    text = logging.Formatter().formatException(record.exc_info)
    assert "Traceback" in text and function_name in text


def assert_short(text: str, exc_text: str) -> None:
    assert text.startswith("Something went wrong: ") and exc_text in text
    assert "pixdesk.log" in text
    assert "Traceback" not in text and "\n" not in text


class Emitter(QObject):
    fired = Signal(int)


@pytest.mark.allow_log(CRASH_LOG)
def test_exception_in_a_qt_slot_is_logged_with_traceback_and_the_app_goes_on(qtbot, notes: Notes, caplog):
    emitter = Emitter()
    received: list[int] = []

    def broken_slot(value: int) -> None:
        raise ValueError(f"bad value {value}")

    emitter.fired.connect(broken_slot)
    emitter.fired.connect(received.append)
    emitter.fired.emit(1)  # PySide6 reports the slot's exception through sys.excepthook, after the slot returns
    qtbot.waitUntil(lambda: len(notes.texts) == 1)
    emitter.fired.emit(2)  # still alive: signals keep being delivered
    qtbot.waitUntil(lambda: len(notes.texts) == 2)

    assert received == [1, 2]
    records = crash_records(caplog)
    assert len(records) == 2
    assert_has_traceback(records[0], "broken_slot")
    assert_short(notes.texts[0], "ValueError: bad value 1")


@pytest.mark.allow_log(CRASH_LOG)
def test_exception_in_a_thread_is_logged_and_notified_from_that_thread(notes: Notes, caplog):
    def worker_body() -> None:
        raise RuntimeError("worker broke")

    worker = threading.Thread(target=worker_body, name="pixdesk-crash-worker")
    worker.start()
    worker.join()

    records = crash_records(caplog)
    assert len(records) == 1 and "pixdesk-crash-worker" in records[0].getMessage()
    assert_has_traceback(records[0], "worker_body")
    assert notes.threads == [worker]  # the caller marshals to the UI thread (a Qt signal)
    assert_short(notes.texts[0], "RuntimeError: worker broke")


def test_a_thread_that_calls_sys_exit_is_not_a_crash(notes: Notes, caplog):
    worker = threading.Thread(target=sys.exit)
    worker.start()
    worker.join()
    assert notes.texts == [] and crash_records(caplog) == []


@pytest.mark.allow_log(CRASH_LOG)
def test_asyncio_handler_logs_a_failing_callback(notes: Notes, caplog):
    def failing_callback() -> None:
        raise KeyError("missing")

    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(crash.loop_exception_handler)
        done = loop.create_future()
        loop.call_soon(failing_callback)
        loop.call_soon(done.set_result, None)  # runs after the failing callback: the loop survived it
        loop.run_until_complete(done)
    finally:
        loop.close()

    records = crash_records(caplog)
    assert len(records) == 1 and "event loop" in records[0].getMessage()
    assert_has_traceback(records[0], "failing_callback")
    assert_short(notes.texts[0], "KeyError: 'missing'")


@pytest.mark.allow_log(CRASH_LOG)
def test_asyncio_handler_on_the_qt_loop(qtbot, qloop, notes: Notes, caplog):
    def failing_callback() -> None:
        raise ZeroDivisionError("division by zero")

    qloop.set_exception_handler(crash.loop_exception_handler)
    after: list[bool] = []
    qloop.call_soon(failing_callback)
    qloop.call_soon(after.append, True)
    qtbot.waitUntil(lambda: after == [True] and len(notes.texts) == 1)
    assert_has_traceback(crash_records(caplog)[0], "failing_callback")
    assert_short(notes.texts[0], "ZeroDivisionError: division by zero")


@pytest.mark.allow_log(CRASH_LOG)
def test_asyncio_handler_without_an_exception_uses_the_message(notes: Notes, caplog):
    crash.loop_exception_handler(asyncio.new_event_loop(), {"message": "Task was destroyed but it is pending!"})
    assert "Task was destroyed" in notes.texts[0]
    assert len(crash_records(caplog)) == 1


@pytest.mark.allow_log(CRASH_LOG)
def test_a_failing_notify_does_not_raise(caplog):
    def bad_notify(text: str) -> None:
        raise OSError("the status bar is gone")

    crash.install(bad_notify)
    try:
        crash.loop_exception_handler(asyncio.new_event_loop(), {"message": "x", "exception": ValueError("y")})
    finally:
        crash.uninstall()
    assert len(crash_records(caplog)) == 1


def test_uninstall_restores_the_previous_hooks():
    before = (sys.excepthook, threading.excepthook)
    crash.install(lambda text: None)
    assert sys.excepthook is not before[0] and threading.excepthook is not before[1]
    crash.install(lambda text: None)  # twice: still one layer
    crash.uninstall()
    assert (sys.excepthook, threading.excepthook) == before
    crash.uninstall()  # harmless when not installed
    assert (sys.excepthook, threading.excepthook) == before


def test_short_text_hides_the_key_and_stays_short(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    text = crash.short_text(ValueError(f"sent {TEST_KEY}\nsecond line " + "x" * 500))
    assert TEST_KEY not in text and "second line" not in text
    assert len(text) < 400
