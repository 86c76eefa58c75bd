"""What jobs cost, in USD, from what the store knows: the ledger's charge when it has posted, else what the
server's answers reported, else the estimate made before sending. Demo jobs never count as spend, and a
generation that failed costs nothing (the API does not charge failures)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pixdesk.api.pricing import CREDITS_PER_USD
from pixdesk.jobs.models import Job, JobState

DEMO_BACKEND = "demo"


class CostSource(StrEnum):
    CHARGED = "charged"  # the ledger agrees
    REPORTED = "reported"  # the server's answers said so; the ledger has not confirmed it yet
    ESTIMATED = "estimated"  # quoted before sending; not reported yet
    NONE = "none"  # costs nothing (demo, failed, never sent) or nothing is known


@dataclass(frozen=True)
class Cost:
    usd: float
    source: CostSource

    @property
    def label(self) -> str:
        """What a row says: "charged $0.55" only when the ledger agrees."""
        if self.source is CostSource.CHARGED:
            return f"charged ${self.usd:,.2f}"
        if self.source is CostSource.REPORTED:
            return f"${self.usd:,.2f} (awaiting ledger)"
        if self.source is CostSource.ESTIMATED:
            return f"estimated ${self.usd:,.2f}"
        return ""


FREE = Cost(0.0, CostSource.NONE)


def is_demo(job: Job) -> bool:
    return job.backend == DEMO_BACKEND


def cost_of(job: Job) -> Cost:
    if is_demo(job):
        return FREE
    if job.charged_usd is not None:
        return Cost(job.charged_usd, CostSource.CHARGED)
    if job.state is JobState.FAILED or (job.server_id is None and job.state is not JobState.SUBMITTING):
        return FREE  # failed generations are not charged; a job never sent cannot be
    if job.state is JobState.COMPLETED:
        if job.usd_spent is not None:
            return Cost(job.usd_spent, CostSource.REPORTED)
        if job.credits is not None:
            return Cost(job.credits / CREDITS_PER_USD, CostSource.REPORTED)
    if job.estimated_usd is not None:
        return Cost(job.estimated_usd, CostSource.ESTIMATED)
    return FREE


@dataclass(frozen=True)
class Spend:
    usd: float  # charged or reported
    in_flight_usd: float  # estimated for jobs the server has or may have, not finished yet
    jobs: int

    @property
    def total_usd(self) -> float:
        return self.usd + self.in_flight_usd


def spend_of(jobs: Iterable[Job], since: float, until: float | None = None) -> Spend:
    """Live spend of jobs created in [since, until): charged/reported plus what is in flight."""
    done = flying = 0.0
    count = 0
    for job in jobs:
        if job.created_at < since or (until is not None and job.created_at >= until) or is_demo(job):
            continue
        cost = cost_of(job)
        if cost.source is CostSource.NONE:
            continue
        count += 1
        if cost.source is CostSource.ESTIMATED:  # at the server (or maybe): counted until it is known
            flying += cost.usd
        else:
            done += cost.usd
    return Spend(done, flying, count)


def start_of_day(now: float | None = None) -> float:
    t = time.localtime(time.time() if now is None else now)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


def start_of_month(now: float | None = None) -> float:
    t = time.localtime(time.time() if now is None else now)
    return time.mktime((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, -1))
