"""When to ask whether a clip is done: the best poll times for a known spread of completion times.

A poll costs a request; a clip that finished between two polls waits (the *notice lag*) for the next one. Given
the distribution of completion times T (seconds from the create's answer), the schedule t1 < t2 < … that
minimises  E[lag] + λ·E[requests]  is found exactly on a time grid by dynamic programming. With F the cdf and
M(x) = ∫₀ˣ u dF(u), a poll at t after one at s costs λ·P(T > s) + t·(F(t) − F(s)) − (M(t) − M(s)), so

    V(s) = λ·(1 − F(s)) + M(s) + min over t > s of [ −t·F(s) + (t·F(t) − M(t) + V(t)) ]

is a minimum over lines in F(s); lines arrive in order of slope and queries are monotone, so a convex-hull
sweep gives every V(s) and the best next poll from every s in linear time.

λ is chosen so a job makes as many requests as the docs' fixed 10 s loop would for the same distribution (no
more), and the two optimal schedules either side of that budget are mixed per job, which meets it exactly.
The same computation on the true distribution, with a finer grid, is the benchmark's lower bound.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

SQRT2 = math.sqrt(2.0)
LOOP_INTERVAL = 10.0  # the docs' example: sleep 10 s, poll, repeat
TAIL = 5e-4  # plan until all but this share of jobs are done; after that, today's growing interval
# Normal scores of the percentiles `/models/metrics` publishes.
Z50, Z75, Z90, Z99 = 0.0, 0.6744897501960817, 1.2815515655446004, 2.3263478740408408


class CompletionTimes(Protocol):
    """A distribution of seconds from the create's answer to the clip being ready."""

    def cdf(self, seconds: float) -> float: ...


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / SQRT2))


@dataclass(frozen=True)
class PercentileCurve:
    """A distribution known by a few percentiles (the live metrics): log-time interpolated linearly in normal
    score between them, mirrored below the median and extended past the ends with the nearest slope. Exact for
    a log-normal; for anything else, a smooth guess that our own history soon replaces."""

    zs: tuple[float, ...]
    logs: tuple[float, ...]

    @classmethod
    def from_percentiles(cls, p50: float, p75: float, p90: float, p99: float) -> PercentileCurve | None:
        """Seconds in; None when they cannot describe a distribution (zero, negative, not finite)."""
        values = [p50, p75, p90, p99]
        if not all(math.isfinite(v) and v > 0 for v in values):
            return None
        upper = [math.log(v) for v in values]
        for i in range(1, 4):  # percentiles out of order (a server's rounding): make them monotone
            upper[i] = max(upper[i], upper[i - 1] + 1e-4)
        mid = upper[0]
        lower = [2 * mid - u for u in reversed(upper[1:])]
        zs = (-Z99, -Z90, -Z75, Z50, Z75, Z90, Z99)
        return cls(zs, (*lower, *upper))

    def cdf(self, seconds: float) -> float:
        if seconds <= 0:
            return 0.0
        x = math.log(seconds)
        logs, zs = self.logs, self.zs
        if x <= logs[0]:
            i = 0
        elif x >= logs[-1]:
            i = len(logs) - 2
        else:
            i = next(k for k in range(len(logs) - 1) if logs[k] <= x <= logs[k + 1])
        slope = (zs[i + 1] - zs[i]) / (logs[i + 1] - logs[i])
        return _phi(zs[i] + (x - logs[i]) * slope)


KERNEL_WIDTHS = (0.03, 0.04, 0.055, 0.075, 0.1, 0.14, 0.2, 0.3)


def _kernel_width(logs: Sequence[float]) -> float:
    """The width that best predicts each time from the others (leave-one-out likelihood). A rule of thumb
    (Silverman's) smears a service with a fast and a slow path into one wide hump; this keeps both. The floor
    leaves room for the next time to differ from a dozen identical ones."""
    n = len(logs)
    if n < 3:
        return 0.1
    best, best_score = KERNEL_WIDTHS[-1], -math.inf
    for width in KERNEL_WIDTHS:
        inv = -0.5 / (width * width)
        score = 0.0
        for i, x in enumerate(logs):
            density = sum(math.exp(inv * (x - y) ** 2) for j, y in enumerate(logs) if j != i)
            score += math.log(density / ((n - 1) * width) + 1e-300)
        if score > best_score:
            best, best_score = width, score
    return best


@dataclass(frozen=True)
class LogKernel:
    """Our own history: each observed time a small log-normal bump (a kernel estimate in log time), so a few
    dozen samples already give a smooth distribution and a slow outlier widens it instead of breaking it."""

    logs: tuple[float, ...]
    width: float

    @classmethod
    def from_samples(cls, seconds: Sequence[float]) -> LogKernel | None:
        logs = tuple(math.log(s) for s in seconds if math.isfinite(s) and s > 0)
        if not logs:
            return None
        return cls(logs, _kernel_width(logs))

    def cdf(self, seconds: float) -> float:
        if seconds <= 0:
            return 0.0
        x = math.log(seconds)
        w = self.width * SQRT2
        return sum(0.5 * (1.0 + math.erf((x - v) / w)) for v in self.logs) / len(self.logs)


@dataclass(frozen=True)
class Blend:
    """Several estimates weighted (our history by its size, the live metrics by a fixed weight)."""

    parts: tuple[tuple[float, CompletionTimes], ...]

    def cdf(self, seconds: float) -> float:
        total = sum(w for w, _ in self.parts)
        return sum(w * d.cdf(seconds) for w, d in self.parts) / total


def quantile(dist: CompletionTimes, p: float, high: float = 1e6) -> float:
    """The `p`-quantile by bisection on the cdf (mixtures and kernel estimates have no closed-form inverse)."""
    lo, hi = 0.0, high
    for _ in range(70):
        mid = (lo + hi) / 2
        if dist.cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return hi


# -- the fixed loop of the docs ------------------------------------------------------------------------
def loop_requests(dist: CompletionTimes, interval: float = LOOP_INTERVAL) -> float:
    """Expected polls of a fixed loop: the poll at k·interval happens when the job was not done at (k−1)·interval."""
    total, k = 0.0, 0
    while True:
        alive = 1.0 - dist.cdf(k * interval)
        total += alive
        k += 1
        if alive < 1e-7 or k > 100_000:
            return total


# -- the grid and the sweep ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grid:
    step: float
    cdf: tuple[float, ...]  # F at i·step
    mass: tuple[float, ...]  # M at i·step: ∫ u dF(u) up to there

    @classmethod
    def of(cls, dist: CompletionTimes, horizon: float, points: int) -> Grid:
        step = horizon / points
        cdf = [0.0] * (points + 1)
        for i in range(1, points + 1):
            cdf[i] = min(1.0, max(cdf[i - 1], dist.cdf(i * step)))
        mass = [0.0] * (points + 1)
        area = 0.0  # ∫ F, by trapezoids; M(x) = x·F(x) − ∫₀ˣ F
        for i in range(1, points + 1):
            area += (cdf[i - 1] + cdf[i]) * step / 2
            mass[i] = i * step * cdf[i] - area
        return cls(step, tuple(cdf), tuple(mass))

    @property
    def points(self) -> int:
        return len(self.cdf) - 1


@dataclass(frozen=True)
class Schedule:
    """The best next poll from every grid point (`after[i]`: grid index of the next poll once one was made at
    i·step), and what it costs a fresh job in expectation."""

    step: float
    after: tuple[int, ...]
    requests: float
    lag: float

    @property
    def times(self) -> list[float]:
        """A fresh job's poll times, in seconds after the create's answer."""
        out, i = [], 0
        while i < len(self.after) - 1:
            i = self.after[i]
            out.append(i * self.step)
        return out

    def next_poll(self, elapsed: float) -> float | None:
        """Seconds after the create for the next poll, the last one having been made at `elapsed`; None past the
        planned horizon (the caller falls back to a steady interval)."""
        i = max(0, math.ceil(elapsed / self.step - 1e-9))
        if i >= len(self.after) - 1:
            return None
        return self.after[i] * self.step


def _sweep(grid: Grid, price: float, gap: int) -> Schedule:
    """V and the best next poll for every grid point at `price` (λ, seconds of lag a request is worth)."""
    n = grid.points
    cdf, mass, step = grid.cdf, grid.mass, grid.step
    value = [0.0] * (n + 1)
    after = [n] * (n + 1)
    # Lines y = slope·X + icpt in X = −F(s): slope = t, icpt = t·F(t) − M(t) + V(t). Slopes added in decreasing
    # order, queries X increasing: the best line only ever moves toward the back of the deque.
    hull: deque[tuple[float, float, int]] = deque()

    def add(j: int) -> None:
        t = j * step
        line = (t, t * cdf[j] - mass[j] + value[j], j)
        while len(hull) >= 2:
            (m1, b1, _), (m2, b2, _) = hull[-2], hull[-1]
            if (line[1] - b1) * (m1 - m2) <= (b2 - b1) * (m1 - line[0]):
                hull.pop()
            else:
                break
        hull.append(line)

    add(n)
    for i in range(n - 1, -1, -1):
        if i + gap < n:
            add(i + gap)
        x = -cdf[i]
        while len(hull) >= 2 and hull[1][0] * x + hull[1][1] <= hull[0][0] * x + hull[0][1]:
            hull.popleft()
        slope, icpt, j = hull[0]
        value[i] = price * (1.0 - cdf[i]) + mass[i] + slope * x + icpt
        after[i] = j
    requests = lag = 0.0
    i = 0
    while i < n:
        j = after[i]
        requests += 1.0 - cdf[i]
        lag += j * step * (cdf[j] - cdf[i]) - (mass[j] - mass[i])
        i = j
    return Schedule(step, tuple(after), requests, lag)


@dataclass(frozen=True)
class PollPlan:
    """Two optimal schedules either side of the request budget; each job takes `dense` with probability
    `dense_share`, so the jobs together make exactly the budgeted requests (and do not poll in lock-step)."""

    sparse: Schedule
    dense: Schedule
    dense_share: float
    budget: float
    horizon: float
    estimate: CompletionTimes | None = None

    @property
    def requests(self) -> float:
        return self.dense_share * self.dense.requests + (1 - self.dense_share) * self.sparse.requests

    @property
    def lag(self) -> float:
        return self.dense_share * self.dense.lag + (1 - self.dense_share) * self.sparse.lag

    def pick(self, rng: random.Random) -> Schedule:
        return self.dense if rng.random() < self.dense_share else self.sparse

    def midpoint(self, lo: float, hi: float) -> float:
        """The median of a completion time known to lie in (lo, hi] — what one job's polls teach about the
        distribution (the plain middle would drag the history toward the first, sparse polls)."""
        if self.estimate is None or hi <= lo:
            return (lo + hi) / 2
        low, high = self.estimate.cdf(lo), self.estimate.cdf(hi)
        if high - low < 1e-9:
            return (lo + hi) / 2
        target = (low + high) / 2
        a, b = lo, hi
        for _ in range(40):
            mid = (a + b) / 2
            if self.estimate.cdf(mid) < target:
                a = mid
            else:
                b = mid
        return (a + b) / 2


def plan(
    dist: CompletionTimes,
    budget: float | None = None,
    *,
    min_gap: float = 0.0,
    points: int = 1000,
    horizon: float | None = None,
) -> PollPlan:
    """The least-lag schedules making at most `budget` requests per job (default: the 10 s loop's, for `dist`).

    `min_gap`: never two polls closer than this (the grid's step is the floor). Past the horizon (when all but
    1/2000 of jobs are done) the plan ends and the caller polls at a steady pace."""
    horizon = horizon or quantile(dist, 1.0 - TAIL) * 1.05
    grid = Grid.of(dist, horizon, points)
    gap = max(1, math.ceil(min_gap / grid.step - 1e-9))
    target = budget if budget is not None else loop_requests(dist)
    lo, hi = 1e-6, 1e6  # λ: requests grow as it falls
    dense, sparse = _sweep(grid, lo, gap), _sweep(grid, hi, gap)
    if dense.requests <= target:  # even polling at every step is within budget
        return PollPlan(dense, dense, 1.0, target, horizon, dist)
    if sparse.requests > target:  # the budget is under one poll per job: one poll at the horizon is the least
        return PollPlan(sparse, sparse, 0.0, target, horizon, dist)
    for _ in range(48):
        mid = math.sqrt(lo * hi)
        schedule = _sweep(grid, mid, gap)
        if schedule.requests > target:
            lo, dense = mid, schedule
        else:
            hi, sparse = mid, schedule
        if hi / lo < 1.0 + 1e-6:
            break
    spread = dense.requests - sparse.requests
    share = 0.0 if spread <= 1e-12 else min(1.0, max(0.0, (target - sparse.requests) / spread))
    return PollPlan(sparse, dense, share, target, horizon, dist)


def best_mean_lag(dist: CompletionTimes, requests: float, points: int = 4000) -> float:
    """The lower bound: the least mean notice lag any schedule (randomised ones too) can reach with `requests`
    polls per job on average, knowing `dist` exactly — the Lagrangian dual, which the mixed plan attains."""
    return plan(dist, requests, points=points).lag
