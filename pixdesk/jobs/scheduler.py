"""Who may go to the server now: in-flight slots, the request-rate limit all jobs share, the gate that holds
new submissions while the key is refused, the credits are out, or the engine is closing, and the person's own
pause of the queue.

The gate and the pause are two separate switches: the gate is the money guard's (opened again when the key
or the balance is fixed), the pause is the person's (opened again only by Resume). Reopening one never
reopens the other. The pause holds only what has not been sent: no slot is given for a new create while
it lasts, but jobs already at the server keep their slots and are watched to the end."""

from __future__ import annotations

import asyncio

from pixdesk.jobs.timing import Clock, RateLimiter


class Scheduler:
    def __init__(self, clock: Clock, *, max_in_flight: int = 4, requests_per_second: float = 8.0) -> None:
        self.clock = clock
        self.rate = RateLimiter(clock, rate=requests_per_second, burst=requests_per_second)
        self._max_in_flight = max(1, int(max_in_flight))
        self._in_flight = 0
        self._slot_waiters: list[asyncio.Future[None]] = []
        self._open = asyncio.Event()
        self._open.set()
        self.pause_reason: str | None = None
        self._running = asyncio.Event()  # set unless the person paused the queue
        self._running.set()

    # -- slots: how many jobs are at the server at once ------------------------------------------------
    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    @max_in_flight.setter
    def max_in_flight(self, value: int) -> None:
        self._max_in_flight = max(1, int(value))
        self._wake()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def acquire_slot(self) -> None:
        """Wait for a free slot (none is given while the queue is paused); waiters are woken in the order they
        came."""
        woken = False
        while self.queue_paused or self._in_flight >= self._max_in_flight:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if woken:  # woken, then beaten to the slot (or paused again): it keeps its place at the front
                self._slot_waiters.insert(0, waiter)
            else:
                self._slot_waiters.append(waiter)
            woken = True
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._slot_waiters.remove(waiter)
                    self._wake()  # woken, then cancelled before taking the slot: pass the wake-up on
                raise
            finally:
                if waiter in self._slot_waiters:
                    self._slot_waiters.remove(waiter)
        self._in_flight += 1

    def take_slot(self) -> None:
        """A job already at the server (resumed) is watched at once: it takes a slot without waiting."""
        self._in_flight += 1

    def release_slot(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        self._wake()

    def _wake(self) -> None:
        if self.queue_paused:
            return  # woken now, a waiter would find no slot and queue up again behind later ones
        free = self._max_in_flight - self._in_flight
        for waiter in [w for w in self._slot_waiters if not w.done()][: max(0, free)]:
            waiter.set_result(None)

    # -- the gate for new submissions --------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def close_gate(self, reason: str) -> bool:
        """Returns True when this closed it (so the caller tells the user once)."""
        if self.pause_reason is not None:
            return False
        self.pause_reason = reason
        self._open.clear()
        return True

    def open_gate(self) -> bool:
        if self.pause_reason is None:
            return False
        self.pause_reason = None
        self._open.set()
        return True

    async def wait_open(self) -> None:
        await self._open.wait()

    # -- the person's pause of the queue ------------------------------------------------------------------
    @property
    def queue_paused(self) -> bool:
        return not self._running.is_set()

    def pause_queue(self) -> bool:
        """Hold every create not yet sent. Returns True when this paused it (False: it already was)."""
        if self.queue_paused:
            return False
        self._running.clear()
        return True

    def resume_queue(self) -> bool:
        """Let the held jobs go, in the order they came, as slots allow. True when this resumed it."""
        if not self.queue_paused:
            return False
        self._running.set()
        self._wake()
        return True

    async def wait_queue_running(self) -> None:
        await self._running.wait()
