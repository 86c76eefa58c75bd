"""`pixdesk.cli.main([])` opens the GUI on an existing QApplication and returns when it closes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from pixdesk.cli import main
from pixdesk.ui.main_window import MainWindow


def close_when_ready(app: QApplication, seen: list[str]) -> QTimer:
    def check() -> None:
        for widget in app.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible() and widget.is_ready() and not widget.is_closing():
                seen.append(widget.windowTitle())
                widget.close()

    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(check)
    timer.start()
    return timer


@pytest.mark.parametrize("argv", [[], ["--demo"]])
def test_main_runs_the_window_until_it_closes(qapp: QApplication, argv: list[str]):
    seen: list[str] = []
    timer = close_when_ready(qapp, seen)
    try:
        assert main(argv) == 0
    finally:
        timer.stop()
    assert len(seen) == 1
    assert seen[0].startswith("PixDesk") and "demo mode" in seen[0]  # no key configured: demo mode, said plainly
