"""What the stages share: the clock, the scheduler, the workers for HTTP, disk and images, and the one typed
way to change a job's state (checked against the state table, saved, then announced)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import requests

from pixdesk.api.client import ApiClient
from pixdesk.api.errors import PixDeskError
from pixdesk.jobs.forecast import PollPlan
from pixdesk.jobs.latency import LatencyBook, key_of
from pixdesk.jobs.library import Library
from pixdesk.jobs.models import Failure, Job, JobState
from pixdesk.jobs.scheduler import Scheduler
from pixdesk.jobs.states import can_move
from pixdesk.jobs.store import JobStore
from pixdesk.jobs.timing import Clock, PollPolicy, RetryPolicy

log = logging.getLogger("pixdesk.jobs")
T = TypeVar("T")
JobListener = Callable[[Job], None]
NoticeListener = Callable[[str, str], None]


class OnRefused(StrEnum):
    """What the engine does when the key is refused or the credits run out (401 / 403)."""

    PAUSE = "pause"  # the GUI: hold submissions and polls, tell the user once, go on when they fix it
    FAIL = "fail"  # the CLI: end promptly with the reason (never-sent jobs fail, sent ones stall, resumable)


class StopJob(Exception):
    """The job's run ends here; its state is already what it should be."""


class LostOwnership(StopJob):
    """Another PixDesk process owns this job now (the store refused our write): stop touching it."""


class QueueHeld(StopJob):
    """The person paused the queue while this job was about to be sent: it leaves the submit stage unsent
    (`waiting`), and the engine sends it once the queue runs again."""


@dataclass
class Services:
    store: JobStore
    library: Library
    clock: Clock
    rng: random.Random
    poll_policy: PollPolicy
    retry_policy: RetryPolicy
    scheduler: Scheduler
    on_refused: OnRefused
    clients: dict[str, ApiClient]
    backend: str
    workers: int = 12
    job_listeners: list[JobListener] = field(default_factory=list)
    notice_listeners: list[NoticeListener] = field(default_factory=list)
    closing: bool = False
    # How long the usage logs may take to show a create (they come from an analytics pipeline, rows can be
    # minutes late): only after this may a job whose answer was lost be called "not created".
    logs_patience: float = 10 * 60.0
    resolve_wait: float | None = None  # a CLI run looks for at most this long, then leaves it `unknown`
    cancel_requested: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)  # removed by the user: never saved or shown again
    sending: set[str] = field(default_factory=set)  # in the submit stage: held there when the queue is paused
    latency: LatencyBook = field(default_factory=LatencyBook)

    def __post_init__(self) -> None:
        self.http = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="pixdesk-http")
        self.disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixdesk-db")
        # One image at a time: decoding a 6000 px photo is CPU- and memory-heavy, and several at once
        # would crowd the UI thread out of the GIL.
        self.images = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pixdesk-image")
        # Downloads can take minutes: their own workers, so they never hold up a poll or a create.
        self.downloads = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pixdesk-download")
        self.download_session = requests.Session()
        self._history_load: asyncio.Task[None] | None = None
        self._metrics_fetches: dict[str, asyncio.Task[None]] = {}

    def client_for(self, job: Job) -> ApiClient:
        return self.clients.get(job.backend) or self.clients[self.backend]

    async def http_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.http, fn, *args)

    async def disk_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.disk, fn, *args)

    async def download_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.downloads, fn, *args)

    async def image_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.images, fn, *args)

    # -- when to poll ------------------------------------------------------------------------------------
    async def poll_plan(self, job: Job) -> PollPlan | None:
        """The poll plan for this job's model and settings, from our history and the live metrics (fetched when
        due; waited for at most until the steady schedule's first poll). None: nothing known, poll steadily."""
        policy = self.poll_policy
        if not policy.adaptive:
            return None
        waits: list[asyncio.Task[None]] = []
        if not self.latency.history_loaded:
            if self._history_load is None:
                self._history_load = asyncio.ensure_future(self._load_history())
            waits.append(self._history_load)
        model = job.request.model
        if self.latency.metrics_due(model, self.clock.now()) and model not in self._metrics_fetches:
            fetch = asyncio.ensure_future(self._fetch_metrics(job, model))
            self._metrics_fetches[model] = fetch
            fetch.add_done_callback(lambda _t: self._metrics_fetches.pop(model, None))
        if model in self._metrics_fetches:
            waits.append(self._metrics_fetches[model])
        if waits:
            # Never longer than the steady schedule would have waited anyway: a slow metrics answer costs nothing.
            await asyncio.wait([asyncio.shield(w) for w in waits], timeout=policy.first)
        key = key_of(job.request)
        fresh, cached = self.latency.cached_plan(key)
        if fresh:
            return cached
        try:
            return await self.http_call(self.latency.plan_for, key, policy.min_gap, policy.loop_interval)
        except RuntimeError:  # the worker pool is shut down: the engine is closing
            return None

    async def _load_history(self) -> None:
        try:
            rows = await self.disk_call(self.store.completion_times, 1000)
        except RuntimeError:  # the engine is closing (its workers are gone): nothing to plan for
            return
        except Exception:  # an unreadable history only costs the adaptive schedule
            log.exception("could not read past completion times")
            rows = []
        self.latency.load((key_of(request), seconds) for request, seconds in rows)

    async def _fetch_metrics(self, job: Job, model: str) -> None:
        try:
            metrics = await self.http_call(self.client_for(job).model_metrics, model)
        except (PixDeskError, RuntimeError) as exc:
            log.info("live latency for %s not available: %s", model, getattr(exc, "message", None) or exc)
            self.latency.metrics_failed(model, self.clock.now())
            return
        self.latency.set_metrics(model, metrics.for_model(model), metrics.window_seconds, self.clock.now())

    def observe_completion(self, job: Job, seconds: float, *, at_first_poll: bool, first_chance: float) -> None:
        job.server_seconds = seconds
        self.latency.observe(key_of(job.request), seconds, at_first_poll=at_first_poll, first_chance=first_chance)

    # -- saving and announcing ---------------------------------------------------------------------------
    async def persist(self, job: Job) -> None:
        """Save the job. Shielded: cancelling the job (or closing the app) must not cancel a write that is
        still queued, or an id the server gave us could be lost. Raises LostOwnership when another process
        holds the job (its copy is newer than ours)."""
        if job.id in self.removed:
            return
        job.updated_at = time.time()
        job.version += 1
        write = asyncio.get_running_loop().run_in_executor(self.disk, self.store.save, job.snapshot())
        if await asyncio.shield(write) is False:
            log.info("job %s is owned by another PixDesk process; leaving it to that one", job.id[:8])
            raise LostOwnership

    def emit(self, job: Job) -> None:
        if job.id in self.removed:
            return
        snap = job.snapshot()
        for listener in list(self.job_listeners):
            try:
                listener(snap)
            except Exception:  # a listener's bug must not kill a paid job
                log.exception("job listener failed")

    def notify(self, kind: str, message: str) -> None:
        for listener in list(self.notice_listeners):
            try:
                listener(kind, message)
            except Exception:
                log.exception("notice listener failed")

    async def move(
        self,
        job: Job,
        state: JobState,
        *,
        failure: Failure | None = None,
        detail: str | None = None,
        persist: bool = True,
    ) -> None:
        """The only way a job changes state: checked against the table, saved, then shown."""
        if not can_move(job.state, state):
            log.error("job %s: %s → %s is not an allowed move", job.id[:8], job.state.value, state.value)
        job.state = state
        job.detail = detail
        if failure is not None:
            job.record_failure(failure)
        elif state is JobState.COMPLETED:
            job.clear_failure()
        if state is not JobState.DOWNLOADING:
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
            await self.persist(job)
        self.emit(job)

    def show_detail(self, job: Job, detail: str | None) -> None:
        """A passing note on the badge ("retrying (2)"), shown but not saved."""
        job.detail = detail
        self.emit(job)

    def should_stop(self, job: Job) -> bool:
        """For work on another thread (a download, a film's join): stop between chunks when the job is cancelled
        or removed, or the engine is closing."""
        return self.closing or job.id in self.cancel_requested or job.id in self.removed

    def check_stop(self, job: Job) -> None:
        """Before anything is sent: a cancelled job or a closing engine sends nothing more, and a paused queue
        sends nothing new (a job in the submit stage leaves it, unsent)."""
        if job.id in self.cancel_requested or job.id in self.removed:
            raise asyncio.CancelledError
        if self.closing:
            raise StopJob
        if job.id in self.sending and self.scheduler.queue_paused:
            raise QueueHeld

    async def shutdown(self) -> None:
        for task in [self._history_load, *self._metrics_fetches.values()]:
            if task is not None and not task.done():
                task.cancel()
        self.http.shutdown(wait=False, cancel_futures=True)
        # The disk executor has one worker: once this no-op has run, every queued write has landed.
        await asyncio.get_running_loop().run_in_executor(self.disk, lambda: None)
        self.disk.shutdown(wait=False)
        self.images.shutdown(wait=False, cancel_futures=True)
        self.downloads.shutdown(wait=False, cancel_futures=True)
        self.download_session.close()
