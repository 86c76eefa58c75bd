"""Wiring shared by the GUI and the CLI: which server (the real API or the embedded simulator),
the client, the job store, the library and the engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pixdesk.api.catalogue import DEFAULT_MODEL
from pixdesk.api.client import ApiClient
from pixdesk.config import Settings, data_dir, database_path
from pixdesk.jobs.engine import DEMO_BACKEND, JobEngine
from pixdesk.jobs.library import Library
from pixdesk.jobs.prices import PriceBook
from pixdesk.jobs.store import JobStore
from pixdesk.jobs.timing import PollPolicy
from pixdesk.keystore import KeyStore
from pixdesk.simulator import DEMO_KEY, Simulator

DEMO_POLL = PollPolicy(first=1.0, growth=1.3, ceiling=2.0)


@dataclass
class Connection:
    base_url: str
    api_key: str
    demo: bool


class Runtime:
    """Owns the simulator (in demo mode), the client and the store; `close()` releases them."""

    def __init__(
        self,
        settings: Settings,
        *,
        demo: bool | None = None,
        keystore: KeyStore | None = None,
        simulator_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.keystore = keystore or KeyStore()
        self.simulator: Simulator | None = None
        self._simulator_options = simulator_options or {}
        key = self.keystore.get()
        self.demo = bool(demo) or settings.demo_mode or not key
        self.store = JobStore(database_path())
        self.library = Library(settings.library)
        self.connection = self._connect(key)
        self.client = ApiClient(self.connection.base_url, self.connection.api_key)
        self._clients = [self.client]
        self.prices = self._price_book()

    def _connect(self, key: str | None) -> Connection:
        if self.demo:
            if self.simulator is None:
                # Under the data folder, so demo jobs survive a restart like live ones.
                options = {
                    "queue_seconds": 2.0,
                    "generate_seconds": 6.0,
                    "state_dir": data_dir() / "simulator",
                    **self._simulator_options,
                }
                self.simulator = Simulator(**options).start()
            return Connection(self.simulator.url, DEMO_KEY, True)
        assert key
        return Connection(self.settings.effective_base_url(), key, False)

    def reconnect(self, demo: bool | None = None) -> ApiClient:
        """After a settings change: a new client (the engine takes it for new requests)."""
        key = self.keystore.get()
        self.demo = bool(demo) if demo is not None else (self.settings.demo_mode or not key)
        self.connection = self._connect(key)
        self.client = ApiClient(self.connection.base_url, self.connection.api_key)
        self._clients.append(self.client)
        self.prices = self._price_book()
        return self.client

    def _price_book(self) -> PriceBook:
        """Live and demo prices are cached apart: the simulator's are not the API's."""
        book = PriceBook(data_dir() / ("prices-demo.json" if self.demo else "prices.json"))
        book.load_cached(DEFAULT_MODEL.model_id)
        return book

    @property
    def backend(self) -> str:
        return DEMO_BACKEND if self.demo else self.connection.base_url

    def make_engine(self, **kwargs: Any) -> JobEngine:
        kwargs.setdefault("max_in_flight", self.settings.max_in_flight)
        kwargs.setdefault("backend", self.backend)
        kwargs.setdefault("prices", self.prices)
        if self.demo:  # the simulator is local: poll it briskly so the demo feels quick
            kwargs.setdefault("poll_policy", DEMO_POLL)
        return JobEngine(self.client, self.store, self.library, **kwargs)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.store.close()
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
