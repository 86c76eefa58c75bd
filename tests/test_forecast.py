"""The poll plan: optimal on its grid, within the 10 s loop's requests, and learning from what it sees."""

from __future__ import annotations

import itertools
import random

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.api.usage import ModelLatency, Percentiles
from pixdesk.jobs.forecast import (
    Grid,
    LogKernel,
    PercentileCurve,
    _sweep,
    best_mean_lag,
    loop_requests,
    plan,
    quantile,
)
from pixdesk.jobs.latency import LatencyBook, key_of
from pixdesk.simulator.durations import BIMODAL, TYPICAL, WIDE, LogNormal

KEY = key_of(GenerationRequest(image="a.png", prompt="p"))


def brute_force(grid: Grid, price: float) -> float:
    """Every schedule on the grid, by the plain O(n²) recursion."""
    n = grid.points
    best = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i] = min(
            price * (1 - grid.cdf[i])
            + j * grid.step * (grid.cdf[j] - grid.cdf[i])
            - (grid.mass[j] - grid.mass[i])
            + best[j]
            for j in range(i + 1, n + 1)
        )
    return best[0]


@pytest.mark.parametrize("dist", [TYPICAL, WIDE, BIMODAL], ids=["typical", "wide", "bimodal"])
@pytest.mark.parametrize("price", [0.5, 3.0, 20.0])
def test_the_sweep_finds_the_best_schedule_on_its_grid(dist, price):
    grid = Grid.of(dist, quantile(dist, 0.999), 80)
    schedule = _sweep(grid, price, 1)
    assert schedule.lag + price * schedule.requests == pytest.approx(brute_force(grid, price), rel=1e-9)


def test_a_typical_plan_waits_then_polls_densely_around_the_likely_end():
    p = plan(TYPICAL)
    assert p.requests == pytest.approx(loop_requests(TYPICAL), rel=1e-3)  # exactly the loop's budget
    times = p.dense.times
    assert times[0] > 45  # nothing to find in the first 45 s: no requests spent there
    gaps_near_median = [b - a for a, b in itertools.pairwise(times) if 60 < a < 90]
    assert gaps_near_median and max(gaps_near_median) < 4  # dense where clips finish
    assert p.lag < 0.4 * 5.0  # the loop's mean lag is 5 s
    assert p.lag == pytest.approx(best_mean_lag(TYPICAL, p.requests), rel=0.02)


def test_fewer_requests_cost_lag_and_the_bound_falls_as_requests_grow():
    bounds = [best_mean_lag(TYPICAL, r, points=1500) for r in (4, 6, 8, 12)]
    assert bounds == sorted(bounds, reverse=True)


def test_percentiles_of_a_lognormal_rebuild_it():
    truth = LogNormal(75, 0.18)
    q = [quantile(truth, p) for p in (0.5, 0.75, 0.9, 0.99)]
    curve = PercentileCurve.from_percentiles(*q)
    assert curve is not None
    for seconds in (40, 60, 75, 90, 120):
        assert curve.cdf(seconds) == pytest.approx(truth.cdf(seconds), abs=1e-6)


@pytest.mark.parametrize("bad", [(0, 1, 2, 3), (-5, 10, 20, 30), (float("nan"), 1, 2, 3), (float("inf"), 1, 2, 3)])
def test_percentiles_that_describe_nothing_are_not_used(bad):
    assert PercentileCurve.from_percentiles(*bad) is None


def test_percentiles_out_of_order_still_give_a_distribution():
    curve = PercentileCurve.from_percentiles(70, 65, 90, 80)
    assert curve is not None
    values = [curve.cdf(s) for s in range(10, 200, 5)]
    assert values == sorted(values) and values[0] >= 0 and values[-1] <= 1


def test_our_history_keeps_a_fast_and_a_slow_path_apart():
    rng = random.Random(4)
    kernel = LogKernel.from_samples([BIMODAL.sample(rng) for _ in range(150)])
    assert kernel is not None
    between = kernel.cdf(85) - kernel.cdf(65)
    assert between < 0.06  # hardly any job ends between the two paths
    times = plan(kernel).dense.times
    assert any(35 < t < 55 for t in times) and any(100 < t < 140 for t in times)
    assert sum(1 for t in times if 65 < t < 85) <= 2


def metrics(p50: float, p75: float, p90: float, p99: float) -> ModelLatency:
    return ModelLatency("pixverse/v5/image-to-video", None, Percentiles(p50 * 1e3, p75 * 1e3, p90 * 1e3, p99 * 1e3))


def test_no_metrics_and_no_history_means_no_plan():
    book = LatencyBook()
    assert book.plan_for(KEY, 1.0) is None
    book.set_metrics(KEY[0], None, 300, now=0)  # the model absent from the metrics: no data, not "fast"
    assert book.plan_for(KEY, 1.0) is None


def test_live_metrics_alone_give_a_plan_and_history_takes_over():
    book = LatencyBook()
    book.set_metrics(KEY[0], metrics(75, 84, 94, 114), 300, now=0)
    from_metrics = book.plan_for(KEY, 1.0)
    assert from_metrics is not None and 65 < from_metrics.dense.times[3] < 80
    for _ in range(150):  # our own jobs of this kind take twice as long
        book.observe(KEY, 150 + random.Random(len(book.history(KEY))).uniform(-5, 5))
    from_history = book.plan_for(KEY, 1.0)
    assert from_history is not None
    times = from_history.dense.times
    assert sum(1 for t in times if 140 < t < 160) >= 5  # dense where our own jobs finish
    assert times[0] > 110  # with this much history of its own, the model-wide metrics no longer count


def test_metrics_are_refetched_after_their_window_and_later_after_a_failure():
    book = LatencyBook()
    assert book.metrics_due(KEY[0], now=0)
    book.set_metrics(KEY[0], metrics(75, 84, 94, 114), 300, now=0)
    assert not book.metrics_due(KEY[0], now=299) and book.metrics_due(KEY[0], now=300)
    book.metrics_failed(KEY[0], now=300)
    assert not book.metrics_due(KEY[0], now=330) and book.metrics_due(KEY[0], now=360)
    assert book.plan_for(KEY, 1.0) is not None  # the last good metrics are kept meanwhile


def test_a_service_faster_than_the_estimate_is_noticed_and_relearned():
    """Metrics and history say 75 s, but jobs now finish in 10 s: every job is already done at the plan's first
    poll. Within a few jobs PixDesk stops trusting the estimate and polls steadily until it has precise times."""
    book = LatencyBook()
    for _ in range(50):
        book.observe(KEY, 75.0)
    assert book.plan_for(KEY, 1.0) is not None
    jobs = 0
    while not book.is_steady(KEY):
        jobs += 1
        assert jobs <= 6
        book.observe(KEY, 28.0, at_first_poll=True, first_chance=0.05)
    assert book.plan_for(KEY, 1.0) is None  # polled steadily again
    for _ in range(8):
        book.observe(KEY, 10.0)  # precise times from steady polling
    relearned = book.plan_for(KEY, 1.0)
    assert relearned is not None and relearned.dense.times[0] < 12


def test_first_poll_finds_at_the_expected_rate_do_not_look_like_drift():
    book = LatencyBook()
    rng = random.Random(9)
    for _ in range(400):
        hit = rng.random() < 0.1
        book.observe(KEY, 60.0 if hit else 75.0, at_first_poll=hit, first_chance=0.1)
        assert not book.is_steady(KEY)
