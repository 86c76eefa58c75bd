"""The job engine: prepare, submit, poll and download many jobs at once on one asyncio loop.

Rules that protect the user's money:
- the job row is saved (state `submitting`) before the create request leaves, and again as soon as
  the id arrives;
- a create request is repeated only when it cannot have been accepted (connection refused, 429,
  503 with Retry-After); any other doubt makes the job `unknown` and it is never resent by us;
- queued time never counts against a timeout; a job is given up only after 40 minutes of
  *generating*, and then as `stalled` (polled again at the next start), never as failed;
- 401 / 403 close the gate for new submissions with one notice, instead of failing every job.

Blocking work (HTTP, image preparation, SQLite, file writes) runs in executors, never on the loop's
thread, which in the GUI is the UI thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from pixdesk.api.client import ApiClient
from pixdesk.api.download import download_video
from pixdesk.api.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    DownloadError,
    InsufficientCreditsError,
    MalformedResponseError,
    NotFoundError,
    PixDeskError,
    RateLimitError,
    ServerError,
    is_transient,
    retry_after_of,
)
from pixdesk.api.images import ImageRejected, prepare_image
from pixdesk.api.request import GenerationRequest
from pixdesk.api.responses import Outcome, check_video_url
from pixdesk.jobs.library import Library
from pixdesk.jobs.models import UNKNOWN_ADVICE, Job, JobState
from pixdesk.jobs.store import JobStore
from pixdesk.jobs.timing import (
    Clock,
    PollPolicy,
    PollSchedule,
    RateLimiter,
    RealClock,
    RetryPolicy,
    backoff_delay,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
JobListener = Callable[[Job], None]
NoticeListener = Callable[[str, str], None]
DEMO_BACKEND = "demo"
THUMBNAIL_SIDE = 128
QUEUED_WORDS = frozenset({"queued", "waiting", "pending", "created", "submitted", "in_queue"})


@dataclass
class _Gate:
    """Open unless a 401/403 paused submissions; `reason` is what the UI shows."""

    event: asyncio.Event
    reason: str | None = None


class _Stop(Exception):
    """The job ended early (cancelled, paused out, given up); its state is already set."""


class JobEngine:
    def __init__(
        self,
        client: ApiClient,
        store: JobStore,
        library: Library,
        *,
        max_in_flight: int = 4,
        clock: Clock | None = None,
        poll_policy: PollPolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        requests_per_second: float = 8.0,
        workers: int = 12,
        backend: str | None = None,
    ) -> None:
        self.backend = backend or client.base_url
        self._clients: dict[str, ApiClient] = {self.backend: client}
        self.store = store
        self.library = library
        self.clock: Clock = clock or RealClock()
        self.poll_policy = poll_policy or PollPolicy()
        self.retry_policy = retry_policy or RetryPolicy()
        self.rng = rng or random.Random()
        self.rate = RateLimiter(self.clock, rate=requests_per_second, burst=requests_per_second)
        self.jobs: dict[str, Job] = {}
        self.job_listeners: list[JobListener] = []
        self.notice_listeners: list[NoticeListener] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancel_requested: set[str] = set()
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._slot_waiters: list[asyncio.Future[None]] = []
        self._gate = _Gate(asyncio.Event())
        self._gate.event.set()
        self._http = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pixdesk-http")
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixdesk-db")
        # One image at a time: decoding a 6000 px photo is CPU- and memory-heavy, and several at once
        # would crowd the UI thread out of the GIL.
        self._images = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixdesk-image")
        self._download_session = requests.Session()
        self._closed = False

    # -- public API ------------------------------------------------------------------------------
    @property
    def client(self) -> ApiClient:
        return self._clients[self.backend]

    @client.setter
    def client(self, client: ApiClient) -> None:
        self._clients[self.backend] = client

    def use_backend(self, backend: str, client: ApiClient) -> None:
        """New jobs go to `backend`; jobs already sent elsewhere keep talking to their own server."""
        self.backend = backend
        self._clients[backend] = client

    def _client_for(self, job: Job) -> ApiClient:
        return self._clients.get(job.backend) or self.client

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    @max_in_flight.setter
    def max_in_flight(self, value: int) -> None:
        self._max_in_flight = max(1, int(value))
        self._wake_slot_waiters()

    @property
    def paused_reason(self) -> str | None:
        return self._gate.reason

    def running_count(self) -> int:
        return sum(1 for j in self.jobs.values() if not j.is_final)

    async def submit(self, request: GenerationRequest) -> Job:
        """Validate, persist and schedule a job; returns at once (raises ValidationError)."""
        request.validated()
        job = Job(request=request, backend=self.backend)
        self.jobs[job.id] = job
        await self._persist(job)
        self._emit(job)
        self._start(job)
        return job.snapshot()

    async def retry(self, job_id: str) -> Job:
        """A new job with the same settings (the user's explicit choice, also for `unknown` jobs)."""
        return await self.submit(self.jobs[job_id].request)

    def cancel(self, job_id: str) -> None:
        """Stop working on a job. Never-sent jobs are never sent; sent ones stop being polled."""
        job = self.jobs.get(job_id)
        if job is None or job.is_final:
            return
        self._cancel_requested.add(job_id)
        task = self._tasks.get(job_id)
        if job.state is JobState.SUBMITTING:
            return  # the create is in flight: keep its answer (the id) and stop right after
        if task is not None:
            task.cancel()

    async def remove(self, job_id: str) -> None:
        self.cancel(job_id)
        job = self.jobs.pop(job_id, None)
        if job is not None:
            await self._disk_call(self.store.delete, job_id)

    async def load_history(self, limit: int | None = None) -> list[Job]:
        jobs = await self._disk_call(self.store.all, limit)
        for job in jobs:
            self.jobs.setdefault(job.id, job)
        return jobs

    async def resume_unfinished(self) -> list[Job]:
        """Pick up what a previous run left: poll, download, or mark `unknown` what may have been sent."""
        resumed: list[Job] = []
        for job in await self._disk_call(self.store.unfinished):
            if job.id in self._tasks or (job.backend != self.backend and job.server_id is not None):
                continue  # sent to another server (live vs demo): left for when that one is in use
            self.jobs[job.id] = job
            if job.backend == DEMO_BACKEND and job.server_id is not None:
                await self._set(
                    job,
                    JobState.FAILED,
                    detail=None,
                    error_kind="api",
                    error="The demo simulator was restarted, so this demo job cannot be resumed.",
                )
                resumed.append(job)
                continue
            if job.state is JobState.SUBMITTING and job.server_id is None:
                await self._set(job, JobState.UNKNOWN, error=UNKNOWN_ADVICE)
                resumed.append(job)
                continue
            job.detail = None
            job.retries = 0
            self._start(job)
            resumed.append(job)
        return [j.snapshot() for j in resumed]

    def resume_submissions(self) -> None:
        """Reopen the gate after the user fixed the key or topped up."""
        if self._gate.reason is not None:
            self._gate.reason = None
            self._gate.event.set()
            self._notify("resumed", "Submissions resumed.")

    async def wait(self, job_id: str) -> Job:
        task = self._tasks.get(job_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return self.jobs[job_id].snapshot()

    async def wait_all(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        self._http.shutdown(wait=False, cancel_futures=True)
        # The disk executor has one worker: once this no-op has run, every queued write has landed.
        await asyncio.get_running_loop().run_in_executor(self._disk, lambda: None)
        self._disk.shutdown(wait=False)
        self._images.shutdown(wait=False, cancel_futures=True)
        self._download_session.close()

    # -- plumbing --------------------------------------------------------------------------------
    def _start(self, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"job-{job.id[:8]}")
        self._tasks[job.id] = task
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        for job_id, known in list(self._tasks.items()):
            if known is task:
                del self._tasks[job_id]

    async def _http_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._http, fn, *args)

    async def _disk_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._disk, fn, *args)

    async def _persist(self, job: Job) -> None:
        """Save the job. Shielded: cancelling the job (or closing the app) must not cancel a write
        that is still queued, or an id the server gave us could be lost."""
        job.updated_at = time.time()
        write = asyncio.get_running_loop().run_in_executor(self._disk, self.store.save, job.snapshot())
        await asyncio.shield(write)

    def _emit(self, job: Job) -> None:
        snap = job.snapshot()
        for listener in list(self.job_listeners):
            try:
                listener(snap)
            except Exception:  # a listener's bug must not kill a paid job
                log.exception("job listener failed")

    def _notify(self, kind: str, message: str) -> None:
        for listener in list(self.notice_listeners):
            try:
                listener(kind, message)
            except Exception:
                log.exception("notice listener failed")

    async def _set(self, job: Job, state: JobState, *, persist: bool = True, **changes: Any) -> None:
        job.state = state
        for key, value in changes.items():
            setattr(job, key, value)
        if state is not JobState.DOWNLOADING and "progress" not in changes:
            job.progress = None
        if job.is_final and job.finished_at is None:
            job.finished_at = time.time()
        log.info(
            "job %s %s%s%s",
            job.id[:8],
            state.value,
            f" id={job.server_id}" if job.server_id else "",
            f" error={job.error}" if job.error and job.is_final else "",
        )
        if persist:
            await self._persist(job)
        self._emit(job)

    def _fail_from(self, exc: BaseException) -> dict[str, Any]:
        if isinstance(exc, ApiError):
            return {"error": exc.message, "error_status": exc.status, "request_id": exc.request_id, "error_kind": "api"}
        kind = "network" if isinstance(exc, ConnectionFailed) else "api"
        return {
            "error": str(getattr(exc, "message", exc)),
            "error_status": None,
            "request_id": None,
            "error_kind": kind,
        }

    def _check_cancel(self, job: Job) -> None:
        if job.id in self._cancel_requested:
            raise asyncio.CancelledError

    # -- slots -----------------------------------------------------------------------------------
    async def _acquire_slot(self) -> None:
        while self._in_flight >= self._max_in_flight:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._slot_waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._slot_waiters:
                    self._slot_waiters.remove(waiter)
        self._in_flight += 1

    def _release_slot(self) -> None:
        self._in_flight -= 1
        self._wake_slot_waiters()

    def _wake_slot_waiters(self) -> None:
        free = self._max_in_flight - self._in_flight
        for waiter in self._slot_waiters[: max(0, free)]:
            if not waiter.done():
                waiter.set_result(None)

    # -- the job's life --------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        holding_slot = False
        try:
            if job.server_id is None:
                body = await self._prepare(job)
                await self._set(job, JobState.WAITING)
                await self._acquire_slot()
                holding_slot = True
                await self._submit(job, body)
            if job.video_url is None or job.state is not JobState.DOWNLOADING:
                if not holding_slot:
                    self._in_flight += 1  # resumed: already at the server, so it takes a slot without waiting
                    holding_slot = True
                await self._poll_until_done(job)
            if holding_slot:
                self._release_slot()
                holding_slot = False
            await self._download(job)
        except asyncio.CancelledError:
            if not self._closed and not job.is_final:
                detail = None if job.server_id is None else "Stopped watching; the server may still finish it."
                await self._set(job, JobState.CANCELLED, error=detail, detail=None)
        except _Stop:
            pass
        except Exception as exc:  # last line of defence: the job fails visibly, the app lives on
            log.exception("job %s crashed", job.id)
            if not job.is_final:
                state = JobState.STALLED if job.server_id else JobState.FAILED
                await self._set(job, state, detail=None, error=f"Unexpected error: {type(exc).__name__}: {exc}")
        finally:
            if holding_slot:
                self._release_slot()
            self._cancel_requested.discard(job.id)

    async def _prepare(self, job: Job) -> dict[str, Any]:
        if job.state is not JobState.PREPARING:
            await self._set(job, JobState.PREPARING, persist=False)
        try:
            loop = asyncio.get_running_loop()
            prepared = await loop.run_in_executor(self._images, prepare_image, job.request.image, THUMBNAIL_SIDE)
            job.thumbnail = job.thumbnail or prepared.thumbnail
        except ImageRejected as exc:
            await self._set(job, JobState.FAILED, error=str(exc), error_kind="input")
            raise _Stop from None
        return job.request.to_body(prepared.image_url)

    async def _submit(self, job: Job, body: dict[str, Any]) -> None:
        attempt = 0
        while True:
            self._check_cancel(job)
            if not self._gate.event.is_set():
                await self._set(job, JobState.WAITING, detail=f"paused: {self._gate.reason}")
                await self._gate.event.wait()
                job.detail = None
            await self.rate.acquire()
            self._check_cancel(job)
            # Persist *before* sending: if we die after this line, the job comes back as `unknown`.
            await self._set(job, JobState.SUBMITTING, submitted_at=time.time(), detail=None)
            try:
                created = await self._http_call(self._client_for(job).create, body)
            except ConnectionFailed as exc:
                if exc.may_have_reached_server:
                    return await self._unknown(job, exc)
                attempt += 1
                if attempt >= self.retry_policy.create_attempts:
                    await self._set(
                        job, JobState.FAILED, error=f"{exc.message} (never sent; safe to retry)", error_kind="network"
                    )
                    raise _Stop from None
                await self._retry_wait(job, attempt, None)
                continue
            except RateLimitError as exc:
                attempt += 1
                self.rate.pause(exc.retry_after or backoff_delay(self.retry_policy, attempt, self.rng, None))
                await self._retry_wait(job, attempt, exc.retry_after)
                continue
            except ServerError as exc:
                if exc.status == 503 and exc.retry_after is not None and attempt < self.retry_policy.create_attempts:
                    attempt += 1
                    await self._retry_wait(job, attempt, exc.retry_after)
                    continue
                return await self._unknown(job, exc)
            except (AuthenticationError, InsufficientCreditsError) as exc:
                self._close_gate(exc)
                continue
            except MalformedResponseError as exc:
                return await self._unknown(job, exc)
            except BadRequestError as exc:
                await self._set(job, JobState.FAILED, **self._fail_from(exc))
                raise _Stop from None
            except ApiError as exc:
                if exc.status is not None and 400 <= exc.status < 500:
                    await self._set(job, JobState.FAILED, **self._fail_from(exc))
                    raise _Stop from None
                return await self._unknown(job, exc)
            await self._set(
                job,
                JobState.QUEUED,
                server_id=created.id,
                server_status=created.status,
                credits=created.credits_used,
                detail=None,
                retries=0,
            )
            if job.id in self._cancel_requested:
                raise asyncio.CancelledError
            return None

    async def _unknown(self, job: Job, exc: PixDeskError) -> None:
        what = getattr(exc, "message", str(exc))
        await self._set(
            job,
            JobState.UNKNOWN,
            detail=None,
            error=f"{what} {UNKNOWN_ADVICE}",
            error_kind="network",
            error_status=getattr(exc, "status", None),
            request_id=getattr(exc, "request_id", None),
        )
        raise _Stop

    def _close_gate(self, exc: ApiError) -> None:
        if self._gate.reason is None:
            if isinstance(exc, AuthenticationError):
                reason = "the API key was refused. Check it in Settings."
            else:
                reason = "the account is out of credits. Top up, then resume."
            self._gate.reason = reason
            self._gate.event.clear()
            self._notify("paused", f"Submissions paused: {reason} ({exc.message})")

    async def _retry_wait(self, job: Job, attempt: int, retry_after: float | None) -> None:
        job.retries = attempt
        job.detail = f"retrying ({attempt})"
        self._emit(job)
        await self.clock.sleep(backoff_delay(self.retry_policy, attempt, self.rng, retry_after))

    async def _poll_until_done(self, job: Job) -> None:
        assert job.server_id is not None
        schedule = PollSchedule(self.poll_policy, self.rng)
        generating_for = 0.0
        last_tick: float | None = None
        failing_since: float | None = None
        failures = 0
        delay = schedule.next_delay()
        while True:
            await self.clock.sleep(delay)
            await self.rate.acquire()
            now = self.clock.now()
            if job.state is JobState.GENERATING and last_tick is not None:
                generating_for += now - last_tick
            last_tick = now
            try:
                status = await self._http_call(self._client_for(job).status, job.server_id)
            except NotFoundError as exc:
                await self._set(job, JobState.FAILED, detail=None, **self._fail_from(exc))
                raise _Stop from None
            except PixDeskError as exc:
                if not (is_transient(exc) or isinstance(exc, AuthenticationError | InsufficientCreditsError)):
                    raise
                failures += 1
                failing_since = failing_since if failing_since is not None else now
                if now - failing_since > self.retry_policy.budget:
                    await self._set(
                        job,
                        JobState.STALLED,
                        detail=None,
                        error=f"Lost contact with the server: {getattr(exc, 'message', exc)}. "
                        "PixDesk will check again at the next start (or choose Resume).",
                    )
                    raise _Stop from None
                if isinstance(exc, RateLimitError):
                    self.rate.pause(exc.retry_after or 5.0)
                job.retries = failures
                job.detail = f"retrying ({failures})"
                self._emit(job)
                delay = backoff_delay(self.retry_policy, failures, self.rng, retry_after_of(exc))
                continue
            failures, failing_since = 0, None
            word = status.status
            if status.credits_used is not None:
                job.credits = status.credits_used
            if status.outcome is Outcome.DONE:
                if status.video is None:
                    await self._set(
                        job, JobState.FAILED, detail=None, error="The server reported success but sent no video."
                    )
                    raise _Stop
                try:
                    check_video_url(status.video.url)
                except MalformedResponseError as exc:
                    await self._set(job, JobState.FAILED, detail=None, error=exc.message)
                    raise _Stop from None
                job.video_url = status.video.url
                job.video_size = status.video.file_size
                job.server_status = word
                return
            if status.outcome is Outcome.FAILED:
                message = status.error_message or f"The server reported '{word}' without a reason."
                await self._set(job, JobState.FAILED, detail=None, server_status=word, error=message)
                raise _Stop
            state = JobState.QUEUED if word.lower() in QUEUED_WORDS else JobState.GENERATING
            changed = state is not job.state or word != job.server_status or job.detail is not None
            if state is JobState.GENERATING and job.generating_since is None:
                job.generating_since = time.time()
            if changed:
                await self._set(job, state, server_status=word, detail=None)
            if state is JobState.GENERATING and generating_for > self.poll_policy.generating_budget:
                minutes = int(self.poll_policy.generating_budget // 60)
                await self._set(
                    job,
                    JobState.STALLED,
                    error=f"Still generating after {minutes} minutes. "
                    "The server may still finish it: PixDesk checks again at the next start.",
                )
                raise _Stop
            delay = schedule.next_delay()

    async def _download(self, job: Job) -> None:
        assert job.video_url is not None
        dest = Path(job.file_path) if job.file_path else self.library.video_path(job)
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
                loop.call_soon_threadsafe(self._progress, job, percent / 100)

        await self._set(job, JobState.DOWNLOADING, progress=0.0, detail=None)
        failures = 0
        failing_since: float | None = None
        refreshed = False
        while True:
            try:
                await self._http_call(
                    lambda: download_video(
                        job.video_url or "",
                        dest,
                        session=self._download_session,
                        expected_size=job.video_size,
                        progress=progress,
                        should_stop=lambda: self._closed,
                    )
                )
                break
            except (ConnectionFailed, DownloadError, RateLimitError, ServerError) as exc:
                if not is_transient(exc):
                    await self._set(job, JobState.FAILED, detail=None, error=getattr(exc, "message", str(exc)))
                    raise _Stop from None
                now = self.clock.now()
                failing_since = failing_since if failing_since is not None else now
                failures += 1
                if now - failing_since > self.retry_policy.budget:
                    await self._set(
                        job,
                        JobState.STALLED,
                        detail=None,
                        error="The video could not be downloaded yet; PixDesk resumes at the next start.",
                    )
                    raise _Stop from None
                job.detail = f"retrying ({failures})"
                self._emit(job)
                await self.clock.sleep(backoff_delay(self.retry_policy, failures, self.rng, retry_after_of(exc)))
                job.detail = None
            except ApiError as exc:
                # The CDN link may have expired: ask the API for a fresh one, once.
                if refreshed or job.server_id is None:
                    await self._set(job, JobState.FAILED, detail=None, **self._fail_from(exc))
                    raise _Stop from None
                refreshed = True
                job.video_url = None
                await self._poll_until_done(job)
        await self._disk_call(self.library.write_sidecar, job, dest)
        await self._set(job, JobState.COMPLETED, file_path=str(dest), progress=1.0, detail=None, error=None)

    def _progress(self, job: Job, fraction: float) -> None:
        if job.state is JobState.DOWNLOADING:
            job.progress = fraction
            self._emit(job)
