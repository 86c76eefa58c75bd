"""Demo jobs survive a restart like live ones: the simulator keeps its generations under the data folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av

from pixdesk.api.request import GenerationRequest
from pixdesk.config import Settings, data_dir
from pixdesk.jobs.models import Job, JobState
from pixdesk.runtime import Runtime
from tests.helpers import FAST_POLL, FAST_RETRY

QUICK = {"queue_seconds": 0.3, "generate_seconds": 0.6}


def _runtime() -> Runtime:
    return Runtime(Settings(), demo=True, simulator_options=dict(QUICK))


def test_a_demo_job_left_at_the_server_finishes_after_a_restart(png: Path):
    request = GenerationRequest(image=str(png), prompt="demo restart", resolution="360p")

    async def first_run(runtime: Runtime) -> Job:
        engine = runtime.make_engine(poll_policy=FAST_POLL, retry_policy=FAST_RETRY)
        accepted = asyncio.Event()
        engine.job_listeners.append(lambda j: accepted.set() if j.server_id else None)
        try:
            job = await engine.submit(request)
            await asyncio.wait_for(accepted.wait(), 30)
            return engine.jobs[job.id].snapshot()
        finally:
            await engine.close()  # the window closes while the simulator still works on it

    runtime = _runtime()
    try:
        left = asyncio.run(first_run(runtime))
        first_url = runtime.connection.base_url
    finally:
        runtime.close()
    assert left.server_id and left.state in (JobState.QUEUED, JobState.GENERATING)
    assert any((data_dir() / "simulator" / "generations").glob("*.json"))

    async def second_run(runtime: Runtime) -> Job:
        engine = runtime.make_engine(poll_policy=FAST_POLL, retry_policy=FAST_RETRY)
        try:
            resumed = await engine.resume_unfinished()
            assert [j.id for j in resumed] == [left.id]
            return await engine.wait(left.id)
        finally:
            await engine.close()

    runtime = _runtime()
    try:
        assert runtime.connection.base_url != first_url  # a new simulator on a new port
        done = asyncio.run(second_run(runtime))
        assert runtime.simulator is not None and runtime.simulator.create_requests == 0  # nothing resent
    finally:
        runtime.close()
    assert done.state is JobState.COMPLETED and done.server_id == left.server_id
    with av.open(done.file_path or "") as container:
        assert container.streams.video[0].height == 360
