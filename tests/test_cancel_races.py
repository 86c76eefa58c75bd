"""Cancel and Resume at awkward moments: right as the server accepts the job, a second Cancel while the first is
being saved, and Resume the moment the row says cancelled. Each must end as the person asked, visibly and saved."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import Job, JobState, JobStore
from pixdesk.jobs.engine import JobEngine
from pixdesk.simulator import Simulator
from tests.helpers import make_engine


def request(png: Path) -> GenerationRequest:
    return GenerationRequest(image=str(png), prompt="waves roll in", resolution="360p")


def run(sim: Simulator, tmp_path: Path, png: Path, react: Callable[[JobEngine, Job], None]) -> tuple[Job, list[Job]]:
    """One job; `react` sees every change as the UI does, and may act on it."""
    seen: list[Job] = []

    async def go() -> Job:
        engine = make_engine(sim, tmp_path)
        engine.job_listeners.append(seen.append)
        engine.job_listeners.append(lambda j: react(engine, j))
        try:
            job = await engine.submit(request(png))
            return await asyncio.wait_for(engine.wait(job.id), 30)
        finally:
            await engine.close()

    return asyncio.run(go()), seen


def saved_state(tmp_path: Path, job_id: str) -> JobState:
    store = JobStore(tmp_path / "jobs.sqlite3")
    try:
        job = store.get(job_id)
        assert job is not None
        return job.state
    finally:
        store.close()


def test_cancel_the_moment_the_server_accepts_the_job_shows_and_saves_it_cancelled(
    sim: Simulator, tmp_path: Path, png: Path
):
    def react(engine: JobEngine, job: Job) -> None:
        if job.state is JobState.QUEUED:
            engine.cancel(job.id)

    final, seen = run(sim, tmp_path, png, react)
    assert final.state is JobState.CANCELLED and final.server_id
    assert seen[-1].state is JobState.CANCELLED, f"the row was left at {seen[-1].state.value}"
    assert saved_state(tmp_path, final.id) is JobState.CANCELLED
    assert sim.create_requests == 1


def test_a_second_cancel_while_the_first_is_being_saved_still_shows_and_saves_it(
    sim: Simulator, tmp_path: Path, png: Path, caplog: pytest.LogCaptureFixture
):
    """A double click on Cancel: the second click lands while the first one's "cancelled" is being written."""
    sim.generate_seconds = 5.0
    engine_of: list[JobEngine] = []

    class SecondClick(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if " cancelled" in message and engine_of:
                for job in list(engine_of[0].jobs.values()):
                    engine_of[0].cancel(job.id)

    def react(engine: JobEngine, job: Job) -> None:
        if not engine_of and job.state is JobState.GENERATING:
            engine_of.append(engine)
            engine.cancel(job.id)

    caplog.set_level(logging.INFO, logger="pixdesk.jobs")  # the "cancelled" line is written before the save
    second_click = SecondClick()
    logging.getLogger("pixdesk.jobs").addHandler(second_click)
    try:
        final, seen = run(sim, tmp_path, png, react)
    finally:
        logging.getLogger("pixdesk.jobs").removeHandler(second_click)
    assert final.state is JobState.CANCELLED
    assert seen[-1].state is JobState.CANCELLED, f"the row was left at {seen[-1].state.value}"
    assert saved_state(tmp_path, final.id) is JobState.CANCELLED


def test_resume_the_moment_a_job_shows_cancelled_watches_it_again(sim: Simulator, tmp_path: Path, png: Path):
    """The row says cancelled once the cancel is saved, while the job's work is still ending: Resume then must wait
    for that end and watch the job again, not answer that another window has it."""
    sim.generate_seconds = 1.0
    clicks: list[asyncio.Task[bool]] = []

    def react(engine: JobEngine, job: Job) -> None:
        if job.state is JobState.GENERATING and not clicks:
            engine.cancel(job.id)
        elif job.state is JobState.CANCELLED and not clicks:
            clicks.append(asyncio.get_running_loop().create_task(engine.resume_job(job.id)))  # the click, at once

    async def go() -> tuple[bool, Job]:
        engine = make_engine(sim, tmp_path)
        engine.job_listeners.append(lambda j: react(engine, j))
        try:
            job = await engine.submit(request(png))
            await asyncio.wait_for(engine.wait(job.id), 30)
            resumed = await asyncio.wait_for(clicks[0], 30)
            return resumed, await asyncio.wait_for(engine.wait(job.id), 30)
        finally:
            await engine.close()

    resumed, final = asyncio.run(go())
    assert resumed, "Resume on a job whose cancel had just been saved was refused"
    assert final.state is JobState.COMPLETED
    assert sim.create_requests == 1
