"""Start the GUI: reuse or create the QApplication, run asyncio on Qt's loop through qasync.

One window per data folder: a launch while PixDesk already runs hands its images to that window and exits
(`pixdesk.ui.single_instance`). That check comes first and imports little, so a second launch is quick.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from pixdesk import APP_NAME, __version__
from pixdesk.ui import theme
from pixdesk.ui.single_instance import AlreadyRunning, claim, hand_over, instance_name

EXIT_NOT_ANSWERING = 4  # the running window did not take the images in time (a timeout, as in the CLI)


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    # No setApplicationDisplayName: on X11 Qt appends the display name to every window title
    # ("PixDesk — demo mode — PixDesk", "Settings — PixDesk"); our titles say what they mean once.
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName("pixdesk")
    app.setWindowIcon(theme.app_icon())
    # The window's close starts an orderly shutdown of the job engine; the loop ends after it.
    app.setQuitOnLastWindowClosed(False)
    return app


def run_gui(demo: bool = False, images: Sequence[str] = ()) -> int:
    """Open the main window with `images` (the first goes into the form), or hand them to the PixDesk window
    already running on this data folder and return at once. Returns the exit code when the window closes."""
    paths = [os.path.abspath(p) for p in images]  # relative to this process's folder, not the running one's
    name = instance_name()
    if hand_over(name, paths, demo):  # the usual second launch: no QApplication, no window
        return 0
    app = ensure_app()
    try:
        instance = claim(paths, demo, name=name)
    except AlreadyRunning as exc:
        print(f"pixdesk: {exc}", file=sys.stderr)
        return EXIT_NOT_ANSWERING
    if instance is None:
        return 0

    import qasync

    from pixdesk.config import load_settings
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        runtime = Runtime(load_settings(), demo=demo or None)
        try:
            window = MainWindow(runtime)
            instance.attach(window)
            window.show()
            window.open_images(paths)
            if os.environ.get("PIXDESK_EXIT_WHEN_SHOWN"):  # for the start-up benchmark and the bundle test
                QTimer.singleShot(0, lambda: (print("window shown", flush=True), window.close()))
            loop.run_until_complete(window.wait_closed())
        finally:
            runtime.close()
    finally:
        instance.close()  # the next launch becomes the instance
        asyncio.set_event_loop(None)
        loop.close()
    return 0
