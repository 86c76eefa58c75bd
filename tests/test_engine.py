"""The job engine against the real simulator: concurrency, limits, safe retries, persistence."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import av
import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import Job, JobState, JobStore
from pixdesk.simulator import Simulator
from tests.helpers import make_engine, run_one_job


def request(png: Path, prompt: str = "waves roll in", **extra: object) -> GenerationRequest:
    return GenerationRequest(image=str(png), prompt=prompt, resolution="360p", **extra)  # type: ignore[arg-type]


def test_twenty_concurrent_jobs_all_complete_within_the_in_flight_limit(sim: Simulator, tmp_path: Path, png: Path):
    seen: list[Job] = []

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path, max_in_flight=6, requests_per_second=200)
        engine.job_listeners.append(seen.append)
        max_at_server = 0

        def watch(job: Job) -> None:
            nonlocal max_at_server
            at_server = sum(
                1
                for j in engine.jobs.values()
                if j.state in (JobState.SUBMITTING, JobState.QUEUED, JobState.GENERATING)
            )
            max_at_server = max(max_at_server, at_server)

        engine.job_listeners.append(watch)
        try:
            jobs = [await engine.submit(request(png, f"job {i}", seed=i)) for i in range(20)]
            await engine.wait_all()
            assert max_at_server <= 6
            return [engine.jobs[j.id] for j in jobs]
        finally:
            await engine.close()

    jobs = asyncio.run(go())
    assert [j.state for j in jobs] == [JobState.COMPLETED] * 20
    assert sim.create_requests == 20 and len(sim.generations) == 20
    assert len({j.file_path for j in jobs}) == 20
    assert {JobState.WAITING, JobState.QUEUED, JobState.DOWNLOADING} <= {j.state for j in seen}
    for job in jobs:
        assert Path(job.file_path or "").stat().st_size > 1000
        sidecar = json.loads(Path(job.file_path or "").with_suffix(".json").read_text())
        assert sidecar["generation_id"] == job.server_id and sidecar["parameters"]["seed"] is not None


def test_job_is_persisted_before_the_create_request_and_updated_with_the_id(sim: Simulator, tmp_path: Path, png: Path):
    states_at_create: list[str | None] = []
    store_path = tmp_path / "jobs.sqlite3"
    original = sim.create

    def spy(body, spec, client_request_id=None):  # runs inside the server when the create arrives
        peek = JobStore(store_path)
        states_at_create.extend(j.state.value for j in peek.all())
        peek.close()
        return original(body, spec, client_request_id)

    sim.create = spy  # type: ignore[method-assign]

    async def go() -> Job:
        engine = make_engine(sim, tmp_path)
        try:
            job = await engine.submit(request(png))
            return await engine.wait(job.id)
        finally:
            await engine.close()

    job = asyncio.run(go())
    assert states_at_create == ["submitting"]
    stored = JobStore(store_path).get(job.id)
    assert stored is not None and stored.server_id == job.server_id and stored.state is JobState.COMPLETED


def test_create_429_is_retried_once_and_makes_one_generation(sim: Simulator, tmp_path: Path, png: Path):
    sim.inject("status", "create", status=429, retry_after=0.1)
    job = _run_one(sim, tmp_path, png)
    assert job.state is JobState.COMPLETED
    assert sim.create_requests == 2 and len(sim.generations) == 1


def test_create_503_with_retry_after_is_retried(sim: Simulator, tmp_path: Path, png: Path):
    sim.inject("status", "create", status=503, retry_after=0.1)
    job = _run_one(sim, tmp_path, png)
    assert job.state is JobState.COMPLETED and sim.create_requests == 2 and len(sim.generations) == 1


def test_a_create_whose_answer_was_lost_is_found_in_the_logs_and_finished_with_one_create(
    sim: Simulator, tmp_path: Path, png: Path
):
    """The server accepted it but the answer never came: the usage logs (rows a little late) give the
    generation id through our X-Client-Request-Id, and the job is watched and downloaded from there."""
    sim.logs_lag_seconds = 1.0
    sim.inject("drop_after_accept", "create")
    seen: list[JobState] = []
    job = run_one_job(sim, tmp_path, request(png), on_job=lambda j: seen.append(j.state))
    assert JobState.UNKNOWN in seen and job.state is JobState.COMPLETED
    (generation,) = sim.generations.values()
    assert job.server_id == generation.id and sim.create_requests == 1
    assert Path(job.file_path or "").is_file()


def test_a_create_the_logs_never_show_is_not_created_only_after_the_wait(sim: Simulator, tmp_path: Path, png: Path):
    """A 500 without a trace in the logs: `unknown` until the logs have had their time, then `not created`
    (safe to send again, by the person's choice) — never resent by us."""
    sim.inject("status", "create", status=500)
    seen: list[tuple[JobState, float]] = []
    job = run_one_job(
        sim, tmp_path, request(png), on_job=lambda j: seen.append((j.state, time.monotonic())), logs_patience=1.5
    )
    assert job.state is JobState.NOT_CREATED and "Safe to send again" in (job.error or "")
    unknown_at = next(t for s, t in seen if s is JobState.UNKNOWN)
    not_created_at = next(t for s, t in seen if s is JobState.NOT_CREATED)
    assert not_created_at - unknown_at >= 1.0  # not before the logs could have caught up
    assert sim.create_requests == 1 and not sim.generations


def test_validation_error_fails_the_job_with_the_servers_message(sim: Simulator, tmp_path: Path, png: Path):
    sim.inject("status", "create", status=400)
    job = _run_one(sim, tmp_path, png)
    assert job.state is JobState.FAILED and job.error_status == 400 and job.request_id


def test_failed_generation_shows_the_servers_message(sim: Simulator, tmp_path: Path, png: Path):
    sim.fail_generations = 1
    job = _run_one(sim, tmp_path, png)
    assert job.state is JobState.FAILED and "moderation" in (job.error or "")


def test_polls_survive_drops_malformed_answers_and_html(sim: Simulator, tmp_path: Path, png: Path):
    sim.inject("drop", "poll")
    sim.inject("malformed", "poll")
    sim.inject("html", "poll")
    sim.inject("status", "poll", status=504)
    job = _run_one(sim, tmp_path, png)
    assert job.state is JobState.COMPLETED and len(sim.generations) == 1


def test_401_pauses_submissions_with_one_notice(sim: Simulator, tmp_path: Path, png: Path):
    sim.api_key = "the-right-key"
    notices: list[tuple[str, str]] = []

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path, key="wrong")
        engine.notice_listeners.append(lambda kind, msg: notices.append((kind, msg)))
        try:
            jobs = [await engine.submit(request(png, f"p{i}")) for i in range(3)]
            while len([j for j in engine.jobs.values() if j.detail and j.detail.startswith("paused")]) < 3:
                await asyncio.sleep(0.02)
            paused = [engine.jobs[j.id].snapshot() for j in jobs]
            from pixdesk.api.client import ApiClient

            engine.use_backend(engine.backend, ApiClient(sim.url, "the-right-key"))
            engine.resume_submissions()
            await engine.wait_all()
            return paused + [engine.jobs[j.id] for j in jobs]
        finally:
            await engine.close()

    jobs = asyncio.run(go())
    assert [kind for kind, _ in notices].count("paused") == 1
    assert "key" in notices[0][1]
    assert all(j.state is JobState.WAITING for j in jobs[:3])
    assert all(j.state is JobState.COMPLETED for j in jobs[3:])


def test_cancel_before_sending_never_sends(sim: Simulator, tmp_path: Path, png: Path):
    async def go() -> Job:
        engine = make_engine(sim, tmp_path, max_in_flight=1)
        try:
            first = await engine.submit(request(png, "first"))
            second = await engine.submit(request(png, "second"))
            while engine.jobs[second.id].state is not JobState.WAITING:
                await asyncio.sleep(0.01)
            engine.cancel(second.id)
            await engine.wait_all()
            assert engine.jobs[first.id].state is JobState.COMPLETED
            return engine.jobs[second.id]
        finally:
            await engine.close()

    job = asyncio.run(go())
    assert job.state is JobState.CANCELLED and job.server_id is None
    assert sim.create_requests == 1


def test_resume_polls_downloads_and_marks_unknown(sim: Simulator, tmp_path: Path, png: Path):
    async def first_run() -> Job:
        engine = make_engine(sim, tmp_path)
        try:
            job = await engine.submit(request(png))
            while engine.jobs[job.id].server_id is None:
                await asyncio.sleep(0.01)
            return engine.jobs[job.id].snapshot()
        finally:
            await engine.close()  # like quitting the app mid-job

    accepted = asyncio.run(first_run())
    store = JobStore(tmp_path / "jobs.sqlite3")
    in_doubt = Job(request=request(png, "in doubt"), state=JobState.SUBMITTING, backend=sim.url)
    store.save(in_doubt)
    store.close()

    async def second_run() -> list[Job]:
        engine = make_engine(sim, tmp_path, logs_patience=1.0)  # the logs have had their time
        try:
            await engine.resume_unfinished()
            await engine.wait_all()
            return [engine.jobs[accepted.id], engine.jobs[in_doubt.id]]
        finally:
            await engine.close()

    done, doubtful = asyncio.run(second_run())
    assert done.state is JobState.COMPLETED and Path(done.file_path or "").exists()
    assert doubtful.state is JobState.NOT_CREATED  # never sent: the usage logs have no trace of it
    assert sim.create_requests == 1
    with av.open(done.file_path) as container:
        assert container.streams.video[0].height == 360


def _run_one(sim: Simulator, tmp_path: Path, png: Path) -> Job:
    return run_one_job(sim, tmp_path, request(png))


def test_closing_while_a_create_is_in_flight_waits_for_its_id(sim: Simulator, tmp_path: Path, png: Path):
    """Closing during a create request waits for the answer (bounded by its deadline) and saves the id:
    the server accepted the job, so throwing the answer away would lose a paid generation."""
    store_path = tmp_path / "jobs.sqlite3"
    sim.inject("hang", "create", seconds=0.6)  # the answer takes a while

    async def go() -> str:
        engine = make_engine(sim, tmp_path)
        sending = asyncio.Event()
        engine.job_listeners.append(lambda j: sending.set() if j.state is JobState.SUBMITTING else None)
        job = await engine.submit(request(png))
        await asyncio.wait_for(sending.wait(), 10)
        assert engine.submitting_count() == 1
        await engine.close()  # the window closes now
        return job.id

    job_id = asyncio.run(go())
    stored = JobStore(store_path).get(job_id)
    assert stored is not None and stored.server_id is not None and stored.state is JobState.QUEUED


def test_every_create_carries_our_client_request_id_saved_before_it_leaves(sim: Simulator, tmp_path: Path, png: Path):
    """The id that traces a create whose answer is lost must be on disk before the request goes out."""
    sim.inject("hang", "create", seconds=0.5)
    seen_while_sending: list[str | None] = []

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path)
        sending = asyncio.Event()
        engine.job_listeners.append(lambda j: sending.set() if j.state is JobState.SUBMITTING else None)
        try:
            first = await engine.submit(request(png, "one"))
            await asyncio.wait_for(sending.wait(), 10)
            reader = JobStore(tmp_path / "jobs.sqlite3")
            stored = reader.get(first.id)
            reader.close()
            seen_while_sending.append(stored.client_request_id if stored else None)
            second = await engine.submit(request(png, "two"))
            return [await engine.wait(first.id), await engine.wait(second.id)]
        finally:
            await engine.close()

    jobs = asyncio.run(go())
    ids = [j.client_request_id for j in jobs]
    assert all(i and re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", i) for i in ids) and ids[0] != ids[1]
    assert seen_while_sending == [ids[0]]
    received = {g.id: g.client_request_id for g in sim.generations.values()}
    assert [received[j.server_id or ""] for j in jobs] == ids


def test_an_invalid_client_request_id_is_never_sent(client):
    """The API silently drops an invalid id and still bills the request: refuse to send one at all."""
    with pytest.raises(ValueError):
        client.create({"model": "pixverse/v5/image-to-video"}, "has spaces and é")


def test_logs_that_cannot_be_read_never_make_a_job_not_created(sim: Simulator, tmp_path: Path, png: Path):
    """Absence of evidence because the logs answer errors is not evidence: the job stays unknown."""
    sim.inject("status", "create", status=500)
    sim.inject("status", "logs", count=10_000, status=503)
    job = run_one_job(sim, tmp_path, request(png), logs_patience=0.2, resolve_wait=1.5)
    assert job.state is JobState.UNKNOWN and sim.create_requests == 1
    assert sim.stats.count("logs") >= 2  # it did keep asking
