"""Working in volume, the core part: pausing the whole queue, cancelling a group, favourites and groups that
survive a restart, recent prompts, and deleting a clip with undo. Against the real simulator and real files."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pixdesk.api.client import ApiClient
from pixdesk.api.request import GenerationRequest
from pixdesk.config import data_dir
from pixdesk.jobs import Job, JobEngine, JobState, JobStore, Library
from pixdesk.jobs.engine import QUEUE_PAUSED, STOPPED_WATCHING
from pixdesk.jobs.store import MIGRATIONS, SCHEMA_VERSION
from pixdesk.simulator import Simulator
from tests.helpers import make_engine

AT_SERVER = (JobState.QUEUED, JobState.GENERATING)


def request(png: Path, prompt: str = "waves roll in", **extra: object) -> GenerationRequest:
    return GenerationRequest(image=str(png), prompt=prompt, resolution="360p", **extra)  # type: ignore[arg-type]


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait for something the engine brings about, with a deadline (fails the test when it never holds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


def accepted(sim: Simulator) -> list[str]:
    """The prompts of the generations the server accepted, in the order their creates arrived."""
    return [str(g.body["prompt"]) for g in sim.generations.values()]


# -- pausing the queue ------------------------------------------------------------------------------------
def test_pause_holds_every_new_create_and_resume_sends_them_in_order(sim: Simulator, tmp_path: Path, png: Path):
    notices: list[str] = []
    details: list[tuple[str, str | None]] = []

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path, max_in_flight=2, requests_per_second=200)
        engine.notice_listeners.append(lambda kind, _message: notices.append(kind))
        engine.job_listeners.append(lambda j: details.append((j.id, j.detail)))
        try:
            assert engine.pause_queue() and engine.queue_paused
            assert not engine.pause_queue()  # already paused: nothing to say twice
            jobs = [await engine.submit(request(png, f"p{i}")) for i in range(4)]
            # What the UI is told (an update may still be on its way after the job itself says so).
            await until(lambda: all((j.id, QUEUE_PAUSED) in details for j in jobs))
            assert all(engine.jobs[j.id].state is JobState.WAITING for j in jobs)
            assert sim.create_requests == 0
            assert engine.paused_reason is None  # the money guard's gate is not involved

            at_server_max = 0

            def watch(_job: Job) -> None:
                nonlocal at_server_max
                busy = [j for j in engine.jobs.values() if j.state in (JobState.SUBMITTING, *AT_SERVER)]
                at_server_max = max(at_server_max, len(busy))

            engine.job_listeners.append(watch)
            assert engine.resume_queue() and not engine.queue_paused
            await engine.wait_all()
            assert at_server_max <= 2
            return [engine.jobs[j.id] for j in jobs]
        finally:
            await engine.close()

    jobs = asyncio.run(go())
    assert [j.state for j in jobs] == [JobState.COMPLETED] * 4
    assert sim.create_requests == 4
    order = accepted(sim)
    assert set(order[:2]) == {"p0", "p1"} and set(order[2:]) == {"p2", "p3"}  # in the order they came
    assert notices == ["queue paused", "queue resumed"]
    for job in jobs:  # the UI saw each job say "Queue paused", then lose it
        seen = [d for i, d in details if i == job.id]
        assert QUEUE_PAUSED in seen and seen[-1] is None


def test_jobs_at_the_server_finish_while_the_queue_is_paused(sim: Simulator, tmp_path: Path, png: Path):
    """A create already on its way is let finish (its id is kept), and the job is watched and downloaded to
    the end; only the job submitted after the pause waits."""
    sim.inject("hang", "create", seconds=0.5)

    async def go() -> tuple[Job, Job, int]:
        engine = make_engine(sim, tmp_path, max_in_flight=4)
        try:
            first = await engine.submit(request(png, "already sending"))
            await until(lambda: engine.jobs[first.id].state is JobState.SUBMITTING)
            engine.pause_queue()
            second = await engine.submit(request(png, "after the pause"))
            done = await engine.wait(first.id)
            await until(lambda: engine.jobs[second.id].status_text() == QUEUE_PAUSED)
            creates_while_paused = sim.create_requests
            held = engine.jobs[second.id].snapshot()
            engine.resume_queue()
            await engine.wait_all()
            assert engine.jobs[second.id].state is JobState.COMPLETED
            return done, held, creates_while_paused
        finally:
            await engine.close()

    done, held, creates_while_paused = asyncio.run(go())
    assert done.state is JobState.COMPLETED and done.server_id and Path(done.file_path or "").is_file()
    assert held.state is JobState.WAITING and held.server_id is None
    assert creates_while_paused == 1 and sim.create_requests == 2


def test_the_queue_pause_and_the_money_gate_never_reopen_each_other(sim: Simulator, tmp_path: Path, png: Path):
    sim.api_key = "the-right-key"

    async def go() -> Job:
        engine = make_engine(sim, tmp_path, key="wrong")
        try:
            job = await engine.submit(request(png, "guarded"))
            await until(lambda: (engine.jobs[job.id].detail or "").startswith("paused: the API key"))
            refused = sim.create_requests
            assert engine.paused_reason is not None

            # Resuming the queue does not reopen the money gate.
            engine.pause_queue()
            engine.resume_queue()
            assert engine.paused_reason is not None
            assert (engine.jobs[job.id].detail or "").startswith("paused: the API key")

            # Fixing the key while the queue is paused reopens the gate but sends nothing.
            engine.pause_queue()
            engine.use_backend(engine.backend, ApiClient(sim.url, "the-right-key"))
            engine.resume_submissions()
            assert engine.paused_reason is None and engine.queue_paused
            await until(lambda: engine.jobs[job.id].status_text() == QUEUE_PAUSED)
            assert engine.jobs[job.id].state is JobState.WAITING
            assert sim.create_requests == refused and not sim.generations

            engine.resume_queue()
            return await engine.wait(job.id)
        finally:
            await engine.close()

    job = asyncio.run(go())
    assert job.state is JobState.COMPLETED
    assert len(sim.generations) == 1


def test_a_job_let_go_by_resume_that_meets_a_refused_key_waits_for_both(sim: Simulator, tmp_path: Path, png: Path):
    sim.api_key = "the-right-key"

    async def go() -> Job:
        engine = make_engine(sim, tmp_path, key="wrong")
        try:
            engine.pause_queue()
            job = await engine.submit(request(png, "later"))
            await until(lambda: engine.jobs[job.id].status_text() == QUEUE_PAUSED)
            assert sim.create_requests == 0
            engine.resume_queue()
            await until(lambda: engine.paused_reason is not None)  # the create was refused: the gate closed
            await until(lambda: (engine.jobs[job.id].detail or "").startswith("paused: the API key"))
            engine.pause_queue()  # paused while the gate is closed: the gate's reason stays on the badge
            assert (engine.jobs[job.id].detail or "").startswith("paused: the API key")
            engine.use_backend(engine.backend, ApiClient(sim.url, "the-right-key"))
            engine.resume_submissions()
            await until(lambda: engine.jobs[job.id].status_text() == QUEUE_PAUSED)
            assert not sim.generations
            engine.resume_queue()
            return await engine.wait(job.id)
        finally:
            await engine.close()

    assert asyncio.run(go()).state is JobState.COMPLETED
    assert len(sim.generations) == 1


# -- groups -------------------------------------------------------------------------------------------------
def test_cancel_group_stops_only_that_groups_unfinished_jobs(sim: Simulator, tmp_path: Path, png: Path):
    async def go() -> dict[str, Job]:
        engine = make_engine(sim, tmp_path, max_in_flight=4)
        try:
            sent = await engine.submit(request(png, "a sent"), group_id="a")
            await until(lambda: engine.jobs[sent.id].state in AT_SERVER)
            engine.pause_queue()
            held = await engine.submit(request(png, "a held"), group_id="a")
            other = await engine.submit(request(png, "b held"), group_id="b")
            loose = await engine.submit(request(png, "no group"))
            await until(lambda: all(engine.jobs[j.id].status_text() == QUEUE_PAUSED for j in (held, other, loose)))
            assert engine.cancel_group("a") == 2
            assert engine.cancel_group("nobody") == 0
            engine.resume_queue()
            await engine.wait_all()
            assert engine.cancel_group("a") == 0  # nothing left to stop
            return {j.request.prompt: engine.jobs[j.id] for j in (sent, held, other, loose)}
        finally:
            await engine.close()

    jobs = asyncio.run(go())
    assert jobs["a sent"].state is JobState.CANCELLED and jobs["a sent"].server_id is not None
    assert jobs["a sent"].error == STOPPED_WATCHING
    assert jobs["a held"].state is JobState.CANCELLED and jobs["a held"].server_id is None
    assert jobs["b held"].state is JobState.COMPLETED and jobs["no group"].state is JobState.COMPLETED
    assert sorted(accepted(sim)) == ["a sent", "b held", "no group"]


def test_group_and_favourite_survive_a_restart(sim: Simulator, tmp_path: Path, png: Path):
    emitted: list[Job] = []

    async def first_run() -> tuple[str, str]:
        engine = make_engine(sim, tmp_path)
        try:
            starred = await engine.submit(request(png, "keep me"), group_id="set-1")
            plain = await engine.submit(request(png, "plain"), group_id="set-1")
            await until(lambda: engine.jobs[starred.id].state in AT_SERVER)
            engine.job_listeners.append(emitted.append)
            shown = await engine.set_favourite(starred.id, True)  # while it runs: its later saves keep the star
            assert shown is not None and shown.favourite
            await engine.wait_all()
            assert engine.jobs[starred.id].state is JobState.COMPLETED  # never taken for another process's job
            return starred.id, plain.id
        finally:
            await engine.close()

    starred_id, plain_id = asyncio.run(first_run())
    assert any(j.id == starred_id and j.favourite for j in emitted)

    async def second_run() -> dict[str, Job]:
        engine = make_engine(sim, tmp_path)
        try:
            jobs = {j.id: j for j in await engine.load_history()}
            again = await engine.set_favourite(plain_id, True)
            assert again is not None and again.favourite
            unstarred = await engine.set_favourite(starred_id, False)
            assert unstarred is not None and not unstarred.favourite
            assert await engine.set_favourite("no-such-job", True) is None
            return jobs
        finally:
            await engine.close()

    jobs = asyncio.run(second_run())
    assert jobs[starred_id].group_id == jobs[plain_id].group_id == "set-1"
    assert jobs[starred_id].favourite and not jobs[plain_id].favourite
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        after = {j.id: j for j in store.all()}
    finally:
        store.close()
    assert after[plain_id].favourite and not after[starred_id].favourite
    assert after[starred_id].state is JobState.COMPLETED


def test_set_favourite_bumps_the_version_and_respects_another_processs_lease(tmp_path: Path):
    db = tmp_path / "jobs.sqlite3"
    mine, theirs = JobStore(db, owner="gui"), JobStore(db, owner="cli")
    try:
        running = Job(request=GenerationRequest(image="a.png", prompt="theirs"), state=JobState.WAITING, version=1)
        assert theirs.save(running)
        assert not mine.set_favourite(running.id, True)  # theirs is running it: its next save must not be refused
        assert theirs.set_favourite(running.id, True)
        stale = running.snapshot()
        stale.version = 2  # saved before the star: as new as the star's write, so it must lose
        assert not theirs.save(stale)
        stored = mine.get(running.id)
        assert stored is not None and stored.favourite and stored.version == 2
        assert not mine.set_favourite("gone", True)
    finally:
        mine.close()
        theirs.close()


# -- recent prompts ---------------------------------------------------------------------------------------
def test_recent_prompts_are_distinct_and_newest_first(sim: Simulator, tmp_path: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        for t, prompt in enumerate(["sunset", "waves", "sunset", "  ", "city at night", "waves "]):
            store.save(Job(request=GenerationRequest(image="a.png", prompt=prompt), created_at=100.0 + t))
        assert store.recent_prompts() == ["waves", "city at night", "sunset"]
        assert store.recent_prompts(2) == ["waves", "city at night"]
        assert store.recent_prompts(0) == []
    finally:
        store.close()

    async def through_the_engine() -> list[str]:
        engine = make_engine(sim, tmp_path)
        try:
            return await engine.recent_prompts(1)
        finally:
            await engine.close()

    assert asyncio.run(through_the_engine()) == ["waves"]


def test_recent_prompts_stay_quick_with_ten_thousand_jobs(tmp_path: Path):
    db = tmp_path / "jobs.sqlite3"
    JobStore(db).close()
    rows = [
        (f"id-{i}", "completed", json.dumps(GenerationRequest(image="a.png", prompt=f"prompt {i % 50}").to_dict()))
        for i in range(10_000)
    ]
    with sqlite3.connect(db) as raw:  # the history of a long-used PixDesk, written at once
        raw.executemany(
            "INSERT INTO jobs (id, state, request_json, created_at, updated_at) VALUES (?, ?, ?, ?, 0)",
            [(i, s, r, float(n)) for n, (i, s, r) in enumerate(rows)],
        )
    store = JobStore(db)
    try:
        started = time.perf_counter()
        recent = store.recent_prompts(20)
        typical = time.perf_counter() - started
        started = time.perf_counter()
        everything = store.recent_prompts(1000)  # more than there are: reads every row
        worst = time.perf_counter() - started
    finally:
        store.close()
    assert recent == [f"prompt {i % 50}" for i in range(9999, 9979, -1)]
    assert len(everything) == 50
    assert typical < 0.05 and worst < 0.5, (typical, worst)


# -- deleting a clip, with undo -------------------------------------------------------------------------------
def finished_clip(library: Library, prompt: str = "a clip") -> Job:
    """A completed job whose clip and sidecar are in the library (as a download leaves them)."""
    job = Job(request=GenerationRequest(image="a.png", prompt=prompt), state=JobState.COMPLETED)
    video = library.video_path(job)
    video.parent.mkdir(parents=True, exist_ok=True)
    video.write_bytes(b"mp4 " + job.id.encode())
    library.write_sidecar(job, video)
    job.file_path = str(video)
    return job


def test_discarded_files_go_to_the_trash_under_the_data_folder_and_come_back(tmp_path: Path):
    library = Library(tmp_path / "videos")
    job = finished_clip(library)
    video = Path(job.file_path or "")
    sidecar = library.sidecar_path(video)
    content = video.read_bytes()

    discarded = library.discard_files(job)
    assert not video.exists() and not sidecar.exists()
    assert library.trash == data_dir() / "trash"
    assert all(now.is_relative_to(library.trash) and now.exists() for now, _ in discarded.moved)
    assert {before for _, before in discarded.moved} == {video, sidecar}

    back = library.restore_files(discarded)
    assert back.video == video and not back.renamed
    assert video.read_bytes() == content and json.loads(sidecar.read_text())["parameters"]["prompt"] == "a clip"


def test_a_restored_clip_never_overwrites_a_file_that_took_its_name(tmp_path: Path):
    library = Library(tmp_path / "videos")
    job = finished_clip(library)
    video = Path(job.file_path or "")
    discarded = library.discard_files(job)
    video.write_bytes(b"a newer clip")  # something else took the name meanwhile

    back = library.restore_files(discarded)
    assert back.renamed and back.video == video.with_name(f"{video.stem} (2).mp4")
    assert video.read_bytes() == b"a newer clip"
    assert back.video.read_bytes() == b"mp4 " + job.id.encode()
    assert library.sidecar_path(back.video).exists() and not library.sidecar_path(video).exists()
    assert library.restore_files(discarded).video is None  # nothing left in the trash to put back


def test_purging_empties_this_sessions_trash_and_what_ended_sessions_left(tmp_path: Path):
    library = Library(tmp_path / "videos")
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = library.trash / f"session-{int(finished.stdout)}-deadbeef"  # a window that crashed
    (gone / "x").mkdir(parents=True)
    (gone / "x" / "old.mp4").write_bytes(b"old")
    alive = library.trash / f"session-{os.getpid()}-0a0a0a0a"  # another library of this process: still open
    alive.mkdir()
    other = library.trash / "not-ours"
    other.mkdir()
    discarded = library.discard_files(finished_clip(library))

    library.purge_discarded(stale_only=True)  # at start: only what ended sessions left
    assert not gone.exists() and alive.exists() and other.exists()
    assert all(now.exists() for now, _ in discarded.moved)

    library.purge_discarded()  # at close: Undo is over
    assert not library.session.exists() and alive.exists()
    old = time.time() - 8 * 24 * 3600
    os.utime(other, (old, old))
    library.purge_discarded()
    assert not other.exists()


def _run_to_completion(engine: JobEngine, png: Path, prompt: str) -> asyncio.Future[Job]:
    async def go() -> Job:
        job = await engine.submit(request(png, prompt))
        return await engine.wait(job.id)

    return asyncio.ensure_future(go())


def test_removing_a_finished_job_with_its_files_is_undone_until_the_engine_closes(
    sim: Simulator, tmp_path: Path, png: Path
):
    notices: list[tuple[str, str]] = []

    async def go() -> tuple[Job, Job, Path, Path]:
        engine = make_engine(sim, tmp_path)
        engine.notice_listeners.append(lambda kind, message: notices.append((kind, message)))
        try:
            done = await _run_to_completion(engine, png, "delete me")
            video = Path(done.file_path or "")
            sidecar = video.with_suffix(".json")
            assert video.is_file() and sidecar.is_file()

            assert await engine.remove(done.id, delete_files=True)
            assert not video.exists() and not sidecar.exists()
            same = await engine.restore(done.id)
            assert same is not None and same.file_path == str(video) and video.is_file() and sidecar.is_file()

            assert await engine.remove(done.id, delete_files=True)
            video.write_bytes(b"someone else's clip")
            renamed = await engine.restore(done.id)
            assert renamed is not None

            kept = await _run_to_completion(engine, png, "gone for good")
            assert await engine.remove(kept.id, delete_files=True)
            return renamed, kept, video, Path(kept.file_path or "")
        finally:
            await engine.close()

    renamed, kept, video, kept_video = asyncio.run(go())
    assert renamed.file_path == str(video.with_name(f"{video.stem} (2).mp4"))
    assert Path(renamed.file_path).stat().st_size > 1000 and video.read_bytes() == b"someone else's clip"
    assert [kind for kind, _ in notices] == ["files renamed"]
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        stored = store.get(renamed.id)
        assert stored is not None and stored.file_path == renamed.file_path  # saved with its new name
        assert store.get(kept.id) is None
    finally:
        store.close()
    assert not kept_video.exists() and not kept_video.with_suffix(".json").exists()
    trash = data_dir() / "trash"
    assert not trash.exists() or not any(trash.iterdir())  # closing emptied the trash


# -- upgrading ----------------------------------------------------------------------------------------------
def test_a_schema_5_database_upgrades_with_no_group_and_no_favourites(tmp_path: Path):
    db = tmp_path / "jobs.sqlite3"
    raw = sqlite3.connect(db, isolation_level=None)
    for migration in MIGRATIONS[:5]:
        for statement in migration.split(";"):
            if statement.strip():
                raw.execute(statement)
    raw.execute("PRAGMA user_version=5")
    old = GenerationRequest(image="/pics/cat.png", prompt="from before groups")
    raw.execute(
        "INSERT INTO jobs (id, state, backend, request_json, created_at, updated_at, file_path, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        ("old-1", "completed", "https://api", json.dumps(old.to_dict()), 10.0, 11.0, "/videos/cat.mp4", 4),
    )
    raw.close()

    store = JobStore(db)
    try:
        assert store.schema_version == SCHEMA_VERSION == 7
        job = store.get("old-1")
        assert job is not None and job.group_id is None and not job.favourite and job.version == 4
        assert store.set_favourite("old-1", True)
        grouped = Job(request=old, group_id="g-1", favourite=True)
        assert store.save(grouped)
        again = store.get(grouped.id)
        assert again is not None and again.group_id == "g-1" and again.favourite
        starred = store.get("old-1")
        assert starred is not None and starred.favourite and starred.version == 5
        assert store.recent_prompts() == ["from before groups"]
    finally:
        store.close()


@pytest.mark.parametrize("group", [None, "g-9"])
def test_retry_keeps_the_group(sim: Simulator, tmp_path: Path, png: Path, group: str | None):
    async def go() -> tuple[Job, Job]:
        engine = make_engine(sim, tmp_path)
        try:
            first = await engine.submit(request(png), group_id=group)
            await engine.wait(first.id)
            again = await engine.retry(first.id)
            return engine.jobs[first.id], await engine.wait(again.id)
        finally:
            await engine.close()

    first, again = asyncio.run(go())
    assert first.group_id == again.group_id == group and again.id != first.id
