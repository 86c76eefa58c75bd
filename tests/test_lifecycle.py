"""A job's whole life against the real simulator: remove and restore, a hostile server at every stage,
and two PixDesk processes sharing one database (leases: one owner per job, never paid twice)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

import av
import pytest

from pixdesk.api.client import ApiClient, Timeouts
from pixdesk.api.request import GenerationRequest
from pixdesk.cli import main
from pixdesk.jobs import Job, JobEngine, JobState, JobStore, Library, RetryPolicy
from pixdesk.simulator import Simulator
from tests.conftest import TEST_KEY
from tests.helpers import FAST_POLL, FAST_RETRY, FakeClock, make_engine, run_one_job, stored_jobs, wait_until

ROOT = Path(__file__).resolve().parents[1]
SHORT_RETRY = RetryPolicy(base=0.01, ceiling=0.05, budget=0.5)


def request(png: Path, prompt: str = "waves roll in", **extra: object) -> GenerationRequest:
    return GenerationRequest(image=str(png), prompt=prompt, resolution="360p", **extra)  # type: ignore[arg-type]


def stored(folder: Path, job_id: str) -> Job | None:
    store = JobStore(folder / "jobs.sqlite3")
    try:
        return store.get(job_id)
    finally:
        store.close()


def visible_only(text: str) -> bool:
    """No control (Cc) or format (Cf: bidi, zero-width) character anywhere."""
    return not any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def assert_valid_mp4(path: str | None) -> None:
    with av.open(str(path)) as container:
        assert container.streams.video[0].height == 360
        assert sum(1 for _ in container.decode(video=0)) > 0


async def until(engine: JobEngine, job_id: str, states: set[JobState], timeout: float = 30.0) -> Job:
    """Wait (on an Event, never a sleep loop) until the job reaches one of `states`."""
    reached = asyncio.Event()

    def watch(job: Job) -> None:
        if job.id == job_id and job.state in states:
            reached.set()

    engine.job_listeners.append(watch)
    try:
        if engine.jobs[job_id].state not in states:
            await asyncio.wait_for(reached.wait(), timeout)
    finally:
        engine.job_listeners.remove(watch)
    return engine.jobs[job_id].snapshot()


# -- remove and restore ------------------------------------------------------------------------------
@pytest.mark.parametrize("state", [JobState.QUEUED, JobState.GENERATING])
def test_removing_a_running_job_stops_it_and_it_never_comes_back(
    sim: Simulator, tmp_path: Path, png: Path, state: JobState
):
    sim.queue_seconds = 60 if state is JobState.QUEUED else 0
    sim.generate_seconds = 60
    after_remove: list[Job] = []

    async def go() -> str:
        engine = make_engine(sim, tmp_path)
        removing = False
        engine.job_listeners.append(lambda j: after_remove.append(j) if removing else None)
        try:
            job = await engine.submit(request(png))
            await until(engine, job.id, {state})
            removing = True
            assert await engine.remove(job.id) is not False
            assert not engine.is_running(job.id) and job.id not in engine.jobs
            assert stored(tmp_path, job.id) is None
            await asyncio.sleep(0)  # anything scheduled by the cancellation runs now
            return job.id
        finally:
            await engine.close()

    job_id = asyncio.run(go())
    assert after_remove == []
    assert stored(tmp_path, job_id) is None  # closing did not save it back either
    assert sim.create_requests == 1


def test_removing_a_job_whose_create_is_in_flight_waits_for_the_answer_then_deletes(
    sim: Simulator, tmp_path: Path, png: Path
):
    sim.inject("hang", "create", seconds=0.8)
    sim.queue_seconds = sim.generate_seconds = 0
    after_remove: list[Job] = []

    async def go() -> tuple[Job | None, Job | None]:
        engine = make_engine(sim, tmp_path)
        removing = False
        engine.job_listeners.append(lambda j: after_remove.append(j) if removing else None)
        try:
            job = await engine.submit(request(png))
            await until(engine, job.id, {JobState.SUBMITTING})
            removing = True
            assert await engine.remove(job.id) is not False
            # The answer had arrived before remove returned: the server has the job, and we have its id.
            assert len(sim.generations) == 1
            gone = stored(tmp_path, job.id)
            removing = False
            restored = await engine.restore(job.id)  # undo: the paid job goes on, nothing is sent again
            assert restored is not None and restored.server_id in sim.generations
            return gone, await engine.wait(job.id)
        finally:
            await engine.close()

    gone, final = asyncio.run(go())
    assert gone is None and after_remove == []
    assert final is not None and final.state is JobState.COMPLETED
    assert sim.create_requests == 1 and len(sim.generations) == 1
    again = stored(tmp_path, final.id)
    assert again is not None and again.state is JobState.COMPLETED and again.server_id == final.server_id


def test_restore_brings_a_finished_job_back_as_it_was_and_a_running_one_goes_on(
    sim: Simulator, tmp_path: Path, png: Path
):
    sim.queue_seconds = sim.generate_seconds = 0

    async def go() -> tuple[Job, Job, Job]:
        engine = make_engine(sim, tmp_path)
        try:
            done = await engine.submit(request(png, "finished", seed=1))
            finished = await engine.wait(done.id)
            assert finished.state is JobState.COMPLETED
            sim.generate_seconds = 60
            running = await engine.submit(request(png, "running", seed=2))
            at_server = await until(engine, running.id, {JobState.GENERATING})
            assert await engine.remove(done.id) and await engine.remove(running.id)
            assert stored(tmp_path, done.id) is None and stored(tmp_path, running.id) is None
            back = await engine.restore(done.id)
            assert back is not None
            assert await engine.restore(running.id) is not None
            sim.generations[at_server.server_id or ""].generate_seconds = 0  # the server finishes
            return finished, back, await engine.wait(running.id)
        finally:
            await engine.close()

    finished, back, resumed = asyncio.run(go())
    assert back.state is JobState.COMPLETED and back.file_path == finished.file_path
    assert back.server_id == finished.server_id and Path(back.file_path or "").exists()
    row = stored(tmp_path, finished.id)
    assert row is not None and row.state is JobState.COMPLETED and row.file_path == finished.file_path
    assert resumed.state is JobState.COMPLETED
    assert sim.create_requests == 2 and len(sim.generations) == 2


@pytest.mark.parametrize("answer", ["401", "429"])
@pytest.mark.parametrize("action", ["remove", "cancel"])
def test_removing_or_cancelling_during_a_create_that_is_then_refused_ends_at_once(
    sim: Simulator, tmp_path: Path, png: Path, action: str, answer: str
):
    """The create's answer is a refusal (401: the GUI would wait for a new key) or a 429 asking for half a
    minute: a job the user already removed or cancelled must not sit out that wait (remove would hang)."""
    if answer == "401":
        sim.api_key = "another-key"
    else:
        sim.inject("status", "create", status=429, retry_after=30)
    held = threading.Event()
    take_fault = sim.take_fault

    def hold_create(endpoint: str):  # the create's answer comes only once the user has acted
        if endpoint == "create":
            held.wait(10)
        return take_fault(endpoint)

    sim.take_fault = hold_create  # type: ignore[method-assign]

    async def go() -> Job | None:
        engine = make_engine(sim, tmp_path)
        try:
            job = await engine.submit(request(png))
            await until(engine, job.id, {JobState.SUBMITTING})
            if action == "remove":
                removal = asyncio.ensure_future(engine.remove(job.id))
                await asyncio.sleep(0)
                held.set()
                assert await asyncio.wait_for(removal, 5) is not False
                return None
            engine.cancel(job.id)
            held.set()
            return await asyncio.wait_for(engine.wait(job.id), 5)
        finally:
            held.set()
            await engine.close()

    job = asyncio.run(go())
    if action == "remove":
        assert not (tmp_path / "jobs.sqlite3").exists() or JobStore(tmp_path / "jobs.sqlite3").all() == []
    else:
        assert job is not None and job.state is JobState.CANCELLED and job.server_id is None
    assert sim.create_requests == 1 and sim.generations == {}


def test_a_job_left_waiting_in_demo_mode_is_never_sent_to_the_paid_api(sim: Simulator, tmp_path: Path, png: Path):
    """Demo jobs are free rehearsals: the next start with a real key must not turn one into a paid job (nor
    would a paid job's settings be rendered by the simulator and called done)."""
    sim.queue_seconds = sim.generate_seconds = 0
    store = JobStore(tmp_path / "jobs.sqlite3")
    demo = Job(request=request(png, "rehearsal"), state=JobState.WAITING, backend="demo")
    live = Job(request=request(png, "for real"), state=JobState.WAITING, backend=sim.url)
    store.save(demo)
    store.save(live)
    store.close()

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path)
        try:
            resumed = await engine.resume_unfinished()
            await engine.wait_all()
            return resumed
        finally:
            await engine.close()

    resumed = asyncio.run(go())
    assert [j.id for j in resumed] == [live.id]
    assert sim.create_requests == 1
    left = stored(tmp_path, demo.id)
    assert left is not None and left.state is JobState.WAITING and left.server_id is None
    done = stored(tmp_path, live.id)
    assert done is not None and done.state is JobState.COMPLETED


# -- a hostile server, one oddity at a time ----------------------------------------------------------
def test_a_404_right_after_create_is_retried_and_completes(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("status", "poll", count=2, status=404)
    job = run_one_job(sim, tmp_path, request(png))
    assert job.state is JobState.COMPLETED and sim.stats.count("poll") >= 3
    assert sim.create_requests == 1


def test_completed_without_a_usable_link_then_a_good_answer_completes(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.render_sync = True
    sim.inject("rewrite", "poll", count=1, patch={"status": "completed", "video": None})
    sim.inject("rewrite", "poll", count=1, patch={"video": {"url": "javascript:alert(1)"}})
    job = run_one_job(sim, tmp_path, request(png))
    assert job.state is JobState.COMPLETED and sim.stats.count("poll") >= 3
    assert_valid_mp4(job.file_path)


def test_completed_never_with_a_link_stalls_resumable_never_fails(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("rewrite", "poll", count=10_000, patch={"status": "completed", "video": None})
    job = run_one_job(sim, tmp_path, request(png), retry_policy=SHORT_RETRY)
    assert job.state is JobState.STALLED and job.server_id in sim.generations
    assert "no video" in (job.error or "")
    row = stored(tmp_path, job.id)
    assert row is not None and row.state is JobState.STALLED and row.server_id == job.server_id


def test_an_html_page_from_the_video_host_is_retried_and_completes(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("html", "download")
    job = run_one_job(sim, tmp_path, request(png))
    assert job.state is JobState.COMPLETED and sim.stats.count("download") >= 2
    assert_valid_mp4(job.file_path)


def test_a_truncated_download_is_retried_and_the_file_is_a_valid_mp4(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("truncate", "download", after_bytes=2000)
    job = run_one_job(sim, tmp_path, request(png))
    assert job.state is JobState.COMPLETED and sim.stats.count("download") >= 2
    rendered = sim.generations[job.server_id or ""].render.result()  # type: ignore[union-attr]
    assert Path(job.file_path or "").read_bytes() == rendered.read_bytes()
    assert_valid_mp4(job.file_path)


@pytest.mark.parametrize("refusals", [2, 10_000])
def test_a_retry_after_of_an_hour_is_waited_at_most_the_cap(sim: Simulator, tmp_path: Path, png: Path, refusals):
    """A 429 asking for an hour is asked again after a minute; a job refused for longer than the retry budget
    is handed over as stalled (resumable), never failed."""
    sim.queue_seconds = sim.generate_seconds = 0
    sim.render_sync = True
    sim.inject("status", "poll", count=refusals, status=429, retry_after=3600)
    clock = FakeClock()
    policy = RetryPolicy(base=1.0, ceiling=60.0, budget=600.0)
    job = run_one_job(sim, tmp_path, request(png), clock=clock, retry_policy=policy)
    assert clock.sleeps and max(clock.sleeps) <= policy.retry_after_cap
    assert any(s >= policy.retry_after_cap * 0.99 for s in clock.sleeps)  # the server's wish, capped
    if refusals == 2:
        assert job.state is JobState.COMPLETED
    else:
        assert job.state is JobState.STALLED and job.server_id in sim.generations
        assert job.error_kind == "network"
        assert sim.stats.count("poll") <= policy.budget / policy.retry_after_cap + 3


NASTY = "\x1b[31mBoom\x1b[0m\x07 \u202eevil\u202c\x00 line\nbreak\t\x1b]0;owned\x07 \u200bok\x9b2J"


def test_a_key_echoed_in_a_create_error_never_reaches_the_job_or_the_database(
    sim: Simulator, tmp_path: Path, png: Path
):
    sim.inject("status", "create", status=400, echo_key=True, message="Body validation error! bad")
    job = run_one_job(sim, tmp_path, request(png), key=TEST_KEY)
    assert job.state is JobState.FAILED and job.error_status == 400
    assert "Body validation error" in (job.error or "") and TEST_KEY not in (job.error or "")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("jobs.sqlite3*"))
    assert TEST_KEY.encode() not in raw and TEST_KEY[6:].encode() not in raw


@pytest.mark.parametrize("where", ["create", "poll"])
def test_error_text_with_escapes_and_controls_is_stored_and_shown_clean(
    sim: Simulator, tmp_path: Path, png: Path, where: str
):
    sim.queue_seconds = sim.generate_seconds = 0
    if where == "create":
        sim.inject("status", "create", status=400, message=NASTY)
    else:
        sim.inject("rewrite", "poll", count=10_000, patch={"status": "error", "error": {"message": NASTY}})
    seen: list[Job] = []
    job = run_one_job(sim, tmp_path, request(png), on_job=seen.append)
    assert job.state is JobState.FAILED and "Boom evil line break ok" in (job.error or "")
    row = stored(tmp_path, job.id)
    assert row is not None
    for text in [row.error or "", *(j.error or "" for j in seen), *(j.status_text() for j in seen)]:
        assert visible_only(text), repr(text)


def test_a_dripping_poll_answer_times_out_and_is_retried(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("drip", "poll", seconds=0.5)  # ~40 s for the whole answer, one byte at a time

    async def go() -> Job:
        client = ApiClient(sim.url, TEST_KEY, timeouts=Timeouts(connect=2, read=5, total=1.0))
        store = JobStore(tmp_path / "jobs.sqlite3")
        engine = JobEngine(client, store, Library(tmp_path / "videos"), poll_policy=FAST_POLL, retry_policy=FAST_RETRY)
        try:
            job = await engine.submit(request(png))
            return await asyncio.wait_for(engine.wait(job.id), 30)
        finally:
            await engine.close()
            client.close()
            store.close()

    started = time.monotonic()
    job = asyncio.run(go())
    assert job.state is JobState.COMPLETED and time.monotonic() - started < 20
    assert sim.create_requests == 1


# -- two processes, one database ---------------------------------------------------------------------
HOLDER = """
import asyncio, sys
from pathlib import Path
from pixdesk.api.client import ApiClient
from pixdesk.api.request import GenerationRequest
from pixdesk.config import database_path
from pixdesk.jobs import JobEngine, JobStore, Library, PollPolicy, RetryPolicy

url, key, image, library = sys.argv[1:5]

async def main() -> None:
    engine = JobEngine(
        ApiClient(url, key), JobStore(database_path()), Library(Path(library)), max_in_flight=1,
        poll_policy=PollPolicy(first=0.15, growth=1.5, ceiling=0.4), retry_policy=RetryPolicy(base=0.05, ceiling=0.3),
    )
    try:
        for i in range(2):
            await engine.submit(GenerationRequest(image=image, prompt=f"held {i}", resolution="360p", seed=i))
        await engine.wait_all()
        states = sorted(j.state.value for j in engine.jobs.values())
        print(" ".join(states), flush=True)
    finally:
        await engine.close()

asyncio.run(main())
"""


@pytest.fixture
def live_env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    return sim


def start_holder(sim: Simulator, png: Path, tmp_path: Path) -> subprocess.Popen[str]:
    """Process A: two jobs, one in flight at a time, so the second waits locally (leased to A)."""
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, sim.url, TEST_KEY, str(png), str(tmp_path / "a-videos")],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def a_is_holding() -> bool:
    jobs = stored_jobs()
    return [j.state for j in jobs][:2] == [JobState.QUEUED, JobState.WAITING] and jobs[0].server_id is not None


def test_a_second_process_never_submits_a_job_another_process_holds(
    live_env: Simulator, tmp_path: Path, png: Path, capsys: pytest.CaptureFixture[str]
):
    sim = live_env
    sim.queue_seconds = 120  # A's first job stays queued at the server; its second waits in A
    proc = start_holder(sim, png, tmp_path)
    try:
        wait_until(a_is_holding)
        assert main(["resume"]) == 0  # process B, at the same time
        assert "Nothing to resume" in capsys.readouterr().out
        assert sim.create_requests == 1
        for gen in list(sim.generations.values()):
            gen.queue_seconds = gen.generate_seconds = 0
        sim.queue_seconds = sim.generate_seconds = 0
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.split() == ["completed", "completed"]
    assert sim.create_requests == 2 and len(sim.generations) == 2
    assert [j.state for j in stored_jobs()] == [JobState.COMPLETED] * 2


def test_after_the_owner_is_killed_another_process_resumes_its_jobs_at_once(
    live_env: Simulator, tmp_path: Path, png: Path
):
    sim = live_env
    sim.queue_seconds = 120
    proc = start_holder(sim, png, tmp_path)
    try:
        wait_until(a_is_holding)
        accepted = stored_jobs()[0]
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    for gen in list(sim.generations.values()):
        gen.queue_seconds = gen.generate_seconds = 0
    sim.queue_seconds = sim.generate_seconds = 0
    started = time.monotonic()
    assert main(["resume"]) == 0  # the dead pid frees its leases: no waiting for them to expire
    assert time.monotonic() - started < 60
    done = stored_jobs()
    assert [j.state for j in done] == [JobState.COMPLETED] * 2
    assert done[0].server_id == accepted.server_id
    assert sim.create_requests == 2 and len(sim.generations) == 2  # the waiting one was sent once, by B


# -- found in review: each fails without its fix -----------------------------------------------------------
def test_cancel_while_the_submission_is_being_saved_sends_nothing(sim: Simulator, tmp_path: Path, png: Path):
    """A busy database delays the `submitting` save; a Cancel in that moment must still stop the create."""

    async def go() -> Job:
        engine = make_engine(sim, tmp_path, key=TEST_KEY)
        save = engine.store.save

        def slow_save(job: Job) -> bool:
            if job.state is JobState.SUBMITTING:
                time.sleep(0.5)  # another process holds the database for a moment
            return save(job)

        engine.store.save = slow_save  # type: ignore[method-assign]
        job = await engine.submit(GenerationRequest(image=str(png), prompt="x", resolution="360p"))

        async def saving_submission() -> None:  # the state is set in memory, its save is under way
            while engine.jobs[job.id].state is not JobState.SUBMITTING:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(saving_submission(), 10)
        engine.cancel(job.id)
        try:
            return await engine.wait(job.id)
        finally:
            await engine.close()

    final = asyncio.run(go())
    assert final.state is JobState.CANCELLED and final.server_id is None
    assert sim.create_requests == 0


def test_undoing_the_removal_of_an_out_of_date_copy_never_sends_a_second_create(
    sim: Simulator, tmp_path: Path, png: Path
):
    """The window showed a job as waiting while another process sent it: Remove + Undo must keep its id."""
    other = JobStore(tmp_path / "jobs.sqlite3")  # the other process (a `pixdesk generate` run)
    job = Job(
        request=GenerationRequest(image=str(png), prompt="x", resolution="360p"),
        backend=sim.url,
        state=JobState.WAITING,
        version=1,
    )
    assert other.save(job)

    async def go() -> tuple[Job | None, int]:
        gui = make_engine(sim, tmp_path, key=TEST_KEY)
        try:
            await gui.load_history()
            await gui.resume_unfinished()  # held by the other process: shown as waiting, not resumed
            assert gui.jobs[job.id].state is JobState.WAITING
            sent = dataclasses.replace(job, state=JobState.STALLED, server_id="gen-already-paid", version=5)
            assert other.save(sent)  # it sent it, lost contact, and exited
            other.close()
            assert await gui.remove(job.id)
            restored = await gui.restore(job.id)
            gui.cancel(job.id)
            if restored is not None:
                await gui.wait(job.id)
            return restored, sim.create_requests
        finally:
            await gui.close()

    restored, creates = asyncio.run(go())
    assert restored is not None and restored.server_id == "gen-already-paid"
    assert creates == 0


def test_two_engines_starting_at_once_on_jobs_in_doubt_both_start(sim: Simulator, tmp_path: Path, png: Path):
    seed = JobStore(tmp_path / "jobs.sqlite3")
    for i in range(5):
        doubtful = Job(
            request=GenerationRequest(image=str(png), prompt=f"x{i}", resolution="360p"),
            backend=sim.url,
            state=JobState.SUBMITTING,
            version=1,
        )
        seed.save(doubtful)
        seed.release(doubtful.id)
    seed.close()

    async def go() -> list[object]:
        a = make_engine(sim, tmp_path, key=TEST_KEY)
        b = make_engine(sim, tmp_path, key=TEST_KEY)
        try:
            return await asyncio.gather(a.resume_unfinished(), b.resume_unfinished(), return_exceptions=True)
        finally:
            await a.close()
            await b.close()

    results = asyncio.run(go())
    assert not [r for r in results if isinstance(r, BaseException)]
    assert sum(len(r) for r in results if isinstance(r, list)) == 5  # each job handled once
    reader = JobStore(tmp_path / "jobs.sqlite3")
    assert {j.state for j in reader.all()} == {JobState.UNKNOWN} and sim.create_requests == 0
    reader.close()


def test_a_waiting_job_cancelled_just_after_being_woken_passes_its_slot_on():
    from pixdesk.jobs.scheduler import Scheduler
    from pixdesk.jobs.timing import RealClock

    async def go() -> None:
        slots = Scheduler(RealClock(), max_in_flight=1)
        await slots.acquire_slot()  # A is at the server
        b = asyncio.ensure_future(slots.acquire_slot())
        c = asyncio.ensure_future(slots.acquire_slot())
        await asyncio.sleep(0)  # both are waiting now
        slots.release_slot()  # A is done: B is woken...
        b.cancel()  # ...and cancelled (Remove) before it ran
        await asyncio.wait_for(c, 5)  # C must get the slot
        assert slots.in_flight == 1

    asyncio.run(go())


def test_an_unwritable_library_stalls_the_job_at_once_with_a_clear_message(sim: Simulator, tmp_path: Path, png: Path):
    """Our own disk refusing the clip is not a network problem: no ten minutes of retries, a clear message,
    and the job stays resumable (the server keeps the clip)."""
    blocked = tmp_path / "videos"
    blocked.write_text("a file where the library folder should be")
    retry = RetryPolicy(base=0.05, ceiling=0.3, budget=600.0)
    job = run_one_job(
        sim, tmp_path, GenerationRequest(image=str(png), prompt="no room", resolution="360p"), retry_policy=retry
    )
    assert job.state is JobState.STALLED and job.server_id
    assert "cannot be written into" in (job.error or "") and str(tmp_path) in (job.error or "")
    assert job.retries == 0


def test_an_unknown_job_sent_to_another_server_is_not_looked_up_here(sim: Simulator, tmp_path: Path, png: Path):
    """Its create is in the other server's logs: looking here would wrongly find nothing and call it not created."""
    store = JobStore(tmp_path / "jobs.sqlite3")
    elsewhere = Job(
        request=GenerationRequest(image=str(png), prompt="sent elsewhere", resolution="360p"),
        state=JobState.UNKNOWN,
        backend="https://api.example.invalid",
        submitted_at=time.time() - 3600,
    )
    assert store.save(elsewhere)
    store.release(elsewhere.id)
    store.close()

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path, logs_patience=0.1)
        try:
            return await engine.resume_unfinished()
        finally:
            await engine.close()

    assert asyncio.run(go()) == []
    reader = JobStore(tmp_path / "jobs.sqlite3")
    kept = reader.get(elsewhere.id)
    reader.close()
    assert kept is not None and kept.state is JobState.UNKNOWN and sim.stats.count("logs") == 0
