"""Clocks, the adaptive poll schedule, backoff and the shared request-rate limit.

Everything time-related goes through a `Clock`, so tests drive the engine with a fake clock.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class RealClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


@dataclass(frozen=True)
class PollPolicy:
    """How often to ask for a job's status.

    When PixDesk knows how long the model takes (the live metrics, its own history) and `adaptive` is on, the
    poll stage follows a plan (`forecast.plan`): sparse while completion is unlikely, dense where it is likely,
    never two polls closer than `min_gap`, no more requests than the API's published example (a fixed loop
    polling every `loop_interval`, 10 s).
    Otherwise, and past the plan's end: the first poll comes `first` seconds after the create (a cached or fast
    job is noticed at once); the interval then grows by `growth` to `ceiling` (7 s), with ±`jitter` so twenty
    jobs do not poll in lock-step.
    Queued time never counts against `generating_budget` (40 minutes of *generating*); after that the
    job is marked stalled, never failed, and is polled again at the next start.
    """

    first: float = 3.0
    growth: float = 1.3
    ceiling: float = 7.0
    jitter: float = 0.15
    adaptive: bool = True
    min_gap: float = 1.0
    loop_interval: float = 10.0
    generating_budget: float = 40 * 60.0


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for failed requests: base·2^n capped at `ceiling`, full jitter, Retry-After honoured up to
    `retry_after_cap` (one minute: a server asking for an hour is asked again after a minute); given up
    (job stalled, still resumable) after `budget` seconds of continuous failure. A create that surely never
    reached the server is tried `create_attempts` times."""

    base: float = 1.0
    ceiling: float = 60.0
    budget: float = 10 * 60.0
    create_attempts: int = 4
    retry_after_cap: float = 60.0


class PollSchedule:
    def __init__(self, policy: PollPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng
        self._interval: float | None = None

    def next_delay(self) -> float:
        p = self.policy
        self._interval = p.first if self._interval is None else min(p.ceiling, self._interval * p.growth)
        return self._interval * (1 + self.rng.uniform(-p.jitter, p.jitter))


class RateLimiter:
    """One token bucket shared by every job's requests, plus a global pause after a 429."""

    def __init__(self, clock: Clock, rate: float = 4.0, burst: float = 4.0) -> None:
        self.clock = clock
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._stamp = clock.now()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float, cap: float = 60.0) -> None:
        """Everyone waits after a 429; never longer than `cap`, whatever the server asked."""
        self._paused_until = max(self._paused_until, self.clock.now() + min(max(0.0, seconds), cap))

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self.clock.now()
                if now < self._paused_until:
                    await self.clock.sleep(self._paused_until - now)
                    continue
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await self.clock.sleep((1 - self._tokens) / self.rate)
