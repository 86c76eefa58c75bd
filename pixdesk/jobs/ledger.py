"""Matching finished jobs with their charges in the ledger (DESIGN §1b), so a row may say "charged $x".

A job's cost is only *charged* once `GET /v2/billing/transactions` lists a MODEL_USAGE charge whose
`reference_id` is the job's generation id. That charge lands some time after the generation reported
completed, and failed generations never get one, so a job not found is "not yet", never "free": it is
simply left out of the answer, and asked about again later until `give_up_after` has passed.

Qt-free and blocking: the engine calls it on a worker thread. Errors of the client (refused key, network,
malformed page) reach the caller unchanged, which decides whether to try again later.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from pixdesk.api.usage import Charge, LedgerPage
from pixdesk.jobs.models import Job, JobState
from pixdesk.jobs.spend import is_demo

log = logging.getLogger(__name__)

GIVE_UP_AFTER = 7 * 24 * 3600.0  # a charge that has not posted in a week is not looked for any more
WINDOW_LEAD = 3600.0  # `from` starts this long before the oldest job: our clock and the server's may differ
CLOCK_SLACK = 300.0  # `to` ends this long after `now`, so a server clock ahead of ours does not hide a charge
SPLIT_SPREAD = 60.0  # rows of one split charge are assumed to post within this long of each other
PAGE_SIZE = 100  # the API's maximum
MAX_PAGES = 20  # a server that says "more" forever cannot keep us paging
CHARGE = "CHARGE"
MODEL_USAGE = "MODEL_USAGE"


class LedgerClient(Protocol):
    """The one method of `ApiClient` used here (so tests and callers may pass anything that has it)."""

    def transactions(
        self,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        direction: str | None = None,
        type_: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> LedgerPage: ...


def _uncharged_live_completion(job: Job) -> bool:
    """Only a live job the server completed can have a charge; demo jobs and failures never do."""
    return (
        not is_demo(job) and job.state is JobState.COMPLETED and job.server_id is not None and job.charged_usd is None
    )


def _finished(job: Job) -> float:
    """When the job ended on our clock (its creation when the end was not recorded)."""
    return job.finished_at if job.finished_at is not None else job.created_at


def jobs_awaiting_charge(jobs: Iterable[Job], now: float, *, give_up_after: float = GIVE_UP_AFTER) -> list[Job]:
    """Live completed jobs whose charge the ledger has not confirmed yet, finished less than `give_up_after`
    ago: the ones worth asking the ledger about."""
    return [j for j in jobs if _uncharged_live_completion(j) and now - _finished(j) < give_up_after]


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def _ours(charge: Charge, job: Job) -> bool:
    """A row counts for `job` when it is a model-usage charge with a finite amount for the job's model.

    A null model ("could not be resolved", says the schema) is accepted: the reference id already ties it
    to our generation, and a different model named there would be a server mix-up we do not pay heed to."""
    return (
        charge.direction == CHARGE
        and charge.type == MODEL_USAGE
        and math.isfinite(charge.amount_usd)
        and charge.amount_usd >= 0
        and (charge.model is None or charge.model == job.request.model)
    )


def reconcile(
    client: LedgerClient,
    jobs: list[Job],
    now: float,
    *,
    limit: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
) -> dict[str, float]:
    """{job.id: charged USD} for those of `jobs` whose charge the ledger lists now; the rest are absent.

    Pages CHARGE / MODEL_USAGE entries newest first from a little before the oldest job until just after `now`, by
    `next_cursor` only, and stops once every job is found (and the rows have moved past any split
    remainder), when the ledger has no more, on a repeated cursor, or after `max_pages` pages.
    Rows for one reference are summed (a split charge); a row repeated on a later page is counted once.
    Raises the client's errors (AuthenticationError, ConnectionFailed, MalformedResponseError, ...).
    """
    wanted: dict[str, list[Job]] = {}
    for job in jobs:
        if _uncharged_live_completion(job) and (server_id := job.server_id) is not None:
            wanted.setdefault(server_id, []).append(job)
    if not wanted:
        return {}
    start = min(min(_finished(j) for js in wanted.values() for j in js), now) - WINDOW_LEAD
    totals: dict[str, float] = {}
    oldest_match: dict[str, float] = {}  # reference -> its oldest matched row's time
    earlier: set[Charge] = set()
    cursor: str | None = None
    cursors: set[str] = set()
    for page_number in range(1, max_pages + 1):
        page = client.transactions(
            from_=_utc(start),
            to=_utc(now + CLOCK_SLACK),
            direction=CHARGE,
            type_=MODEL_USAGE,
            limit=limit,
            cursor=cursor,
        )
        if page.skipped:
            log.info("The ledger had %d unusable rows on page %d; they were skipped.", page.skipped, page_number)
        this_page: set[Charge] = set()
        for charge in page.charges:
            this_page.add(charge)
            ref = charge.reference_id
            if charge in earlier or ref is None or ref not in wanted:
                continue
            if not _ours(charge, wanted[ref][0]):
                log.info("Ignored a ledger row for %s: %s %s of %s.", ref, charge.direction, charge.type, charge.model)
                continue
            totals[ref] = totals.get(ref, 0.0) + charge.amount_usd
            at = charge.created_at.timestamp()
            oldest_match[ref] = min(oldest_match.get(ref, at), at)
        earlier |= this_page
        next_cursor = page.next_cursor
        if not page.has_more or next_cursor is None:
            break  # the ledger has no more (and "more" without a cursor cannot be followed)
        if len(totals) == len(wanted) and page.charges:
            oldest_row = min(c.created_at.timestamp() for c in page.charges)
            if oldest_row < min(oldest_match.values()) - SPLIT_SPREAD:
                break  # every job found, and nothing older can still be part of one of their charges
        if next_cursor in cursors:
            log.warning("The ledger repeated a page cursor; stopped paging after %d pages.", page_number)
            break
        cursors.add(next_cursor)
        cursor = next_cursor
    else:
        log.warning("The ledger still had more after %d pages; stopped paging there.", max_pages)
    return {job.id: usd for ref, usd in totals.items() for job in wanted[ref]}
