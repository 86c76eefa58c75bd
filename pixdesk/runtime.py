"""Wiring shared by the GUI and the CLI: which server (the real API or the embedded simulator),
the client, the job store, the library and the engine.

The simulator (and PyAV, which renders its videos) is imported only in demo mode. The window may leave
starting it until it is on screen (`start_simulator=False`, then `connect()` from a worker thread): its port is
chosen at once, so the client, the engine and the backend are all known before the simulator listens.
The HTTP client and the job engine (requests, Pillow and the job stages with them) are imported when first used,
not when the runtime is made: the window's first frame needs neither.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pixdesk.api.catalogue import DEFAULT_MODEL
from pixdesk.config import Settings, data_dir, database_path
from pixdesk.jobs.library import Library
from pixdesk.jobs.prices import PriceBook
from pixdesk.jobs.spend import DEMO_BACKEND
from pixdesk.jobs.store import JobStore
from pixdesk.keystore import KeyStore

if TYPE_CHECKING:
    from pixdesk.api.client import ApiClient
    from pixdesk.jobs.engine import JobEngine
    from pixdesk.jobs.timing import PollPolicy
    from pixdesk.simulator import Simulator


def demo_poll_policy() -> PollPolicy:
    """The demo's clips take a tenth of the real time (`simulator.durations.DEMO`): so do its poll budget and gaps.
    (A function: the job machinery, asyncio with it, is imported after the window's first frame.)"""
    from pixdesk.jobs.timing import PollPolicy

    return PollPolicy(first=1.0, growth=1.3, ceiling=2.0, min_gap=0.1, loop_interval=1.0)


# The key demo clients send: `pixdesk.simulator.DEMO_KEY`, named here so that choosing demo mode does not import
# the simulator (tests/test_startup.py checks that the two agree).
DEMO_KEY = "demo-key-not-a-secret"
LOOPBACK = "127.0.0.1"
# In `settings.ui`: whether the last look found a saved key. The window's first frame shows the mode it implies;
# the keychain itself is read off the UI thread just after (`Runtime(key_later=True)`, `read_key`).
KEY_HINT = "had_saved_key"
STOP_WAKE_INTERVAL = 0.005  # s between the connections that wake a stopping simulator's accept loop


@dataclass
class Connection:
    base_url: str
    api_key: str = field(repr=False)  # a secret: never in a repr, a log line or a traceback's locals
    demo: bool = False


def _free_port() -> int:
    """A loopback port free right now, for a simulator that starts a little later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def stop_simulator(simulator: Simulator) -> None:
    """`simulator.stop()`, without waiting for its accept loop's next poll (up to 0.1 s): the loop checks for a
    stop each time it wakes, and a connection to its port wakes it."""
    port = int(simulator.url.rsplit(":", 1)[1])
    stopper = threading.Thread(target=simulator.stop, name="simulator-stop")
    stopper.start()
    deadline = time.monotonic() + 2.0
    while stopper.is_alive() and time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), timeout=0.05):
            pass
        stopper.join(STOP_WAKE_INTERVAL)
    stopper.join()


class Runtime:
    """Owns the simulator (in demo mode), the client and the store; `close()` releases them.

    `start_simulator=False`: in demo mode the simulator is not started (nor imported) here; `connect()` starts it
    on the port `connection` already names. Until then nothing listens there, so whoever uses the client first
    must call `connect()` (the window does, off the UI thread, once it is on screen).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool | None = None,
        keystore: KeyStore | None = None,
        simulator_options: dict[str, Any] | None = None,
        start_simulator: bool = True,
        key_later: bool = False,
    ) -> None:
        """`key_later=True` (the window): a key saved in the keychain or a file is not read here, since the
        keychain may be slow, or even ask to be unlocked; until `read_key()` (a worker thread) the mode is what
        the last run found (`KEY_HINT`). The environment's key, demo mode asked for, and demo mode set in
        Settings need no keychain, so they are known at once either way."""
        self.settings = settings
        self.keystore = keystore or KeyStore()
        self.simulator: Simulator | None = None
        self._simulator_options = simulator_options or {}
        self._simulator_lock = threading.Lock()  # `connect()` on a worker thread, `reconnect()` on another
        self._simulator_port: int | None = None  # the port a simulator not started yet will listen on
        self._closed = False  # after `close()`, `connect()` starts nothing
        self._key_lock = threading.Lock()
        self._key_pending = False
        self._found_key = False
        key: str | None = None
        if bool(demo) or settings.demo_mode:
            self.demo = True
        elif key_later and not KeyStore.environment_key():
            self._key_pending = True
            self.demo = not settings.ui.get(KEY_HINT, False)
        else:
            key = self.keystore.get()
            self.demo = not key
            self._remember(key)
            self.remember_key_hint()
        self.store = JobStore(database_path())
        self.library = Library(settings.library)
        self.connection = self._connect(key, start=start_simulator)
        self._client: ApiClient | None = None  # for `connection`, made on first use
        self._clients: list[ApiClient] = []  # every client made, closed by `close()`
        self.prices = self._price_book()

    @property
    def client(self) -> ApiClient:
        """The client for `connection` (the HTTP stack is imported when it is first needed)."""
        self.read_key()  # normally done already, off the UI thread
        return self._client if self._client is not None else self._new_client()

    def key_known(self) -> bool:
        """Whether the saved key has been looked for (always, unless made with `key_later`)."""
        return not self._key_pending

    def read_key(self) -> bool:
        """Look for the saved key now, if it was left for later. Blocking (the keychain): call it from a worker
        thread. True when the mode differs from the guess (the window then says so; no engine exists yet)."""
        with self._key_lock:
            if not self._key_pending:
                return False
            key = self.keystore.get()
            self._remember(key)
            demo = not key
            changed = demo != self.demo
            self.demo = demo
            if not demo or changed:
                self.connection = self._connect(key, start=False)
            if changed:
                self.prices = self._price_book()
            self._key_pending = False
            return changed

    def _remember(self, key: str | None) -> None:
        self._found_key = bool(key)

    def remember_key_hint(self) -> None:
        """Note in the settings (saved with them) whether a saved key was found, for the next start's first frame.
        On the thread that owns the settings (the UI's): `read_key` runs on a worker, so it only keeps the answer."""
        if self.key_known() and not KeyStore.environment_key():
            self.settings.ui[KEY_HINT] = self._found_key

    def _new_client(self) -> ApiClient:
        from pixdesk.api.client import ApiClient

        client = ApiClient(self.connection.base_url, self.connection.api_key)
        self._clients.append(client)
        self._client = client
        return client

    def _connect(self, key: str | None, *, start: bool = True) -> Connection:
        if self.demo:
            with self._simulator_lock:
                if self.simulator is None and not start:
                    if self._simulator_port is None:
                        self._simulator_port = int(self._simulator_options.get("port") or _free_port())
                    return Connection(f"http://{LOOPBACK}:{self._simulator_port}", DEMO_KEY, True)
                simulator = self._start_simulator()
            return Connection(simulator.url, DEMO_KEY, True)
        if key is None and self._key_pending:  # live, as the last run found: the key itself comes with `read_key`
            return Connection(self.settings.effective_base_url(), "", False)
        assert key
        return Connection(self.settings.effective_base_url(), key, False)

    def _start_simulator(self) -> Simulator:
        """The running simulator, started now if need be (on the port chosen earlier, if it is still free)."""
        if self.simulator is not None:
            return self.simulator
        from pixdesk.simulator import Simulator
        from pixdesk.simulator.durations import DEMO

        # Under the data folder, so demo jobs survive a restart like live ones. Each demo clip takes a time drawn
        # like the real service's (about 75 s), ten times quicker; the metrics say so, so the demo polls by plan.
        options: dict[str, Any] = {"state_dir": data_dir() / "simulator", **self._simulator_options}
        if "queue_seconds" not in options and "generate_seconds" not in options:
            options.setdefault("durations", DEMO)
        port, self._simulator_port = self._simulator_port, None
        if port is not None:
            try:
                self.simulator = Simulator(**{**options, "port": port}).start()
                return self.simulator
            except OSError:  # taken meanwhile (another program): any free port will do, `connect` says so
                pass
        self.simulator = Simulator(**options).start()
        return self.simulator

    def connect(self) -> bool:
        """Start the demo simulator if it was left for later. Blocking (an import and a start): call it from a
        worker thread. True when the client changed (the port chosen earlier was taken): give the engine
        `client` for `backend`. Reads the saved key first, if that was left for later."""
        if self.read_key() and not self.demo:
            return True  # live after all: the client for the key just read
        if not self.demo:
            return False
        with self._simulator_lock:
            if self.simulator is not None or self._closed:  # running already, or the window closed meanwhile
                return False
            simulator = self._start_simulator()
        if simulator.url == self.connection.base_url:
            return False
        self.connection = Connection(simulator.url, DEMO_KEY, True)
        self._new_client()
        return True

    def reconnect(self, demo: bool | None = None) -> ApiClient:
        """After a settings change: a new client (the engine takes it for new requests)."""
        with self._key_lock:
            key = self.keystore.get()
            self._key_pending = False
            self._remember(key)
        self.demo = bool(demo) if demo is not None else (self.settings.demo_mode or not key)
        self.connection = self._connect(key)
        client = self._new_client()
        self.prices = self._price_book()
        return client

    def _price_book(self) -> PriceBook:
        """Live and demo prices are cached apart: the simulator's are not the API's."""
        book = PriceBook(data_dir() / ("prices-demo.json" if self.demo else "prices.json"))
        book.load_cached(DEFAULT_MODEL.model_id)
        return book

    @property
    def backend(self) -> str:
        return DEMO_BACKEND if self.demo else self.connection.base_url

    def make_engine(self, **kwargs: Any) -> JobEngine:
        self.read_key()  # the engine is made for one mode: its backend, prices, polls and client agree
        kwargs.setdefault("max_in_flight", self.settings.max_in_flight)
        kwargs.setdefault("backend", self.backend)
        kwargs.setdefault("prices", self.prices)
        if self.demo:  # the simulator is local: poll it briskly so the demo feels quick
            kwargs.setdefault("poll_policy", demo_poll_policy())
        from pixdesk.jobs.engine import JobEngine

        return JobEngine(self.client, self.store, self.library, **kwargs)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.store.close()
        with self._simulator_lock:
            simulator, self.simulator = self.simulator, None
            self._closed = True
        if simulator is not None:
            stop_simulator(simulator)
