"""Adaptive polling, Retry-After and the queued-time rule, driven by a fake clock (no sleeps)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import Job, JobState, PollPolicy, RetryPolicy
from pixdesk.jobs.retry import backoff_delay
from pixdesk.jobs.timing import PollSchedule
from pixdesk.simulator import Simulator
from tests.helpers import FakeClock, run_one_job


def virtual_sim(clock: FakeClock, queue: float, generate: float) -> Simulator:
    return Simulator(queue_seconds=queue, generate_seconds=generate, render_sync=True, clock=clock.now)


def run_one(sim: Simulator, tmp_path: Path, png: Path, clock: FakeClock) -> Job:
    """One job with the real (default) poll and retry policies, on virtual time."""
    request = GenerationRequest(image=str(png), prompt="waves", resolution="360p")
    return run_one_job(
        sim, tmp_path, request, clock=clock, rng=random.Random(1), poll_policy=PollPolicy(), retry_policy=RetryPolicy()
    )


def test_schedule_starts_fast_and_settles_between_5_and_10_seconds():
    schedule = PollSchedule(PollPolicy(), random.Random(3))
    delays = [schedule.next_delay() for _ in range(12)]
    assert 2.5 <= delays[0] <= 3.5
    assert all(5.0 <= d <= 10.0 for d in delays[5:])
    assert len({round(d, 3) for d in delays[5:]}) > 3  # jittered: twenty jobs do not poll in lock-step


def test_completion_is_noticed_quickly_with_few_requests(tmp_path: Path, png: Path):
    clock = FakeClock()
    with virtual_sim(clock, queue=40, generate=50) as sim:
        job = run_one(sim, tmp_path, png, clock)
        polls = sim.stats.times("poll")
        created = sim.stats.times("create")[0]
    assert job.state is JobState.COMPLETED
    assert polls[0] - created == pytest.approx(3.0, abs=0.5)
    done_at = created + 90
    noticed = next(t for t in polls if t >= done_at)
    assert noticed - done_at <= 8.1  # never more than one settled interval late
    # the published example (fixed 10 s sleep) would need 9-10 polls and notice up to 10 s late
    assert len(polls) <= 17


def test_retry_after_is_honoured_by_every_job(tmp_path: Path, png: Path):
    clock = FakeClock()
    with virtual_sim(clock, queue=5, generate=20) as sim:
        sim.inject("status", "poll", status=429, retry_after=45)
        job = run_one(sim, tmp_path, png, clock)
        polls = sim.stats.times("poll")
    assert job.state is JobState.COMPLETED
    assert polls[1] - polls[0] >= 45


def test_server_errors_back_off_then_recover(tmp_path: Path, png: Path):
    clock = FakeClock()
    with virtual_sim(clock, queue=5, generate=10) as sim:
        sim.inject("status", "poll", status=502, count=4)
        job = run_one(sim, tmp_path, png, clock)
        polls = sim.stats.times("poll")
    assert job.state is JobState.COMPLETED
    gaps = [b - a for a, b in itertools.pairwise(polls)][:4]
    assert gaps[2] > gaps[0]  # exponential backoff, not hammering


def test_queued_time_never_counts_against_the_timeout(tmp_path: Path, png: Path):
    clock = FakeClock()
    with virtual_sim(clock, queue=3 * 3600, generate=60) as sim:  # three hours in the queue
        job = run_one(sim, tmp_path, png, clock)
    assert job.state is JobState.COMPLETED


def test_a_job_generating_too_long_is_stalled_not_failed(tmp_path: Path, png: Path):
    clock = FakeClock()
    with virtual_sim(clock, queue=10, generate=5 * 3600) as sim:
        job = run_one(sim, tmp_path, png, clock)
        polls = sim.stats.times("poll")
    assert job.state is JobState.STALLED
    assert "40 minutes" in (job.error or "")
    assert polls[-1] - polls[0] >= 40 * 60
    assert job.server_id in sim.generations  # the id is kept: it can be picked up again


def test_backoff_grows_caps_and_respects_retry_after():
    policy = RetryPolicy(base=1, ceiling=60)
    rng = random.Random(0)
    assert backoff_delay(policy, 1, rng, None) <= 1
    assert 30 <= backoff_delay(policy, 10, rng, None) <= 60
    assert backoff_delay(policy, 1, rng, 45) == 45
    assert backoff_delay(policy, 1, rng, 3600) == policy.retry_after_cap == 60  # a huge Retry-After is capped
