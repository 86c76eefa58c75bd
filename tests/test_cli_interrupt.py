"""Ctrl+C while a set's job is being saved (inside engine.submit, before it returns the job's id): the run says the
job was not sent, so no later `pixdesk resume` (or the window's start-up) may send it and charge for it.

Failed before the fix (the interrupted job stayed `preparing` in the store and `resume` sent it). The moment
cannot be hit from outside the process, so the test slows the first save (a busy disk) and cancels the run's
task there, which is what asyncio.run does on Ctrl+C; everything else is the real CLI, engine and simulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
from pathlib import Path

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.cli import _generate_set, _SetRun, main
from pixdesk.cli_progress import JobLines, job_label
from pixdesk.config import load_settings
from pixdesk.jobs.store import JobStore
from pixdesk.runtime import Runtime
from pixdesk.simulator import Simulator
from tests.conftest import SAMPLES, TEST_KEY
from tests.helpers import stored_jobs


def test_ctrl_c_during_a_submit_never_sends_that_job_later(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    sim.queue_seconds = sim.generate_seconds = 0
    saving = threading.Event()
    original_save = JobStore.save

    def slow_first_save(self, job):  # type: ignore[no-untyped-def]
        if not saving.is_set():  # the first job's first save takes a moment (a busy disk)
            saving.set()
            time.sleep(0.5)
        return original_save(self, job)

    monkeypatch.setattr(JobStore, "save", slow_first_save)
    requests = [
        GenerationRequest(image=str(SAMPLES / "portrait.png"), prompt="Stop me", resolution="360p", seed=s)
        for s in (1, 2, 3)
    ]

    async def interrupted() -> _SetRun:
        runtime = Runtime(load_settings())
        run = _SetRun(requests)
        task = asyncio.ensure_future(
            _generate_set(runtime, run, JobLines(io.StringIO(), [job_label(r) for r in requests]), 5.0, 1, "g")
        )
        while not saving.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        task.cancel()  # what asyncio.run does on Ctrl+C
        with contextlib.suppress(asyncio.CancelledError):
            await task
        runtime.close()
        return run

    run = asyncio.run(interrupted())
    assert len(run.not_sent) == 3 and sim.create_requests == 0  # the run reports all three "not sent"
    monkeypatch.setattr(JobStore, "save", original_save)
    leftovers = [j for j in stored_jobs() if not j.is_final]
    main(["resume"])
    capsys.readouterr()
    assert sim.create_requests == 0, f"resume sent a job the interrupted run said was not sent: {leftovers}"
