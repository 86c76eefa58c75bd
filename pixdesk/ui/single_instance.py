"""One PixDesk window per data folder: a second launch hands its images to the running window and exits.

The running instance listens on a local socket (`QLocalServer`) named after the user and the data folder, so
demo and live launches share one window (they share one job database) while tests with their own data folders
never meet. Protocol: the new launch connects and sends one line of JSON, `{"images": [absolute paths],
"demo": bool}`, at most `MAX_MESSAGE` bytes; the instance answers `ok` (taken: the window opens the first image
and comes to the front), `busy` (the window is closing: wait for it to go, then become the instance) or `error`
(not a message it understands). Which process may listen is settled by a lock file beside the socket, which the
system releases when its holder dies: a socket file left by a crash is taken over, and a live instance that is
slow to answer is never doubled.

The server side never blocks the UI thread (signals only); the client side runs before any window exists and
blocks, always with a deadline. Only QtCore and QtNetwork here: a second launch imports little.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDir, QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from pixdesk.config import data_dir

if TYPE_CHECKING:
    from pixdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024  # bytes in one message, newline included; a longer one is dropped unread
HANDOVER_TIMEOUT = 2.0  # s a new launch waits for the running instance's answer
PATIENCE = 10.0  # s a new launch waits for an instance that is starting up or closing
CONNECTION_TIMEOUT = 5.0  # s the instance gives a connection to send its message before dropping it
WAIT_SLICE_MS = 20  # the client's blocking waits come in slices this long (see `_wait`)

OK, BUSY, ERROR = "ok", "busy", "error"
NO_SERVER, SILENT = "no server", "silent"  # the client's own outcomes: nobody listens / no answer in time


class AlreadyRunning(Exception):
    """Another process owns this data folder's window but did not take the images in time."""


def instance_name(folder: Path | None = None) -> str:
    """The local socket's name: per user and per data folder (short enough for a Unix socket path)."""
    resolved = str((folder or data_dir()).expanduser().resolve())
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    user = "".join(c for c in user if c.isalnum())[:32] or "user"
    return f"pixdesk-{user}-{hashlib.sha256(resolved.encode()).hexdigest()[:16]}"


def _lock_path(name: str) -> Path:
    return Path(name + ".lock") if "/" in name or "\\" in name else Path(QDir.tempPath()) / f"{name}.lock"


class _InstanceLock:
    """Who may listen on a name: an exclusive lock on a file that the system drops when its holder ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """True when this process holds the lock (or no lock can be made here: then go on without one)."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by child processes
        except OSError as exc:
            log.info("No single-instance lock at %s (%s); going on without one", self.path, exc.strerror or exc)
            return True
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # The holder removes the file as it lets go: is the one locked still the one at that path?
            held, there = os.fstat(fd), os.stat(self.path)
            if (held.st_dev, held.st_ino) != (there.st_dev, there.st_ino):
                raise FileNotFoundError(self.path)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            if sys.platform != "win32":  # (on Windows an open file cannot be removed: it stays, empty)
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            os.close(self._fd)  # this drops the lock
            self._fd = None


def _parse(line: bytes) -> list[str] | None:
    """The images of a well-formed message, or None."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict):
        return None
    images = message.get("images", [])
    if not isinstance(images, list) or not all(isinstance(p, str) and os.path.isabs(p) for p in images):
        return None
    return images


class SingleInstance(QObject):
    """The running instance's end: `listen()`, then `activated(images)` for each launch that hands over.

    `attach(window)` is the wiring `run_gui` uses (open the images, raise the window, answer `busy` once the
    window is closing); `close()` stops listening and lets the next launch become the instance.
    """

    activated = Signal(list)  # absolute image paths (maybe none): a second launch wants this window

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or instance_name()
        self.accepting: Callable[[], bool] = lambda: True  # False: answer `busy` (the window is closing)
        self.connection_timeout = CONNECTION_TIMEOUT
        self._lock = _InstanceLock(_lock_path(self.name))
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._take_connections)

    def listen(self) -> bool:
        """Become the instance for this name. False when another process is (or is becoming) it."""
        if self._server.isListening():
            return True
        if not self._lock.acquire():
            return False
        QLocalServer.removeServer(self.name)  # a socket file left by an instance that crashed
        if not self._server.listen(self.name):
            log.warning("Other launches of PixDesk cannot reach this window: %s", self._server.errorString())
        return True

    def is_listening(self) -> bool:
        return self._server.isListening()

    def server_path(self) -> str:
        """Where the socket is (on Unix, a file path), once listening."""
        return self._server.fullServerName()

    def close(self) -> None:
        self._server.close()
        self._lock.release()

    def attach(self, window: MainWindow) -> None:
        """Hand what arrives to `window`: the images go into its form and it comes to the front."""
        self.activated.connect(lambda images: _deliver(window, images))
        self.accepting = lambda: _window_open(window)

    # -- the server side: signals only, nothing waits on the UI thread ----------------------------------------
    def _take_connections(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if socket is None:
                break
            self._serve(socket)

    def _serve(self, socket: QLocalSocket) -> None:
        socket.setReadBufferSize(MAX_MESSAGE)
        received = bytearray()
        finished = False
        deadline = QTimer(socket)
        deadline.setSingleShot(True)

        def end(reply: bytes | None) -> None:
            nonlocal finished
            finished = True
            deadline.stop()
            if reply is not None and socket.state() == QLocalSocket.LocalSocketState.ConnectedState:
                socket.write(reply)
                socket.flush()  # a few bytes: straight into the system's buffer, without waiting
                socket.disconnectFromServer()  # `disconnected` follows, then the socket goes
            else:
                socket.abort()
                socket.deleteLater()

        def read() -> None:
            if finished:
                return
            received.extend(socket.readAll().data())
            line, newline, _ = bytes(received).partition(b"\n")
            if not newline:
                if len(received) >= MAX_MESSAGE:
                    log.warning("Ignored a message over %d KiB from another launch", MAX_MESSAGE // 1024)
                    end(None)
                return
            images = _parse(line) if len(line) < MAX_MESSAGE else None
            if images is None:
                log.warning("Ignored a malformed message from another launch")
                end(ERROR.encode() + b"\n")
            elif not self.accepting():
                end(BUSY.encode() + b"\n")
            else:
                end(OK.encode() + b"\n")
                log.info("Another launch handed over %d image(s)", len(images))
                self.activated.emit(images)

        def too_slow() -> None:
            if not finished:
                log.info("Dropped a launch that sent nothing for %.0f s", self.connection_timeout)
                end(None)

        def gone() -> None:
            if not finished:
                end(None)
            socket.deleteLater()

        socket.readyRead.connect(read)
        socket.disconnected.connect(gone)
        deadline.timeout.connect(too_slow)
        deadline.start(int(self.connection_timeout * 1000))
        if socket.bytesAvailable():
            read()


def _deliver(window: MainWindow, images: list[str]) -> None:
    window.bring_to_front()
    window.open_images(images)


def _window_open(window: MainWindow) -> bool:
    """False once the window is closing or closed."""
    import shiboken6

    return shiboken6.isValid(window) and not window.is_closing()


# -- the client side: a new launch, before it has any window ------------------------------------------------
def _message(images: Sequence[str], demo: bool) -> bytes:
    paths = [os.path.abspath(p) for p in images]
    while True:  # thousands of files from a file manager: send what fits (the window takes one anyway)
        data = json.dumps({"images": paths, "demo": bool(demo)}).encode() + b"\n"
        if len(data) < MAX_MESSAGE or not paths:
            return data
        paths = paths[: len(paths) // 2]


def _wait(step: Callable[[int], bool], socket: QLocalSocket, end: float) -> bool:
    """Call a blocking `waitFor...` in short slices until it succeeds, the socket closes or time is up: each
    call holds Python's GIL, and a client in a thread (the tests) must not starve the UI thread it talks to."""
    while (left := int((end - time.monotonic()) * 1000)) > 0:
        if step(min(left, WAIT_SLICE_MS)):
            return True
        if socket.state() == QLocalSocket.LocalSocketState.UnconnectedState:
            return False
    return False


def _exchange(name: str, message: bytes, timeout: float) -> str:
    """Send one message; the instance's answer (`ok`, `busy`, `error`), NO_SERVER or SILENT."""
    end = time.monotonic() + timeout
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not _wait(socket.waitForConnected, socket, end):
        return NO_SERVER
    try:
        socket.write(message)
        while socket.bytesToWrite() > 0 and _wait(socket.waitForBytesWritten, socket, end):
            pass
        reply = bytearray(socket.readAll().data())
        while b"\n" not in reply and _wait(socket.waitForReadyRead, socket, end):
            reply.extend(socket.readAll().data())
        reply.extend(socket.readAll().data())
        answer = bytes(reply).partition(b"\n")[0].decode("ascii", "replace").strip()
        return answer if answer in (OK, BUSY, ERROR) else SILENT
    finally:
        socket.abort()


def hand_over(name: str, images: Sequence[str], demo: bool = False, timeout: float = HANDOVER_TIMEOUT) -> bool:
    """Give `images` (made absolute here, in this process's folder) to the instance listening on `name`.
    True when it took them; False when nobody listens, it is closing, or it did not answer within `timeout`."""
    return _exchange(name, _message(images, demo), timeout) == OK


def claim(
    images: Sequence[str],
    demo: bool = False,
    *,
    name: str | None = None,
    timeout: float = HANDOVER_TIMEOUT,
    patience: float = PATIENCE,
) -> SingleInstance | None:
    """Hand the images to the running instance (None: this launch is done), or become the instance (returned,
    listening). Waits up to `patience` for an instance that is starting up or closing; raises AlreadyRunning
    when one holds the name but does not answer. Needs a QCoreApplication (listening uses its event loop)."""
    instance = SingleInstance(name)
    message = _message(images, demo)
    give_up = time.monotonic() + patience
    while True:
        answer = _exchange(instance.name, message, timeout)
        if answer == OK:
            return None
        if answer == NO_SERVER and instance.listen():
            return instance
        if answer in (SILENT, ERROR):
            raise AlreadyRunning("PixDesk is already running but did not take the images; try again in a moment")
        if time.monotonic() >= give_up:
            raise AlreadyRunning("PixDesk is already running (or still closing); try again in a moment")
        time.sleep(0.05)  # it is starting up (not listening yet) or closing (`busy`)
