"""Notice lag: how long a finished clip waits for PixDesk to notice it, in virtual time (no sleeping).

For each completion-time distribution (the docs' "about 1–1.5 minutes", a wide and a bimodal case) it runs
JOBS jobs one after another through the engine's real poll stage on a virtual clock: the status answers come
from an in-process stand-in that says "completed" once the job's drawn time has passed, and the live metrics
come over HTTP from the real simulator running the same distribution. PixDesk starts knowing nothing of its
own and learns from every job, as it would after installation.

Compared against, on the same drawn times: the docs' fixed 10 s loop, and the lower bound — the least mean lag
any schedule can reach with the loop's requests per job when it knows the distribution exactly (dynamic
programming over poll times; see `pixdesk.jobs.forecast`). Targets: requests per job ≤ the loop's, mean lag
≤ 1.2 × the bound.
"""

from __future__ import annotations

import asyncio
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pixdesk.api.client import ApiClient
from pixdesk.api.request import GenerationRequest
from pixdesk.api.responses import GenerationStatus, parse_status
from pixdesk.api.usage import Metrics
from pixdesk.jobs import JobEngine, JobStore, Library, stages
from pixdesk.jobs.forecast import best_mean_lag
from pixdesk.jobs.models import Job, JobState
from pixdesk.jobs.timing import PollPolicy
from pixdesk.runtime import demo_poll_policy
from pixdesk.simulator import Simulator
from pixdesk.simulator.durations import BIMODAL, DEMO, TYPICAL, WIDE, Durations

JOBS = 1000
TARGET_RATIO = 1.2
REAL = PollPolicy()
# (name, distribution, the engine's policy, the loop it is compared with): the demo runs ten times quicker and
# compares with a 1 s loop — the same plan, scaled, as the window's demo mode uses.
CASES: list[tuple[str, Durations, PollPolicy]] = [
    ("typical", TYPICAL, REAL),
    ("wide", WIDE, REAL),
    ("bimodal", BIMODAL, REAL),
    ("demo", DEMO, demo_poll_policy()),
]


class VirtualClock:
    """The engine's clock interface on virtual time: `sleep` moves time on at once."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


class VirtualServer:
    """Status answers on virtual time (a real HTTP round trip per poll would make 8000 polls take real time);
    the live metrics are the real simulator's, over HTTP."""

    def __init__(self, clock: VirtualClock, metrics_from: ApiClient) -> None:
        self.clock = clock
        self.metrics_from = metrics_from
        self.done_at: dict[str, float] = {}
        self.polls = 0

    def status(self, generation_id: str) -> GenerationStatus:
        self.polls += 1
        done = self.clock.now() >= self.done_at[generation_id]
        answer: dict[str, Any] = {"id": generation_id, "status": "completed" if done else "generating"}
        if done:
            answer["video"] = {"url": f"https://cdn.example.com/{generation_id}.mp4"}
        return parse_status(answer)

    def model_metrics(self, model: str | None = None) -> Metrics:
        return self.metrics_from.model_metrics(model)


async def run_pixdesk(
    dist: Durations, policy: PollPolicy, times: list[float], folder: Path
) -> tuple[list[float], list[int]]:
    """Each job through the real poll stage; returns notice lags and polls per job."""
    clock = VirtualClock()
    with Simulator(durations=dist, timing_seed=7) as sim:
        metrics = ApiClient(sim.url, "sk-bench")
        server = VirtualServer(clock, metrics)
        store = JobStore(folder / "jobs.sqlite3")
        engine = JobEngine(
            metrics,
            store,
            Library(folder / "videos"),
            clock=clock,
            rng=random.Random(5),
            backend="bench",
            poll_policy=policy,
        )
        engine.services.clients["bench"] = server  # type: ignore[assignment]
        lags: list[float] = []
        polls: list[int] = []
        request = GenerationRequest(image="photo.png", prompt="waves", resolution="720p", duration=5)
        try:
            for n, seconds in enumerate(times):
                job = Job(request=request, state=JobState.QUEUED, backend="bench", server_id=f"gen-{n}")
                job.submitted_at = time.time()
                server.done_at[job.server_id or ""] = clock.now() + seconds
                before = server.polls
                await stages.poll(engine.services, job, just_sent=True)
                lags.append(clock.now() - server.done_at[job.server_id or ""])
                polls.append(server.polls - before)
        finally:
            await engine.close()
            store.close()
            metrics.close()
    return lags, polls


def run_loop(times: list[float], interval: float) -> tuple[list[float], list[int]]:
    """The docs' example: sleep 10 s, poll, repeat."""
    polls = [max(1, math.ceil(t / interval - 1e-12)) for t in times]
    return [k * interval - t for k, t in zip(polls, times, strict=True)], polls


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> int:
    print(f"Notice lag over {JOBS} jobs per case, virtual time (seconds; lower is better)")
    header = f"{'case':<9} {'schedule':<24} {'req/job':>8} {'mean lag':>9} {'p95 lag':>8}"
    print(header)
    print("-" * len(header))
    missed = []
    for name, dist, policy in CASES:
        rng = random.Random(2026)
        times = [dist.sample(rng) for _ in range(JOBS)]
        loop_lags, loop_polls = run_loop(times, policy.loop_interval)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            lags, polls = asyncio.run(run_pixdesk(dist, policy, times, Path(folder)))
            took = time.perf_counter() - started
        loop_req = statistics.fmean(loop_polls)
        bound = best_mean_lag(dist, loop_req)
        req = statistics.fmean(polls)
        lag = statistics.fmean(lags)
        loop = f"fixed {policy.loop_interval:g} s loop" + (" (docs)" if policy.loop_interval == 10 else "")
        print(f"{name:<9} {loop:<24} {loop_req:8.2f} {statistics.fmean(loop_lags):9.2f} {p95(loop_lags):8.2f}")
        print(f"{'':<9} {'PixDesk':<24} {req:8.2f} {lag:9.2f} {p95(lags):8.2f}")
        print(f"{'':<9} {'lower bound (same req)':<24} {loop_req:8.2f} {bound:9.2f} {'':>8}")
        ratio, req_ratio = lag / bound, req / loop_req
        ok = ratio <= TARGET_RATIO and req <= loop_req
        print(
            f"{'':<9} PixDesk/bound {ratio:.2f}× (target ≤ {TARGET_RATIO}), requests PixDesk/loop "
            f"{req_ratio:.2f}× (target ≤ 1), lag PixDesk/loop {lag / statistics.fmean(loop_lags):.2f}× "
            f"{'ok' if ok else 'MISSED'} [{took:.1f} s real time]"
        )
        if not ok:
            missed.append(name)
    if missed:
        print(f"targets missed: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
