"""What PixDesk knows about how long a clip takes — the API's live metrics and its own history — turned into
a poll plan (`forecast.plan`). With neither, there is no plan and the poll stage keeps its steady schedule.

Our own history is per model, resolution and duration (a 1080p 8 s clip takes longer than a 540p 5 s one);
the live metrics are per model, but say how the service is doing *now*. Both go into one estimate: history
weighted by its size, the metrics as if they were `METRICS_WEIGHT` of our own samples, until our own history
is large enough to stand alone.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from pixdesk.api.request import GenerationRequest
from pixdesk.api.usage import ModelLatency
from pixdesk.jobs.forecast import (
    LOOP_INTERVAL,
    Blend,
    CompletionTimes,
    LogKernel,
    PercentileCurve,
    PollPlan,
    loop_requests,
    plan,
)

Key = tuple[str, str, str]  # model, resolution, duration — as the server will run them

METRICS_WEIGHT = 10.0
MIN_SAMPLES = 5  # fewer of our own times than this: the live metrics alone (or nothing)
# This many of our own times: they alone (the metrics are model-wide; a 1080p 8 s clip is not the average one).
# A service that gets faster than our history is caught by the first-poll check below.
ENOUGH_SAMPLES = 30
KEEP = 150  # the most recent times per key: the service changes, old times stop saying much
METRICS_TTL = (60.0, 900.0)  # refresh the live metrics after their window, within these bounds
METRICS_RETRY = 60.0
# Found done at the first poll far more often in the last SURPRISE_WINDOW jobs than the plan expected (it puts
# its first poll where about one job in ten is done): the estimate is too slow; poll the next RELEARN steadily.
SURPRISE_WINDOW, RELEARN = 10, 8
# Plan for a little fewer requests than the loop: the estimate is never exact, and the promise is "no more".
BUDGET_MARGIN = 0.04  # after a failed fetch, ask again this much later


def key_of(request: GenerationRequest) -> Key:
    return (request.model, str(request.effective("resolution")), str(request.effective("duration")))


def _too_many(surprises: deque[tuple[bool, float]]) -> bool:
    """More first-poll finds than chance allows (mean + 3 standard deviations, and at least four)."""
    hits = sum(1 for hit, _ in surprises if hit)
    expected = sum(chance for _, chance in surprises)
    spread = math.sqrt(sum(chance * (1 - chance) for _, chance in surprises))
    return hits >= max(4.0, expected + 3 * spread + 1.0)


def _bucket(count: int) -> int:
    """Re-plan when history has grown enough to matter: at each new sample up to 10, then every 10, then 25."""
    if count <= 10:
        return count
    if count <= 60:
        return 10 + (count - 10) // 10
    return 15 + (count - 60) // 25


@dataclass
class _Metrics:
    curve: PercentileCurve | None
    due: float  # clock time of the next fetch
    stamp: int  # bumps on every change, so plans built on older metrics are rebuilt


class LatencyBook:
    """Thread-safe: plans are built on a worker thread while the event loop records new times."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._history: dict[Key, deque[float]] = {}
        self._observed: dict[Key, int] = {}
        self._metrics: dict[str, _Metrics] = {}
        self._plans: dict[Key, tuple[tuple[int, int, bool], PollPlan | None]] = {}
        self._surprises: dict[Key, deque[tuple[bool, float]]] = {}
        self._steady_until: dict[Key, int] = {}
        self.history_loaded = False

    # -- what we learn ---------------------------------------------------------------------------------
    def observe(self, key: Key, seconds: float, *, at_first_poll: bool = False, first_chance: float = 0.0) -> None:
        """A job of `key` took `seconds`. `at_first_poll`: it was already done when first asked, so the time is
        a guess (`first_chance`: how likely the plan thought that was) — and when that keeps happening far more
        often than the plan expected, the estimate is too slow (the service got faster than our
        history and the metrics say): it is dropped and the next jobs are polled steadily until it is rebuilt
        from precise times. Without this, a plan whose first poll comes late could never learn otherwise."""
        if not (math.isfinite(seconds) and seconds > 0):
            return
        with self._lock:
            history = self._history.setdefault(key, deque(maxlen=KEEP))
            surprises = self._surprises.setdefault(key, deque(maxlen=SURPRISE_WINDOW))
            count = self._observed[key] = self._observed.get(key, 0) + 1
            if self._planned(key):
                surprises.append((at_first_poll, min(1.0, max(0.0, first_chance))))
            if _too_many(surprises):
                history.clear()
                surprises.clear()
                self._steady_until[key] = count + RELEARN
                return
            history.append(seconds)

    def _planned(self, key: Key) -> bool:
        return self._observed.get(key, 0) >= self._steady_until.get(key, 0)

    def is_steady(self, key: Key) -> bool:
        """True while PixDesk has stopped trusting its estimate for `key` and polls at the steady pace."""
        with self._lock:
            return not self._planned(key)

    def load(self, rows: Iterable[tuple[Key, float]]) -> None:
        """Times from the job database, oldest first."""
        for key, seconds in rows:
            self.observe(key, seconds)
        self.history_loaded = True

    def history(self, key: Key) -> list[float]:
        with self._lock:
            return list(self._history.get(key, ()))

    def metrics_due(self, model: str, now: float) -> bool:
        with self._lock:
            entry = self._metrics.get(model)
        return entry is None or now >= entry.due

    def set_metrics(self, model: str, latency: ModelLatency | None, window: float | None, now: float) -> None:
        """A fresh answer of `/models/metrics`. A model absent from it means "no data", never "fast"."""
        curve = None
        if latency is not None and latency.duration_ms is not None:
            p = latency.duration_ms
            curve = PercentileCurve.from_percentiles(p.p50 / 1000, p.p75 / 1000, p.p90 / 1000, p.p99 / 1000)
        ttl = min(max(window or 0.0, METRICS_TTL[0]), METRICS_TTL[1])
        with self._lock:
            old = self._metrics.get(model)
            stamp = (old.stamp + 1) if old is not None and old.curve != curve else (old.stamp if old else 1)
            self._metrics[model] = _Metrics(curve, now + ttl, stamp)

    def metrics_failed(self, model: str, now: float) -> None:
        """Keep what we had (it is still the best guess); ask again later."""
        with self._lock:
            old = self._metrics.get(model)
            self._metrics[model] = _Metrics(old.curve if old else None, now + METRICS_RETRY, old.stamp if old else 0)

    # -- what we make of it ----------------------------------------------------------------------------
    def estimate(self, key: Key) -> CompletionTimes | None:
        with self._lock:
            if not self._planned(key):
                return None
            samples = list(self._history.get(key, ()))
            metrics = self._metrics.get(key[0])
        curve = metrics.curve if metrics is not None else None
        kernel = LogKernel.from_samples(samples) if len(samples) >= MIN_SAMPLES else None
        if kernel is not None and curve is not None and len(samples) < ENOUGH_SAMPLES:
            return Blend(((float(len(samples)), kernel), (METRICS_WEIGHT, curve)))
        return kernel or curve

    def _signature(self, key: Key) -> tuple[int, int, bool]:
        with self._lock:
            metrics = self._metrics.get(key[0])
            return (_bucket(self._observed.get(key, 0)), metrics.stamp if metrics else 0, self._planned(key))

    def cached_plan(self, key: Key) -> tuple[bool, PollPlan | None]:
        """(True, plan) when the plan for `key` is up to date — cheap, for the event loop."""
        with self._lock:
            entry = self._plans.get(key)
        if entry is not None and entry[0] == self._signature(key):
            return True, entry[1]
        return False, None

    def plan_for(self, key: Key, min_gap: float, loop_interval: float = LOOP_INTERVAL) -> PollPlan | None:
        """Build (or reuse) the plan for `key`, with no more requests than a fixed loop every `loop_interval`:
        tens of milliseconds of arithmetic, so call it off the event loop."""
        signature = self._signature(key)
        with self._lock:
            entry = self._plans.get(key)
        if entry is not None and entry[0] == signature:
            return entry[1]
        estimate = self.estimate(key)
        result = None
        if estimate is not None:
            budget = loop_requests(estimate, loop_interval) * (1.0 - BUDGET_MARGIN)
            result = plan(estimate, budget, min_gap=min_gap)
        with self._lock:
            self._plans[key] = (signature, result)
        return result
