"""The job engine: the public face of the job core that the GUI and the CLI both drive.

It owns one asyncio task per running job (prepare → submit → poll → download, in `stages`), the scheduler
(slots, rate limit, the gate), and the leases that make each job belong to exactly one PixDesk process.
Blocking work (HTTP, image preparation, SQLite, file writes) runs in executors, never on the loop's thread,
which in the GUI is the UI thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pixdesk.api.client import ApiClient
from pixdesk.api.download import part_path
from pixdesk.api.errors import ErrorKind, PixDeskError
from pixdesk.api.request import FieldError, GenerationRequest, ValidationError
from pixdesk.api.text import clean_text
from pixdesk.jobs import stages, storyboard
from pixdesk.jobs.ledger import jobs_awaiting_charge, reconcile
from pixdesk.jobs.library import DiscardedFiles, Library
from pixdesk.jobs.models import UNFINISHED, UNKNOWN_ADVICE, Failure, Job, JobState
from pixdesk.jobs.prices import PriceBook
from pixdesk.jobs.scheduler import Scheduler
from pixdesk.jobs.services import (
    JobListener,
    LostOwnership,
    NoticeListener,
    OnRefused,
    QueueHeld,
    Services,
    StopJob,
)
from pixdesk.jobs.states import Action, allowed_actions, offers_file_deletion
from pixdesk.jobs.store import JobStore
from pixdesk.jobs.timing import Clock, PollPolicy, RealClock, RetryPolicy

log = logging.getLogger(__name__)
DEMO_BACKEND = "demo"
THUMBNAIL_SIDE = stages.THUMBNAIL_SIDE
STOPPED_WATCHING = "Stopped watching; the server may still finish it (and charge for it)."
QUEUE_PAUSED = "Queue paused"  # the badge of a job held back by the person's pause


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
        on_refused: OnRefused | str = OnRefused.PAUSE,
        prices: PriceBook | None = None,
        logs_patience: float = 10 * 60.0,
        resolve_wait: float | None = None,
        ledger_interval: float | None = 60.0,
    ) -> None:
        clock = clock or RealClock()
        backend = backend or client.base_url
        self.scheduler = Scheduler(clock, max_in_flight=max_in_flight, requests_per_second=requests_per_second)
        self.services = Services(
            store=store,
            library=library,
            clock=clock,
            rng=rng or random.Random(),
            poll_policy=poll_policy or PollPolicy(),
            retry_policy=retry_policy or RetryPolicy(),
            scheduler=self.scheduler,
            on_refused=OnRefused(on_refused),
            clients={backend: client},
            backend=backend,
            workers=workers,
            logs_patience=logs_patience,
            resolve_wait=resolve_wait,
        )
        self.store = store
        self.library = library
        self.prices = prices
        self.jobs: dict[str, Job] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._removed_jobs: dict[str, Job] = {}
        self._discarded: dict[str, DiscardedFiles] = {}  # a removed job's clip and sidecar, in the trash
        self._heartbeat: asyncio.Task[None] | None = None
        self._ledger: asyncio.Task[None] | None = None
        self.ledger_interval = ledger_interval
        self._closed = False
        self._change_waiters: list[asyncio.Future[None]] = []  # films waiting for a part to change
        self._film_retries: set[str] = set()  # films whose retry is being saved right now
        self.services.job_listeners.append(self._wake_films)

    # -- wiring ------------------------------------------------------------------------------------------
    @property
    def job_listeners(self) -> list[JobListener]:
        return self.services.job_listeners

    @property
    def notice_listeners(self) -> list[NoticeListener]:
        return self.services.notice_listeners

    @property
    def backend(self) -> str:
        return self.services.backend

    @property
    def client(self) -> ApiClient:
        return self.services.clients[self.services.backend]

    def use_backend(self, backend: str, client: ApiClient) -> None:
        """New jobs go to `backend`; jobs already sent elsewhere keep talking to their own server."""
        self.services.backend = backend
        self.services.clients[backend] = client

    @property
    def max_in_flight(self) -> int:
        return self.scheduler.max_in_flight

    @max_in_flight.setter
    def max_in_flight(self, value: int) -> None:
        self.scheduler.max_in_flight = value

    @property
    def paused_reason(self) -> str | None:
        """Why the money guard holds submissions (a refused key, no credits), or None. Not the person's pause
        of the queue: that is `queue_paused`."""
        return self.scheduler.pause_reason

    @property
    def queue_paused(self) -> bool:
        """The person paused the queue: nothing new is sent until `resume_queue`."""
        return self.scheduler.queue_paused

    @property
    def on_refused(self) -> OnRefused:
        return self.services.on_refused

    def running_count(self) -> int:
        return sum(1 for j in self.jobs.values() if not j.is_final)

    def submitting_count(self) -> int:
        """Create requests in flight right now: closing waits for their answers so no id is lost."""
        return sum(1 for i, j in self.jobs.items() if j.state is JobState.SUBMITTING and i in self._tasks)

    def is_running(self, job_id: str) -> bool:
        """Its task has not ended (one that just ended is still listed until its done-callback runs)."""
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    # -- what a person does ------------------------------------------------------------------------------
    async def submit(
        self, request: GenerationRequest, group_id: str | None = None, *, thumbnail: bytes | None = None
    ) -> Job:
        """Validate, persist and schedule a job; returns at once (raises ValidationError). Jobs made together
        (variations, a batch) share a `group_id`, saved with them, so the queue can show and cancel them as one.
        `thumbnail` is for a job without a picture of its own (lip-sync over a clip shows the clip's)."""
        job = self._new_job(request, group_id)
        job.thumbnail = thumbnail
        await self._admit(job)
        return job.snapshot()

    def _new_job(self, request: GenerationRequest, group_id: str | None) -> Job:
        request.validated()
        job = Job(request=request, backend=self.services.backend, group_id=group_id)
        quote = self.prices.quote(request) if self.prices is not None else None
        job.estimated_usd = quote.usd if quote is not None else None
        return job

    async def _admit(self, job: Job, *, start: bool = True) -> None:
        self.jobs[job.id] = job
        await self.services.persist(job)
        self.services.emit(job)
        if start:
            self._start(job)

    async def submit_storyboard(
        self, keyframes: Sequence[str], base: GenerationRequest, group_id: str | None = None
    ) -> tuple[list[Job], Job]:
        """One transition per consecutive pair of keyframes, as one group, and the film that joins them when
        all are done. Everything is validated before anything is saved (raises ValidationError); the film is
        saved first, so no part is ever without it."""
        requests = storyboard.part_requests(keyframes, base)
        group_id = group_id or uuid.uuid4().hex  # the CLI names it first, to find its jobs if interrupted
        parts = [self._new_job(r, group_id) for r in requests]
        film = Job(
            request=storyboard.film_request(keyframes, base),
            backend=self.services.backend,
            group_id=group_id,
            parts=tuple(p.id for p in parts),
            state=JobState.WAITING,
        )
        film.created_at = max(p.created_at for p in parts) + 1e-3  # listed after (above) its parts
        await self._admit(film, start=False)  # saved before its parts; started once they are known
        for part in parts:
            await self._admit(part)
        self._start(film)
        return [p.snapshot() for p in parts], film.snapshot()

    async def retry(self, job_id: str) -> Job:
        """A new job with the same settings (the user's explicit choice, also for `unknown` jobs). It joins the
        original's group, so a set's row counts it. A film is retried as a new film: its finished parts are
        kept (and parts already retried by hand are used), only the others are sent again."""
        original = self.jobs[job_id]
        if original.is_film:
            return await self._retry_film(original)
        return await self.submit(original.request, group_id=original.group_id, thumbnail=original.thumbnail)

    def film_parts_to_send(self, film_id: str) -> list[Job]:
        """The parts a Retry of this film would send again (what the spending guard weighs): those that ended
        without a clip and were not retried by hand; a part the server has is watched again, never resent."""
        film = self.jobs[film_id]
        group = [j for j in self.jobs.values() if j.group_id == film.group_id]
        parts = [self.jobs.get(i) for i in film.parts]
        return [p for p in parts if p is not None and storyboard.reusable_part(p, group) is None]

    async def _retry_film(self, film: Job) -> Job:
        if film.backend != self.services.backend:  # demo parts must not mix with paid ones, nor the other way
            where = "demo mode" if film.backend == DEMO_BACKEND else "live mode"
            raise ValidationError([FieldError("model", f"This storyboard was made in {where}: retry it there.")])
        if film.id in self._film_retries:  # a second click while the first retry is being saved
            raise ValidationError([FieldError("model", "This storyboard is already being retried.")])
        self._film_retries.add(film.id)
        try:
            return await self._retry_film_once(film)
        finally:
            self._film_retries.discard(film.id)

    async def _retry_film_once(self, film: Job) -> Job:
        svc = self.services
        for part_id in film.parts:  # parts cancelled with the film may still be ending: decide on how they end
            if self._stopping(part_id):
                await self.wait(part_id)
        loaded = [self.jobs.get(i) or await svc.disk_call(self.store.get, i) for i in film.parts]
        group = [j for j in self.jobs.values() if j.group_id == film.group_id and j.backend == film.backend]
        candidates = [j for j in (*group, *(p for p in loaded if p is not None)) if j.file_path]
        on_disk = await svc.disk_call(lambda: {j.id for j in candidates if Path(j.file_path or "").is_file()})
        parts: list[Job] = []
        fresh: list[Job] = []
        for number, part in enumerate(loaded, 1):
            if part is None:
                message = f"Part {number} of this storyboard was removed: make the storyboard again."
                raise ValidationError([FieldError("model", message)])
            keep = storyboard.reusable_part(part, group, on_disk)
            watch_again = keep is not None and keep.state is JobState.CANCELLED and keep.server_id
            if watch_again and not await self.resume_job(part.id):  # the server has it (and charges): never resent
                message = f"Part {number} of this storyboard is being handled by another PixDesk window or command."
                raise ValidationError([FieldError("model", message)])
            if keep is not None:
                parts.append(keep)
                continue
            job = self._new_job(part.request, film.group_id)
            parts.append(job)
            fresh.append(job)
        new_film = Job(
            request=film.request,
            backend=self.services.backend,
            group_id=film.group_id,
            parts=tuple(p.id for p in parts),
            state=JobState.WAITING,
        )
        await self._admit(new_film, start=False)
        for job in fresh:
            await self._admit(job)
        self._start(new_film)
        return new_film.snapshot()

    def cancel(self, job_id: str) -> bool:
        """Stop working on a job. Never-sent jobs are never sent; sent ones stop being watched. A create in
        flight is let finish, so its id is kept, and the job stops right after. Returns whether there was
        anything to stop here (False: unknown, finished, or worked on by another process)."""
        job = self.jobs.get(job_id)
        if job is None:
            return False
        task = self._tasks.get(job_id)
        if task is None:
            if job.state is JobState.STALLED:  # resumable, nobody working on it: it ends here
                asyncio.get_running_loop().create_task(self._cancel_idle(job))
                return True
            return False
        self.services.cancel_requested.add(job_id)
        if job.state not in UNFINISHED:
            return True  # its end is being saved right now (a second click): interrupting would lose the save
        answered = job.server_id is not None and job_id in self.services.sending  # its create's answer is saved
        if job.state is not JobState.SUBMITTING and not answered:
            task.cancel()
        return True

    def cancel_group(self, group_id: str) -> int:
        """Cancel every unfinished job of a group, as `cancel` does each one; returns how many were stopped."""
        members = [j for j in self.jobs.values() if j.group_id == group_id and Action.CANCEL in allowed_actions(j)]
        return sum(1 for job in members if self.cancel(job.id))

    def pause_queue(self) -> bool:
        """The person's pause: nothing new is sent (jobs waiting for a slot stay `waiting`, "Queue paused"); jobs
        already at the server are watched and downloaded to the end, and a create already on its way is let
        finish. Independent of the money guard's gate (`paused_reason`). Returns True when this paused it."""
        if not self.scheduler.pause_queue():
            return False
        for job in self.jobs.values():
            held = job.state is JobState.WAITING and job.server_id is None and job.id in self._tasks
            if held and job.id not in self.services.sending and job.detail is None:
                self.services.show_detail(job, QUEUE_PAUSED)
        self.services.notify("queue paused", "Queue paused: nothing new is sent; jobs at the server finish.")
        return True

    def resume_queue(self) -> bool:
        """Let the held jobs go, in the order they came, within the in-flight limit. Does not reopen the money
        guard's gate (that is `resume_submissions`). Returns True when this resumed it."""
        if not self.scheduler.resume_queue():
            return False
        for job in self.jobs.values():
            if job.detail == QUEUE_PAUSED:
                self.services.show_detail(job, None)
        self.services.notify("queue resumed", "Queue resumed.")
        return True

    async def set_favourite(self, job_id: str, favourite: bool) -> Job | None:
        """Star (or unstar) a job: saved at once, kept across restarts, shown. None when the job is unknown or
        another PixDesk process is working on it right now (its copy is the one that counts)."""
        job = self.jobs.get(job_id)
        if job is None or job_id in self.services.removed:
            return None
        running = job_id in self._tasks
        if running:
            # The store bumps the row's version: so does our copy, before any later save of this running job is
            # queued behind this write (one disk worker, in order), so that save stays the newer one.
            previous = job.favourite
            job.favourite = favourite
            job.version += 1
        if not await self.services.disk_call(self.store.set_favourite, job_id, favourite):
            if running:
                job.favourite = previous
            return None
        if not running:  # not ours to run: take the stored copy, which another process may have moved on meanwhile
            fresh = await self.services.disk_call(self.store.get, job_id)
            if fresh is not None and job_id not in self._tasks and job_id not in self.services.removed:
                job = self.jobs[job_id] = fresh
            job.favourite = favourite
        self.services.emit(job)
        return job.snapshot()

    async def recent_prompts(self, limit: int = 20) -> list[str]:
        """Distinct prompts of past jobs, newest first (what the prompt box offers as you type)."""
        return await self.services.disk_call(self.store.recent_prompts, limit)

    async def _cancel_idle(self, job: Job) -> None:
        with contextlib.suppress(StopJob):
            failure = Failure(STOPPED_WATCHING, ErrorKind.API) if job.server_id else None
            await self.services.move(job, JobState.CANCELLED, failure=failure)

    async def resume_job(self, job_id: str) -> bool:
        """Watch again a stalled job, or one the user stopped watching that the server may have finished."""
        if self._stopping(job_id):
            await self.wait(job_id)  # the row says cancelled while its stop is still ending: resume after it
        job = self.jobs.get(job_id)
        if job is None or self.is_running(job_id) or job.state not in (JobState.STALLED, JobState.CANCELLED):
            return False
        if job.state is JobState.CANCELLED and job.server_id is None:
            return False
        if not await self.services.disk_call(self.store.claim, job_id):
            return False
        fresh = await self.services.disk_call(self.store.get, job_id)
        if fresh is None or fresh.state not in (JobState.STALLED, JobState.CANCELLED):
            return False  # another process moved it on meanwhile
        job = self.jobs[job_id] = fresh
        job.detail = None
        job.retries = 0
        try:
            if job.state is JobState.CANCELLED:
                job.clear_failure()
                job.finished_at = None
                await self.services.move(job, JobState.QUEUED)
        except LostOwnership:
            return False
        self._start(job)
        return True

    def mark_removing(self, job_id: str) -> None:
        """The person chose Remove: from this moment nothing about the job is shown or saved again (called
        before `remove` runs, so an update already on its way cannot bring the row back)."""
        self.services.removed.add(job_id)

    async def remove(self, job_id: str, *, delete_files: bool = False) -> bool:
        """Stop the job, wait until its task has ended, then delete it: it never comes back (but for `restore`).
        Returns False (and changes nothing) when another PixDesk process is working on it. `delete_files`: a
        finished clip and its sidecar leave the library too, into the trash, from where `restore` puts them
        back (until the engine closes, which empties the trash)."""
        svc = self.services
        job = self.jobs.get(job_id)
        task = self._tasks.get(job_id)
        if task is None:
            # Not ours right now: the database has the truth (another process may have sent it meanwhile).
            owner = await svc.disk_call(self.store.owner_of, job_id)
            if owner is not None and owner != self.store.owner:
                svc.removed.discard(job_id)
                return False
            job = await svc.disk_call(self.store.get, job_id) or job
        svc.removed.add(job_id)
        if task is not None:
            svc.cancel_requested.add(job_id)
            if job is None or job.state is not JobState.SUBMITTING:
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            job = self.jobs.get(job_id, job)
        if not await svc.disk_call(self.store.delete, job_id):
            svc.removed.discard(job_id)
            return False
        if job is not None:
            if job.state is not JobState.COMPLETED:  # a download cut short leaves a partial file: it goes too
                await svc.disk_call(self._discard_partial, job)
            elif delete_files and offers_file_deletion(job):
                await self._discard_files(job)
            self._removed_jobs[job_id] = job
        self.jobs.pop(job_id, None)
        self._wake_films(job)  # a film waiting for this part learns it is gone
        return True

    async def _discard_files(self, job: Job) -> None:
        try:
            self._discarded[job.id] = await self.services.disk_call(self.library.discard_files, job)
        except OSError as exc:  # the job is gone from the list; its files stay where they were
            log.info("job %s: files not moved to the trash: %s", job.id[:8], exc)
            self.services.notify("files kept", f"The video file could not be deleted: {exc.strerror or exc}")

    def _discard_partial(self, job: Job) -> None:
        dest = Path(job.file_path) if job.file_path else self.library.video_path(job)
        with contextlib.suppress(OSError):
            part_path(dest).unlink()

    async def restore(self, job_id: str) -> Job | None:
        """Undo a removal: the job comes back as it was; one that was still running goes on. Its files, if they
        were deleted with it, come back too: under a free name, saved in the job, if a file took their place."""
        job = self._removed_jobs.pop(job_id, None)
        if job is None:
            return None
        discarded = self._discarded.pop(job_id, None)
        if discarded is not None:
            try:
                back = await self.services.disk_call(self.library.restore_files, discarded)
            except OSError as exc:
                log.info("job %s: files not restored: %s", job_id[:8], exc)
                self.services.notify("files lost", f"The video file could not be put back: {exc.strerror or exc}")
            else:
                if back.video is not None:
                    job.file_path = str(back.video)
                if back.renamed and back.video is not None:
                    self.services.notify("files renamed", f"Restored as {back.video.name}: a file had taken its name.")
        self.services.removed.discard(job_id)
        self.services.cancel_requested.discard(job_id)
        self.jobs[job_id] = job
        if job.state is JobState.SUBMITTING and job.server_id is None:
            await self.services.move(job, JobState.UNKNOWN, failure=Failure(UNKNOWN_ADVICE, ErrorKind.NETWORK))
            return job.snapshot()
        await self.services.persist(job)
        self.services.emit(job)
        if not job.is_final:
            self._start(job)
        return job.snapshot()

    def resume_submissions(self) -> None:
        """Reopen the gate after the user fixed the key or topped up."""
        if self.scheduler.open_gate():
            self.services.notify("resumed", "Submissions resumed.")

    # -- history and start-up -----------------------------------------------------------------------------
    async def load_history(self, limit: int | None = None) -> list[Job]:
        jobs = await self.services.disk_call(self.store.all, limit)
        # Clips deleted in a window that ended without emptying its trash (a crash): gone for good now.
        await self.services.disk_call(self.library.purge_discarded, True)
        for job in jobs:
            self.jobs.setdefault(job.id, job)
        self._watch_ledger()  # finished jobs from earlier runs may still wait for their charge
        return jobs

    async def resume_unfinished(self) -> list[Job]:
        """Pick up what a previous run left — only jobs no other live PixDesk process owns: poll, download,
        or look up in the usage logs what may have been sent."""
        resumed: list[Job] = []
        for job in await self.services.disk_call(self.store.claimable_unfinished):
            if job.id in self._tasks or job.id in self.services.removed:
                continue
            elsewhere = job.backend != self.services.backend
            if elsewhere and (job.server_id is not None or job.state is JobState.UNKNOWN or self._crosses_demo(job)):
                continue  # another server's job (live vs demo): its logs and its jobs are there, not here
            if not await self.services.disk_call(self.store.claim, job.id):
                continue  # another process took it a moment ago
            fresh = await self.services.disk_call(self.store.get, job.id)
            if fresh is None or fresh.state not in UNFINISHED:
                continue  # finished by another process between the list and the claim
            job = self.jobs[job.id] = fresh
            if job.state is JobState.SUBMITTING and job.server_id is None:
                try:
                    failure = Failure(UNKNOWN_ADVICE, ErrorKind.NETWORK)
                    await self.services.move(job, JobState.UNKNOWN, failure=failure)
                except LostOwnership:
                    continue
            if job.backend == DEMO_BACKEND and job.state is not JobState.COMPLETED:
                job.video_url = None  # the simulator starts on a new port each time: ask it for the link again
            job.detail = None
            job.retries = 0
            self._start(job)
            resumed.append(job)
        return [j.snapshot() for j in resumed]

    def _crosses_demo(self, job: Job) -> bool:
        """A never-sent job from demo mode must not become a paid one (nor a paid one a simulated clip);
        a live job whose base URL changed since is sent to the new one."""
        sendable = job.state is not JobState.SUBMITTING
        return sendable and DEMO_BACKEND in (job.backend, self.services.backend)

    # -- what jobs really cost -----------------------------------------------------------------------------
    async def reconcile_charges(self) -> int:
        """One pass over the ledger: a finished live job says "charged $x" only once the ledger agrees (the
        charge posts after completion, so "not yet" is not "never"). Returns how many were confirmed."""
        waiting = jobs_awaiting_charge(list(self.jobs.values()), time.time())
        confirmed = 0
        for backend in {j.backend for j in waiting}:
            client = self.services.clients.get(backend)
            if client is None:
                continue  # a server not in use now (live vs demo): checked when it is
            group = [j for j in waiting if j.backend == backend]
            try:
                found = await self.services.http_call(reconcile, client, group, time.time())
            except PixDeskError as exc:
                log.info("ledger not reconciled now: %s", getattr(exc, "message", exc))
                continue
            for job in group:
                if job.id in found and job.charged_usd is None:
                    job.charged_usd = found[job.id]
                    with contextlib.suppress(StopJob):
                        await self.services.persist(job)
                    self.services.emit(job)
                    confirmed += 1
        return confirmed

    def _watch_ledger(self) -> None:
        if self.ledger_interval is not None and self._ledger is None and not self._closed:
            self._ledger = asyncio.get_running_loop().create_task(self._ledger_loop(), name="job-ledger")

    async def _ledger_loop(self) -> None:
        """While finished jobs wait for their charge, look at the ledger now and then."""
        assert self.ledger_interval is not None
        try:
            while jobs_awaiting_charge(list(self.jobs.values()), time.time()):
                await asyncio.sleep(self.ledger_interval)
                await self.reconcile_charges()
        finally:
            self._ledger = None

    # -- waiting and closing ------------------------------------------------------------------------------
    async def wait(self, job_id: str) -> Job:
        task = self._tasks.get(job_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return self.jobs[job_id].snapshot()

    async def wait_all(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    def create_deadline(self) -> float:
        """How long a create request can take at most: closing waits this long for answers in flight."""
        timeouts = self.client.timeouts
        total = getattr(timeouts, "total", None)
        return float(total) if total else float(timeouts.connect + timeouts.read)

    async def close(self) -> None:
        """Stop every job so the next start (in this or another process) picks it up. A create request
        already sent is waited for — bounded by its deadline — so the id the server gives is saved."""
        if self._closed:
            return
        self._closed = True
        self.services.closing = True
        sending = [t for i, t in self._tasks.items() if self.jobs[i].state is JobState.SUBMITTING]
        if sending:
            await asyncio.wait(sending, timeout=self.create_deadline() + 1.0)
        unfinished = [i for i in self._tasks]
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        for background in (self._heartbeat, self._ledger):
            if background is not None:
                background.cancel()
                await asyncio.gather(background, return_exceptions=True)
        for job_id in unfinished:  # leave them to whoever starts next, at once
            await self.services.disk_call(self.store.release, job_id)
        self._removed_jobs.clear()  # nothing can be undone any more: deleted clips go for good
        self._discarded.clear()
        await self.services.disk_call(self.library.purge_discarded)
        await self.services.shutdown()

    # -- plumbing -----------------------------------------------------------------------------------------
    def _stopping(self, job_id: str) -> bool:
        """Its work is ending after a cancel (the state may already say so while the end is being saved)."""
        job = self.jobs.get(job_id)
        stop_asked = job_id in self.services.cancel_requested or (job is not None and job.state not in UNFINISHED)
        return self.is_running(job_id) and stop_asked

    def _start(self, job: Job) -> None:
        task = asyncio.get_running_loop().create_task(self._run(job), name=f"job-{job.id[:8]}")
        self._tasks[job.id] = task
        task.add_done_callback(lambda t, job_id=job.id: self._forget(job_id, t))  # type: ignore[misc]
        if self._heartbeat is None:
            self._heartbeat = asyncio.get_running_loop().create_task(self._renew_leases(), name="job-leases")

    async def _send(self, job: Job, body: dict[str, Any]) -> None:
        """The submit stage, held back while the person has the queue paused: a job caught by the pause on its
        way leaves the stage unsent, keeps its slot (it is next), and goes on when the queue runs again."""
        svc = self.services
        while True:
            if self.scheduler.queue_paused:
                gate = self.scheduler.pause_reason
                svc.show_detail(job, f"paused: {gate}" if gate else QUEUE_PAUSED)
                await self.scheduler.wait_queue_running()
                svc.show_detail(job, None)
            svc.sending.add(job.id)
            try:
                await stages.submit(svc, job, body)
                return
            except QueueHeld:
                continue
            finally:
                svc.sending.discard(job.id)

    def _forget(self, job_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(job_id) is task:
            del self._tasks[job_id]

    async def _renew_leases(self) -> None:
        """Heartbeat: our jobs stay ours while we live; if we die, the leases lapse and others resume them."""
        period = max(0.05, float(getattr(self.store, "lease_seconds", 90.0)) / 3)
        while True:
            await asyncio.sleep(period)
            ids = list(self._tasks)
            if ids:
                try:
                    await self.services.disk_call(self.store.renew, ids)
                except Exception:
                    log.exception("could not renew job leases")

    def _wake_films(self, job: Job | None) -> None:
        """A job changed (or went): every film waiting for its parts looks again."""
        waiters, self._change_waiters = self._change_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _part_changed(self) -> None:
        """Until the next change of any job (the film then decides again from its parts)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._change_waiters.append(waiter)
        await waiter

    async def _film(self, job: Job) -> None:
        """Wait for the parts (as the UI sees them change), then join their clips off the loop's thread."""
        from pixdesk.jobs import media  # PyAV: loaded when a film is first joined, not at start

        svc = self.services
        while True:
            parts = [self.jobs.get(i) or await svc.disk_call(self.store.get, i) for i in job.parts]
            step = storyboard.next_step(parts)
            if step.action == "fail":
                await svc.move(job, JobState.FAILED, failure=Failure(step.message))
                return
            if step.action == "join":
                break
            if job.state is not JobState.WAITING:
                await svc.move(job, JobState.WAITING, detail=step.message)
            elif job.detail != step.message:
                svc.show_detail(job, step.message)
            await self._part_changed()
        dest = Path(job.file_path) if job.file_path else svc.library.video_path(job)
        await svc.move(job, JobState.DOWNLOADING, detail=f"joining {len(step.clips)} parts…")

        def join() -> tuple[media.JoinResult, int]:
            result = media.join_clips(step.clips, dest, should_stop=lambda: svc.should_stop(job))
            return result, result.path.stat().st_size

        try:  # on the image workers: a long re-encode must not hold up the saves on the database's one thread
            result, size = await svc.image_call(join)
        except media.MediaCancelled:
            raise asyncio.CancelledError from None
        except (media.MediaError, OSError) as exc:
            await svc.move(job, JobState.FAILED, failure=Failure(f"The parts could not be joined: {exc}"))
            return
        job.file_path = str(result.path)
        job.video_size = size
        job.finished_at = time.time()
        job.thumbnail = job.thumbnail or next((p.thumbnail for p in parts if p is not None and p.thumbnail), None)
        try:
            await svc.disk_call(svc.library.write_sidecar, job, result.path)
        except OSError as exc:
            log.warning("film %s: its sidecar could not be written: %s", job.id[:8], exc)
        job.progress = 1.0
        await svc.move(job, JobState.COMPLETED)

    async def _run(self, job: Job) -> None:
        svc = self.services
        holding_slot = False
        just_sent = False
        try:
            if job.is_film:
                await self._film(job)
                return
            if job.state is JobState.UNKNOWN and job.server_id is None:
                await stages.resolve(svc, job)  # never resent: found in the usage logs, or known not created
            elif job.server_id is None:
                body = await stages.prepare(svc, job)
                await svc.move(job, JobState.WAITING, detail=QUEUE_PAUSED if self.scheduler.queue_paused else None)
                await self.scheduler.acquire_slot()
                holding_slot = True
                try:
                    await self._send(job, body)
                    just_sent = True
                except stages.InDoubt:
                    self.scheduler.release_slot()  # looking it up is no work at the server
                    holding_slot = False
                    await stages.resolve(svc, job)
                if job.id in svc.cancel_requested or job.id in svc.removed:
                    raise asyncio.CancelledError
                if svc.closing:
                    return  # the id is saved; the next start watches it
            if not holding_slot:
                self.scheduler.take_slot()  # already at the server: watched at once
                holding_slot = True
            if job.video_url is None or job.state is not JobState.DOWNLOADING:
                await stages.poll(svc, job, just_sent=just_sent)
            self.scheduler.release_slot()
            holding_slot = False
            await stages.download(svc, job)
            self._watch_ledger()
        except asyncio.CancelledError:
            if job.state is JobState.UNKNOWN:
                pass  # stopping the lookup changes nothing: it may still have been created
            elif not svc.closing and not job.is_final and job.id not in svc.removed:
                failure = Failure(STOPPED_WATCHING, ErrorKind.API) if job.server_id else None
                with contextlib.suppress(StopJob):
                    await svc.move(job, JobState.CANCELLED, failure=failure)
        except LostOwnership:
            self.jobs.pop(job.id, None)
        except StopJob:
            pass
        except Exception as exc:  # last line of defence: the job ends visibly, the app lives on
            log.exception("job %s crashed", job.id)
            if not job.is_final:
                # Sent: keep watching later (stalled). Maybe sent: never resent by us (unknown). Never sent: failed.
                if job.server_id:
                    state = JobState.STALLED
                elif job.state is JobState.SUBMITTING:
                    state = JobState.UNKNOWN
                else:
                    state = JobState.FAILED
                message = clean_text(f"Unexpected error: {type(exc).__name__}: {exc}", 400)
                if state is JobState.UNKNOWN:
                    message = f"{message} {UNKNOWN_ADVICE}"
                with contextlib.suppress(StopJob):
                    await svc.move(job, state, failure=Failure(message))
        finally:
            if holding_slot:
                self.scheduler.release_slot()
            svc.cancel_requested.discard(job.id)
            if job.state is JobState.UNKNOWN and not svc.closing:  # still in doubt: whoever starts next looks
                with contextlib.suppress(Exception):
                    await svc.disk_call(self.store.release, job.id)
