"""Guards on the Qt binding itself: a regression here crashes the app, whatever our code does."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(object)


def test_emitting_signals_does_not_leak_references_to_true(qapp):
    """PySide6 6.12.0 returned a borrowed True from Signal.emit(): each emit released True once more,
    and after a few thousand job updates or keystrokes the interpreter aborted. pyproject pins it out."""
    emitter = _Emitter()
    received: list[int] = []
    emitter.changed.connect(received.append)
    before = sys.getrefcount(True)
    for i in range(5000):
        emitter.changed.emit(i)
    assert len(received) == 5000
    assert sys.getrefcount(True) >= before - 10
