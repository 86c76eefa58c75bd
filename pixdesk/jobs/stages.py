"""The four stages of a job — prepare, submit, poll, download — each a small unit over `Services`.

Rules that protect the user's money live here:
- the job is saved as `submitting` before the create request leaves, and again as soon as the id arrives;
- a create is repeated only when it cannot have been accepted (connection refused, 429, 503 with
  Retry-After); any other doubt makes the job `unknown`, and it is never resent by us;
- once the server has a job, no oddity (a 404 right after create, an answer without a usable video link, an
  HTML page from the video host, a truncated file) fails it: it is retried, then handed over as `stalled`;
- queued time never counts against a timeout; only `generating` for longer than the budget stalls a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pixdesk.api.client import ApiClient
from pixdesk.api.download import download_video
from pixdesk.api.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    ErrorKind,
    LocalWriteError,
    MalformedResponseError,
    PixDeskError,
    RateLimitError,
    ServerError,
    is_refusal,
    is_transient,
)
from pixdesk.api.images import ImageRejected, prepare_image
from pixdesk.api.media_inputs import MediaRejected, prepare_media
from pixdesk.api.responses import GenerationStatus, Outcome, check_video_url
from pixdesk.api.usage import LogRow
from pixdesk.jobs.forecast import PollPlan, Schedule
from pixdesk.jobs.models import UNKNOWN_ADVICE, Failure, Job, JobState, new_client_request_id
from pixdesk.jobs.retry import Retrier, RetryBudgetSpent, backoff_delay
from pixdesk.jobs.services import OnRefused, Services, StopJob, log
from pixdesk.jobs.timing import PollSchedule

THUMBNAIL_SIDE = 128
QUEUED_WORDS = frozenset({"queued", "waiting", "pending", "created", "submitted", "in_queue"})
RESUMABLE = "PixDesk checks again at the next start (or choose Resume)."
SAFE = "Safe to send again (Retry)."


# -- shared rules -------------------------------------------------------------------------------------
async def retry_or_stall(svc: Services, job: Job, retrier: Retrier, exc: BaseException, stalled_because: str) -> None:
    """Wait before the next try, or — once failing for longer than the budget — stall the job (resumable)."""
    try:
        delay = retrier.failed(exc)
    except RetryBudgetSpent:
        message = getattr(exc, "message", None) or str(exc)
        await svc.move(job, JobState.STALLED, failure=Failure(f"{stalled_because}: {message} {RESUMABLE}", _kind(exc)))
        raise StopJob from None
    job.retries = retrier.failures
    svc.show_detail(job, f"retrying ({retrier.failures})")
    await svc.clock.sleep(delay)


def _kind(exc: BaseException) -> ErrorKind:
    return ErrorKind.API if is_refusal(exc) else ErrorKind.NETWORK


async def refused(svc: Services, job: Job, exc: ApiError) -> None:
    """401/403: the key was refused or the credits ran out. The GUI holds everything until the user acts;
    the CLI ends promptly (a never-sent job fails, a sent one stalls, resumable)."""
    what = (
        "the API key was refused. Check it in Settings"
        if isinstance(exc, AuthenticationError)
        else ("the account is out of credits. Top up, then resume")
    )
    if svc.on_refused is OnRefused.FAIL:
        failure = Failure.of(exc, prefix=f"{what[0].upper()}{what[1:]} — ")
        if job.server_id is None:
            await svc.move(job, JobState.FAILED, failure=failure)
        else:
            await svc.move(job, JobState.STALLED, failure=Failure(f"{failure.message}. {RESUMABLE}", ErrorKind.API))
        raise StopJob
    if svc.scheduler.close_gate(f"{what}."):
        svc.notify("paused", f"Submissions paused: {what}. ({exc.message})")
    if job.server_id is None:
        await svc.move(job, JobState.WAITING, detail=f"paused: {what}")
    else:
        svc.show_detail(job, f"paused: {what}")
    svc.check_stop(job)  # cancelled or removed while its create was in flight: it ends now, not at the fix
    await svc.scheduler.wait_open()
    svc.show_detail(job, None)


class InDoubt(StopJob):
    """The create may or may not have reached the server: the job is `unknown` and is looked up next."""


async def unknown(svc: Services, job: Job, exc: PixDeskError) -> None:
    """The create may or may not have reached the server: never resent by us. The usage logs will tell."""
    failure = Failure.of(exc)
    await svc.move(
        job,
        JobState.UNKNOWN,
        failure=Failure(f"{failure.message} {UNKNOWN_ADVICE}", ErrorKind.NETWORK, failure.status, failure.request_id),
    )
    raise InDoubt


# -- resolve: what became of a create whose answer was lost ------------------------------------------------
def find_in_logs(client: ApiClient, job: Job, now: float, max_pages: int = 20) -> LogRow | None:
    """Our create's row in `GET /v2/logs`, found by the X-Client-Request-Id we sent (blocking)."""
    assert job.client_request_id is not None
    sent = job.submitted_at or job.created_at
    offset = 0
    for _ in range(max_pages):  # bounded: a hostile server cannot keep us paging
        page = client.logs(
            start=datetime.fromtimestamp(sent - 120, UTC),
            end=datetime.fromtimestamp(now + 60, UTC),
            model=job.request.model,
            limit=100,
            offset=offset,
        )
        row = page.find_client_request(job.client_request_id)
        if row is not None or not page.pagination.has_more or not page.rows:
            return row
        offset += len(page.rows) + page.skipped
    return None


async def resolve(svc: Services, job: Job) -> None:
    """Look the job up in the usage logs. Found with a generation id: it is watched from there (returns, no
    second create). Found refused, or absent once the logs have had `logs_patience` seconds to catch up: `not
    created`, safe to send again — by the person's explicit choice. Until then it stays `unknown`."""
    if job.client_request_id is None:
        raise StopJob  # saved by a PixDesk that sent no client request id: only the dashboard can tell
    client = svc.client_for(job)
    sent = job.submitted_at or job.created_at
    patience_left = max(0.0, svc.logs_patience - (time.time() - sent))
    give_up_at = svc.clock.now() + patience_left
    wait_until = svc.clock.now() + svc.resolve_wait if svc.resolve_wait is not None else None
    retrier = Retrier(svc.retry_policy, svc.clock, svc.rng)
    delay = min(5.0, svc.poll_policy.first)
    while True:
        svc.show_detail(job, "looking it up in the usage logs…")
        try:
            row = await svc.http_call(find_in_logs, client, job, time.time())
        except PixDeskError as exc:
            if isinstance(exc, ApiError) and is_refusal(exc):
                if svc.on_refused is OnRefused.FAIL:
                    svc.show_detail(job, None)
                    raise StopJob from None
                await refused(svc, job, exc)
                continue
            if not is_transient(exc):
                raise
            retrier.failures += 1
            delay = backoff_delay(svc.retry_policy, retrier.failures, svc.rng, getattr(exc, "retry_after", None))
            row, looked = None, False
        else:
            retrier.succeeded()
            looked = True
        if row is not None and row.inference_id:
            job.server_id = row.inference_id
            job.server_status = "queued"
            job.clear_failure()
            await svc.move(job, JobState.QUEUED)
            return
        if row is not None:  # listed as failed, with no generation: the server refused it
            reason = f"The server refused this request (request {row.request_id or 'id unknown'})"
            await svc.move(
                job, JobState.NOT_CREATED, failure=Failure(f"{reason}: nothing was created or charged. {SAFE}")
            )
            raise StopJob
        if looked and svc.clock.now() >= give_up_at:  # absent from logs we could read, not from an error page
            minutes = max(1, round(svc.logs_patience / 60))
            message = f"Not created: the usage logs show no trace of it {minutes} minutes after it was sent. {SAFE}"
            await svc.move(job, JobState.NOT_CREATED, failure=Failure(message, ErrorKind.NETWORK))
            raise StopJob
        if wait_until is not None and svc.clock.now() >= wait_until:
            svc.show_detail(job, None)
            raise StopJob  # the CLI's turn is over; `resume` (or the window) keeps looking
        pause = delay
        for deadline in (give_up_at, wait_until):
            if deadline is not None:
                pause = min(pause, max(0.0, deadline - svc.clock.now()))
        await svc.clock.sleep(pause)  # one more look right at a deadline before giving up
        delay = min(delay * 1.5, 30.0)


# -- prepare ------------------------------------------------------------------------------------------
async def prepare(svc: Services, job: Job) -> dict[str, Any]:
    """Turn the picked files (an image, a last frame, a clip, a recording) into what the API accepts, off
    the UI thread, and build the body from the model's catalogue entry."""
    if job.state is not JobState.PREPARING:
        await svc.move(job, JobState.PREPARING, persist=False)
    urls: dict[str, str] = {}
    try:
        for param in job.request.spec.inputs:
            source = job.request.inputs().get(param.name)
            if source is None:
                continue
            if param.kind == "image":
                want_thumbnail = 0 if job.thumbnail else THUMBNAIL_SIDE
                prepared = await svc.image_call(prepare_image, source, want_thumbnail)
                job.thumbnail = job.thumbnail or prepared.thumbnail
                urls[param.name] = prepared.image_url
            else:
                media = await svc.image_call(prepare_media, source, "video" if param.kind == "video" else "audio")
                urls[param.name] = media.url
    except (ImageRejected, MediaRejected) as exc:
        await svc.move(job, JobState.FAILED, failure=Failure.of(exc))
        raise StopJob from None
    return job.request.to_body(urls)


# -- submit -------------------------------------------------------------------------------------------
async def submit(svc: Services, job: Job, body: dict[str, Any]) -> None:
    if not job.client_request_id:  # a job saved by an older PixDesk: it gets one now, saved before sending
        job.client_request_id = new_client_request_id()
    retrier = Retrier(svc.retry_policy, svc.clock, svc.rng, max_attempts=svc.retry_policy.create_attempts)
    while True:
        svc.check_stop(job)
        if not svc.scheduler.is_open:
            await svc.move(job, JobState.WAITING, detail=f"paused: {svc.scheduler.pause_reason}")
            await svc.scheduler.wait_open()
            continue
        await svc.scheduler.rate.acquire()
        svc.check_stop(job)
        job.submitted_at = time.time()
        await svc.move(job, JobState.SUBMITTING)  # saved before sending: a crash after this is `unknown`
        try:  # a Cancel, Remove or Quit that came while it was being saved: nothing has left yet
            svc.check_stop(job)
        except StopJob:
            await svc.move(job, JobState.WAITING)  # closing: still never sent, so not `unknown` next time
            raise
        try:
            created, trace = await svc.http_call(svc.client_for(job).create_traced, body, job.client_request_id)
        except ConnectionFailed as exc:
            if exc.may_have_reached_server:
                await unknown(svc, job, exc)
            await _resend_later(svc, job, retrier, exc)
            continue
        except RateLimitError as exc:
            svc.scheduler.rate.pause(
                exc.retry_after or backoff_delay(svc.retry_policy, retrier.failures + 1, svc.rng, None),
                svc.retry_policy.retry_after_cap,
            )
            await _resend_later(svc, job, retrier, exc)
            continue
        except ServerError as exc:
            if exc.status == 503 and exc.retry_after is not None:
                await _resend_later(svc, job, retrier, exc)
                continue
            await unknown(svc, job, exc)
        except ApiError as exc:
            if is_refusal(exc):
                await refused(svc, job, exc)
                continue
            if isinstance(exc, MalformedResponseError) or exc.status is None or exc.status >= 500:
                await unknown(svc, job, exc)
            kind = ErrorKind.API if isinstance(exc, BadRequestError) or (exc.status or 0) < 500 else ErrorKind.NETWORK
            failure = Failure.of(exc)
            await svc.move(job, JobState.FAILED, failure=Failure(failure.message, kind, exc.status, exc.request_id))
            raise StopJob from None
        job.server_id = created.id
        job.server_status = created.status
        job.credits = created.credits_used if created.credits_used is not None else trace.credits_used
        job.usd_spent = trace.usd_spent
        job.retries = 0
        await svc.move(job, JobState.QUEUED)
        return


async def _resend_later(svc: Services, job: Job, retrier: Retrier, exc: PixDeskError) -> None:
    """The create surely was not accepted: wait (saved as `waiting`, so a crash now is not `unknown`)."""
    await svc.move(job, JobState.WAITING, detail=f"retrying ({retrier.failures + 1})")
    svc.check_stop(job)  # cancelled or removed while the create was in flight: no wait for a Retry-After
    await retry_or_stall(svc, job, retrier, exc, "Not sent yet (safe to resend)")


# -- poll ---------------------------------------------------------------------------------------------
def _usable_video(status: GenerationStatus) -> str:
    """A 'completed' answer must carry a web link to the clip; anything else is an oddity to retry."""
    if status.video is None:
        raise MalformedResponseError("The server reported the job done but sent no video link yet.")
    return check_video_url(status.video.url)


class PollTimes:
    """When to poll next: the plan's times when there is one (sparse while completion is unlikely, dense where
    it is likely), the steady growing interval otherwise and past the plan's end. Time is counted from the
    create's answer; a job picked up again after a restart is looked at soon, then follows the plan."""

    def __init__(self, svc: Services, job: Job, plan: PollPlan | None, just_sent: bool) -> None:
        self.clock = svc.clock
        self.steady = PollSchedule(svc.poll_policy, svc.rng)
        self.schedule: Schedule | None = plan.pick(svc.rng) if plan is not None else None
        since_answer = 0.0 if just_sent or not job.submitted_at else max(0.0, time.time() - job.submitted_at)
        self.origin = self.clock.now() - since_answer
        self.fresh = just_sent
        self.pending_at: float | None = 0.0 if just_sent else None  # when we last knew it was not done
        self.pending_polls = 0

    @property
    def elapsed(self) -> float:
        return self.clock.now() - self.origin

    def first_delay(self) -> float:
        planned = self.schedule.next_poll(0.0) if self.schedule is not None and self.fresh else None
        return max(0.0, planned - self.elapsed) if planned is not None else self.steady.next_delay()

    def next_delay(self) -> float:
        """After a poll that found the job still working."""
        elapsed = self.elapsed
        self.pending_at = elapsed
        self.pending_polls += 1
        planned = self.schedule.next_poll(elapsed) if self.schedule is not None else None
        return max(0.0, planned - elapsed) if planned is not None else self.steady.next_delay()

    def first_chance(self, plan: PollPlan | None) -> float:
        """How likely the plan thought it was that the first poll finds the job done."""
        if plan is None or plan.estimate is None or self.schedule is None:
            return 0.0
        first = self.schedule.next_poll(0.0)
        return plan.estimate.cdf(first) if first is not None else 0.0

    def completed_after(self, plan: PollPlan | None) -> float | None:
        """How long the server took, from the poll that found it done and the last that did not: the middle of
        that span (in probability, when there is a plan). None when this run does not know when it began."""
        if self.pending_at is None:
            return None
        lo, hi = self.pending_at, self.elapsed
        return plan.midpoint(lo, hi) if plan is not None else (lo + hi) / 2


async def poll(svc: Services, job: Job, *, just_sent: bool = False) -> None:
    """Ask for the job's status until it is done (returns with `video_url` set) or failed at the server.
    `just_sent`: the create's answer came a moment ago, in this run (so the plan's clock starts now)."""
    assert job.server_id is not None
    plan = await svc.poll_plan(job)
    times = PollTimes(svc, job, plan, just_sent)
    retrier = Retrier(svc.retry_policy, svc.clock, svc.rng)
    generating_for = 0.0
    last_tick: float | None = None
    delay = times.first_delay()
    while True:
        await svc.clock.sleep(delay)
        await svc.scheduler.rate.acquire()
        now = svc.clock.now()
        if job.state is JobState.GENERATING and last_tick is not None:
            generating_for += now - last_tick
        last_tick = now
        try:
            status = await svc.http_call(svc.client_for(job).status, job.server_id)
            url = _usable_video(status) if status.outcome is Outcome.DONE else None
        except PixDeskError as exc:
            if isinstance(exc, ApiError) and is_refusal(exc):
                await refused(svc, job, exc)
                last_tick, delay = None, 0.0
                continue
            if not is_transient(exc):
                raise
            if isinstance(exc, RateLimitError):
                svc.scheduler.rate.pause(exc.retry_after or 5.0, svc.retry_policy.retry_after_cap)
            await retry_or_stall(svc, job, retrier, exc, "Lost contact with the server")
            delay = 0.0
            continue
        retrier.succeeded()
        if status.credits_used is not None:
            job.credits = status.credits_used
        if status.usd_spent is not None:
            job.usd_spent = status.usd_spent
        word = status.status
        if url is not None:
            server_seconds = times.completed_after(plan)
            if server_seconds is not None:
                svc.observe_completion(
                    job, server_seconds, at_first_poll=times.pending_polls == 0, first_chance=times.first_chance(plan)
                )
            job.video_url = url
            job.video_size = status.video.file_size if status.video else None
            job.server_status = word
            return
        if status.outcome is Outcome.FAILED:
            job.server_status = word
            message = status.error_message or f"The server reported '{word}' without a reason."
            await svc.move(job, JobState.FAILED, failure=Failure(message, ErrorKind.API))
            raise StopJob
        state = JobState.QUEUED if word.lower() in QUEUED_WORDS else JobState.GENERATING
        if state is JobState.GENERATING and job.generating_since is None:
            job.generating_since = time.time()
        if state is not job.state or word != job.server_status or job.detail is not None:
            job.server_status = word
            await svc.move(job, state)
        if state is JobState.GENERATING and generating_for > svc.poll_policy.generating_budget:
            minutes = int(svc.poll_policy.generating_budget // 60)
            failure = Failure(f"Still generating after {minutes} minutes; the server may still finish it. {RESUMABLE}")
            await svc.move(job, JobState.STALLED, failure=failure)
            raise StopJob
        delay = times.next_delay()


# -- download -----------------------------------------------------------------------------------------
async def download(svc: Services, job: Job) -> None:
    """Fetch the clip into the library, verified; an expired link is refreshed once through a poll."""
    assert job.video_url is not None
    dest = Path(job.file_path) if job.file_path else svc.library.video_path(job)
    loop = asyncio.get_running_loop()
    last_percent = -1

    def progress(done: int, total: int | None) -> None:
        nonlocal last_percent
        total = total or job.video_size
        if not total:
            return
        percent = min(100, int(done * 100 / total))
        if percent != last_percent:
            last_percent = percent
            loop.call_soon_threadsafe(_show_progress, svc, job, percent / 100)

    job.progress = 0.0
    await svc.move(job, JobState.DOWNLOADING)
    retrier = Retrier(svc.retry_policy, svc.clock, svc.rng)
    refreshed = False
    while True:
        try:
            transfer = asyncio.ensure_future(
                svc.download_call(
                    lambda: download_video(
                        job.video_url or "",
                        dest,
                        session=svc.download_session,
                        expected_size=job.video_size,
                        progress=progress,
                        # Closing, cancelling or removing stops the transfer thread too, not only our task.
                        should_stop=lambda: svc.should_stop(job),
                    )
                )
            )
            try:
                await asyncio.shield(transfer)
            except asyncio.CancelledError:
                # Let the thread notice and stop (one chunk at most) before the job is called stopped, so a
                # removed job's partial file can be cleaned up and no clip appears after it is gone.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(transfer, svc.retry_policy.retry_after_cap)
                raise
            break
        except PixDeskError as exc:
            if svc.closing:
                raise StopJob from None
            expired = isinstance(exc, ApiError) and exc.status in (401, 403, 404, 410)
            if isinstance(exc, LocalWriteError):  # our disk, not the network: say so now, resumable
                await svc.move(job, JobState.STALLED, failure=Failure.of(exc))
                raise StopJob from None
            if expired and not refreshed and job.server_id is not None:
                refreshed = True  # the CDN link may have expired: ask the API for a fresh one, once
                job.video_url = None
                await poll(svc, job)
                job.progress = 0.0
                await svc.move(job, JobState.DOWNLOADING)
                continue
            await retry_or_stall(svc, job, retrier, exc, "The video could not be downloaded yet")
            svc.show_detail(job, None)
    job.finished_at = job.finished_at or time.time()  # in the sidecar too
    if job.thumbnail is None:  # made from words alone: the list shows the clip's first frame
        job.thumbnail = await _poster(svc, dest)
    try:
        await svc.disk_call(svc.library.write_sidecar, job, dest)
    except OSError as exc:  # the clip itself is safe; its sidecar is a convenience
        log.warning("job %s: the sidecar next to %s could not be written: %s", job.id[:8], dest, exc)
    job.file_path = str(dest)
    job.progress = 1.0
    await svc.move(job, JobState.COMPLETED)


async def _poster(svc: Services, clip: Path) -> bytes | None:
    from pixdesk.jobs import media  # PyAV: loaded when a clip without a picture first finishes

    try:
        return await svc.image_call(media.poster, clip, THUMBNAIL_SIDE)
    except media.MediaError as exc:  # a picture for the list only: the clip itself is fine
        log.info("no poster for %s: %s", clip.name, exc)
        return None


def _show_progress(svc: Services, job: Job, fraction: float) -> None:
    if job.state is JobState.DOWNLOADING:
        job.progress = fraction
        svc.emit(job)
