"""The one retry rule every stage uses: backoff with full jitter, Retry-After honoured up to a cap, and
"failing continuously for longer than the budget → give up as stalled (resumable), never as failed"."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pixdesk.api.errors import retry_after_of
from pixdesk.jobs.timing import Clock, RetryPolicy


class RetryBudgetSpent(Exception):
    """Failing for longer than the budget (or more attempts than allowed): hand the job over as stalled."""

    def __init__(self, last: BaseException, failures: int) -> None:
        super().__init__(str(last))
        self.last = last
        self.failures = failures


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random, retry_after: float | None) -> float:
    """base·2^(n-1) capped at `ceiling`, with full jitter over its upper half; a server's Retry-After is
    honoured but never beyond `retry_after_cap`, so no answer can freeze the app or a CLI run."""
    delay = min(policy.ceiling, policy.base * 2 ** max(0, attempt - 1))
    delay = delay / 2 + rng.uniform(0, delay / 2)
    if retry_after is not None:
        delay = max(delay, min(max(0.0, retry_after), policy.retry_after_cap))
    return delay


@dataclass
class Retrier:
    """Counts one stage's consecutive failures; `failed()` says how long to wait or raises RetryBudgetSpent."""

    policy: RetryPolicy
    clock: Clock
    rng: random.Random
    max_attempts: int | None = None
    failures: int = 0
    failing_since: float | None = None

    def failed(self, exc: BaseException) -> float:
        now = self.clock.now()
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = now
        if now - self.failing_since > self.policy.budget or (
            self.max_attempts is not None and self.failures >= self.max_attempts
        ):
            raise RetryBudgetSpent(exc, self.failures)
        return backoff_delay(self.policy, self.failures, self.rng, retry_after_of(exc))

    def succeeded(self) -> None:
        self.failures = 0
        self.failing_since = None
