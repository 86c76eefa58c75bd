"""Start the GUI: reuse or create the QApplication, run asyncio on Qt's loop through qasync.

One window per data folder: a launch while PixDesk already runs hands its images to that window and exits
(`pixdesk.ui.single_instance`). That check comes first and imports little, so a second launch is quick.

Start-up imports what the first screen needs; the rest (the demo simulator and PyAV, the history, prices and the
balance) follows once the window is on screen (`MainWindow.when_usable`). Ending: once the window has closed with
no job in flight and everything was saved and released, `end_process` ends the process at once instead of
waiting for the interpreter to tear down every module and Qt object (a few hundred milliseconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from PySide6.QtWidgets import QApplication

from pixdesk import APP_NAME, __version__
from pixdesk.ui.single_instance import AlreadyRunning, claim, hand_over, instance_name

if TYPE_CHECKING:
    from pixdesk.ui.main_window import MainWindow

EXIT_NOT_ANSWERING = 4  # the running window did not take the images in time (a timeout, as in the CLI)
# Seams for the start-up benchmark, the bundle test and tests/test_startup.py:
EXIT_WHEN_SHOWN = "PIXDESK_EXIT_WHEN_SHOWN"  # print "window shown" once usable; close the window once it is ready
STARTUP_REPORT = "PIXDESK_STARTUP_REPORT"  # a file: one JSON line per start-up event (CLOCK_MONOTONIC times)
SETTLE_SECONDS = 0.2  # how long the exit waits for threads still finishing before it leaves them to the interpreter

_quiet_close = False  # the last window closed with no job in flight, after a clean shutdown


def ensure_app() -> QApplication:
    from pixdesk.ui import theme

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
    global _quiet_close
    _quiet_close = False
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

    from pixdesk.config import load_settings
    from pixdesk.runtime import Runtime
    from pixdesk.ui.main_window import MainWindow

    quiet = False
    loop = None
    try:
        # In demo mode the simulator starts once the window is on screen (MainWindow's start-up), and the saved
        # key is read then too (off the UI thread: a keychain may be slow, or ask to be unlocked).
        runtime = Runtime(load_settings(), demo=demo or None, start_simulator=False, key_later=True)
        try:
            window = MainWindow(runtime, attach_loop=False)
            instance.attach(window)
            window.show()
            _start_up_seams(window)
            _paint_first_frame(window)
            # Only now asyncio and qasync (about a fifth of the start-up): the window is on screen meanwhile.
            import asyncio

            import qasync

            loop = qasync.QEventLoop(app)
            asyncio.set_event_loop(loop)
            window.attach_loop()
            window.open_images(paths)
            loop.run_until_complete(window.wait_closed())
            quiet = window.jobs_running_at_close == 0
        finally:
            runtime.close()
    finally:
        instance.close()  # the next launch becomes the instance
        if loop is not None:
            asyncio.set_event_loop(None)
            loop.close()
    _quiet_close = quiet
    return 0


def _paint_first_frame(window: MainWindow) -> None:
    """Run Qt's event loop until the window's first frame is out (`MainWindow.when_usable`; at most its fallback
    time). Clicks and keys wait in Qt's queue meanwhile (a few dozen milliseconds): they are handled, in order,
    once the asyncio loop runs, since what they start may need it."""
    from PySide6.QtCore import QEventLoop

    if window.is_usable():
        return
    first_frame = QEventLoop()
    window.when_usable(first_frame.quit)
    first_frame.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)


def end_process(code: int) -> NoReturn:
    """The end of a `pixdesk` process (its entry points only: in-process callers of `cli.main` never get here).

    After a window that closed with no job in flight, everything that matters is already on disk: the job store
    is closed, settings saved, the engine and the simulator stopped. Then the interpreter's own teardown (every
    module, every Qt wrapper, Qt Multimedia) only costs time, so: let queued file work finish, give Qt its
    orderly end (on X11 the clipboard goes to the clipboard manager), flush the logs and streams, and leave.
    Anything still running (a save, a render, a job's thread) means the ordinary exit, which waits for it."""
    if _quiet_close:
        from pixdesk.ui.tasks import settle_threads

        if settle_threads(SETTLE_SECONDS):
            _end_now(code)
    sys.exit(code)


def _end_now(code: int) -> NoReturn:
    import atexit
    import logging

    import shiboken6

    app = QApplication.instance()
    if app is not None:
        shiboken6.delete(app)
    atexit._run_exitfuncs()  # what the interpreter would run: logging's flush and close, temporary folders...
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said there anyway
            stream.flush()
    os._exit(code)


# -- start-up seams -------------------------------------------------------------------------------------------------
def _report(event: str, **fields: object) -> None:
    """One JSON line in the start-up report file; CLOCK_MONOTONIC is system-wide on Linux, so another process
    (the benchmark) can compare these times with its own."""
    path = os.environ.get(STARTUP_REPORT)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": event, "monotonic": time.monotonic(), **fields}) + "\n")


QT_FREE_UI_MODULES = frozenset({"pixdesk.ui.form_memory"})  # under pixdesk.ui, but without Qt


def _imported_after_qt() -> list[str]:
    """The Qt-free PixDesk modules imported after PySide6.QtCore (sys.modules keeps the import order): each
    costs more there (`pixdesk.launch.import_before_qt`)."""
    names = list(sys.modules)
    if "PySide6.QtCore" not in names:
        return []
    later = names[names.index("PySide6.QtCore") + 1 :]
    # Source files only: a folder of data (pixdesk.resources, a namespace package) has nothing to read.
    return [
        n
        for n in later
        if n.startswith("pixdesk.")
        and (not n.startswith("pixdesk.ui") or n in QT_FREE_UI_MODULES)
        and getattr(sys.modules[n], "__file__", None)
    ]


def _qt_classes_made() -> dict[str, list[str]]:
    """The PySide6 classes made so far, by module: PySide6 builds a class (and a Python enum for each of its
    enum types) when it is first used, so this is what the first frame paid for (the start-up benchmark builds
    the same ones in its floor window)."""
    made: dict[str, list[str]] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("PySide6.Qt") and module is not None:
            made[name] = sorted(k for k, v in vars(module).items() if isinstance(v, type))
    return made


def _start_up_seams(window: MainWindow) -> None:
    """With STARTUP_REPORT: when the window became usable (and which modules were loaded by then), when it was
    ready (history loaded, jobs resumed) and when its close began. With EXIT_WHEN_SHOWN: print "window shown" once
    usable and close the window once ready, so the whole start-up and a full close are exercised."""
    exit_when_shown = bool(os.environ.get(EXIT_WHEN_SHOWN))
    if not exit_when_shown and not os.environ.get(STARTUP_REPORT):
        return

    def usable() -> None:
        _report("usable", modules=sorted(sys.modules), after_qt=_imported_after_qt(), qt_classes=_qt_classes_made())
        if exit_when_shown:
            print("window shown", flush=True)

    def ready() -> None:
        _report("ready", modules=sorted(sys.modules))
        if exit_when_shown and not window.is_closing():
            _report("closing")
            window.close()

    window.when_usable(usable)
    if window.is_ready():
        ready()
    else:
        window.ready.connect(ready)
