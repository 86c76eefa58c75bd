"""The engine polls by plan against the real simulator (real HTTP, virtual time): sparse early, dense where clips
finish, learning from its own history across restarts and falling back to the steady schedule with no data."""

from __future__ import annotations

import asyncio
import math
import random
from pathlib import Path

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import Job, JobState, PollPolicy, RetryPolicy
from pixdesk.jobs.store import JobStore
from pixdesk.simulator import Simulator
from pixdesk.simulator.durations import Fixed, LogNormal
from tests.helpers import FakeClock, make_engine

REQUEST_KW = {"prompt": "waves", "resolution": "360p"}


def run_jobs(sim: Simulator, folder: Path, png: Path, clock: FakeClock, count: int) -> list[Job]:
    """`count` jobs one after another through one engine, with the real default policies on virtual time."""

    async def go() -> list[Job]:
        engine = make_engine(
            sim, folder, clock=clock, rng=random.Random(3), poll_policy=PollPolicy(), retry_policy=RetryPolicy()
        )
        done = []
        try:
            for _ in range(count):
                job = await engine.submit(GenerationRequest(image=str(png), **REQUEST_KW))
                done.append(await engine.wait(job.id))
        finally:
            await engine.close()
        return done

    return asyncio.run(go())


def lags_and_polls(sim: Simulator, jobs: list[Job]) -> list[tuple[float, int]]:
    """(notice lag, polls) per job, from the simulator's own record of when each job was created and polled."""
    creates = sim.stats.times("create")
    polls = sim.stats.times("poll")
    out = []
    for n, job in enumerate(jobs):
        start = creates[n]
        end = creates[n + 1] if n + 1 < len(creates) else math.inf
        mine = [t for t in polls if start < t <= end]
        done_at = sim.generations[job.server_id or ""].created + sim.generation_seconds(job.server_id or "")
        noticed = next(t for t in mine if t >= done_at)
        out.append((noticed - done_at, sum(1 for t in mine if t <= noticed)))
    return out


def test_with_live_metrics_the_first_job_is_polled_by_plan(tmp_path: Path, png: Path):
    clock = FakeClock()
    with Simulator(durations=LogNormal(75, 0.18), timing_seed=1, render_sync=True, clock=clock.now) as sim:
        jobs = run_jobs(sim, tmp_path, png, clock, 10)
        figures = lags_and_polls(sim, jobs)
        first_polls = [p for p in sim.stats.times("poll") if p < sim.stats.times("create")[0] + 40]
    assert all(j.state is JobState.COMPLETED for j in jobs)
    assert first_polls == []  # nothing asked in the first 40 s: clips take about 75 s
    mean_lag = sum(lag for lag, _ in figures) / len(figures)
    assert mean_lag < 3.0  # the 10 s loop averages 5 s
    loop_polls = sum(math.ceil(sim.generation_seconds(j.server_id or "") / 10) for j in jobs)
    assert sum(polls for _, polls in figures) <= loop_polls + 3  # the promise holds on average, not per job
    assert sim.stats.count("metrics") >= 1


def test_without_metrics_or_history_the_steady_schedule_is_kept(tmp_path: Path, png: Path):
    clock = FakeClock()
    with Simulator(queue_seconds=10, generate_seconds=40, render_sync=True, clock=clock.now) as sim:
        jobs = run_jobs(sim, tmp_path, png, clock, 1)
        polls = sim.stats.times("poll")
        created = sim.stats.times("create")[0]
    assert jobs[0].state is JobState.COMPLETED
    assert polls[0] - created == pytest.approx(3.0, abs=0.5)  # the steady schedule's first poll


def test_history_survives_a_restart_and_plans_the_next_jobs(tmp_path: Path, png: Path):
    """No metrics at all (a server without the endpoint): PixDesk learns from its own jobs, keeps what it learnt
    in the job database, and after a restart polls the first job by plan."""
    clock = FakeClock()
    with Simulator(durations=Fixed(60), render_sync=True, clock=clock.now, background_samples=0) as sim:
        sim.inject("status", "metrics", status=404, count=100)
        learned = run_jobs(sim, tmp_path, png, clock, 8)
    assert all(j.server_seconds is not None and 55 <= j.server_seconds <= 65 for j in learned)
    stored = JobStore(tmp_path / "jobs.sqlite3")
    try:
        assert len(stored.completion_times()) == 8
    finally:
        stored.close()
    with Simulator(durations=Fixed(60), render_sync=True, clock=clock.now, background_samples=0) as sim:
        sim.inject("status", "metrics", status=404, count=100)
        jobs = run_jobs(sim, tmp_path, png, clock, 1)  # a new engine on the same database
        polls = sim.stats.times("poll")
        created = sim.stats.times("create")[0]
    assert jobs[0].state is JobState.COMPLETED
    assert polls[0] - created > 40  # by plan: not the steady schedule's 3 s
    assert polls[-1] - (created + 60) < 3


def test_a_metrics_endpoint_that_fails_costs_nothing(tmp_path: Path, png: Path):
    clock = FakeClock()
    with Simulator(queue_seconds=2, generate_seconds=5, render_sync=True, clock=clock.now) as sim:
        sim.inject("status", "metrics", status=500, count=100)
        jobs = run_jobs(sim, tmp_path, png, clock, 2)
    assert [j.state for j in jobs] == [JobState.COMPLETED, JobState.COMPLETED]


def test_a_service_that_got_faster_than_its_metrics_is_caught_up_with(tmp_path: Path, png: Path):
    """The metrics say 75 s (stale), jobs now take 10 s: the first jobs are found late, then PixDesk stops
    trusting the estimate and notices the next ones within the steady schedule's few seconds."""
    clock = FakeClock()
    with Simulator(durations=LogNormal(75, 0.18), timing_seed=2, render_sync=True, clock=clock.now) as sim:
        sim.durations = Fixed(10)
        jobs = run_jobs(sim, tmp_path, png, clock, 12)
        figures = lags_and_polls(sim, jobs)
    assert all(j.state is JobState.COMPLETED for j in jobs)
    assert figures[0][0] > 20  # found late: the plan expected 75 s
    assert all(lag < 8 for lag, _ in figures[-4:])


def test_the_simulator_command_refuses_a_durations_spec_it_cannot_read(capsys):
    from pixdesk.cli import main

    assert main(["simulator", "--durations", "lognormal:75"]) == 2
    assert "lognormal:MEDIAN:SIGMA" in capsys.readouterr().err
