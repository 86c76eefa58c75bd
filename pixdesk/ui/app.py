"""Start the GUI: reuse or create the QApplication, run asyncio on Qt's loop through qasync."""

from __future__ import annotations

import asyncio
import os
import sys

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from pixdesk import APP_NAME, __version__
from pixdesk.config import load_settings
from pixdesk.runtime import Runtime
from pixdesk.ui import theme


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("pixdesk")
    app.setWindowIcon(theme.app_icon())
    # The window's close starts an orderly shutdown of the job engine; the loop ends after it.
    app.setQuitOnLastWindowClosed(False)
    return app


def run_gui(demo: bool = False) -> int:
    """Open the main window; returns the exit code when it closes."""
    from pixdesk.ui.main_window import MainWindow

    app = ensure_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    runtime = Runtime(load_settings(), demo=demo or None)
    try:
        window = MainWindow(runtime)
        window.show()
        if os.environ.get("PIXDESK_EXIT_WHEN_SHOWN"):  # for the start-up benchmark and the bundle test
            QTimer.singleShot(0, lambda: (print("window shown", flush=True), window.close()))
        loop.run_until_complete(window.wait_closed())
    finally:
        runtime.close()
        asyncio.set_event_loop(None)
        loop.close()
    return 0
