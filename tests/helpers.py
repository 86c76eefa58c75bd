"""Small real helpers for tests: a fake clock and an engine wired to a simulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from pixdesk.api.client import ApiClient
from pixdesk.api.request import GenerationRequest
from pixdesk.config import database_path
from pixdesk.jobs import Job, JobEngine, JobStore, Library, PollPolicy, RetryPolicy
from pixdesk.simulator import Simulator

FAST_POLL = PollPolicy(first=0.15, growth=1.5, ceiling=0.4, jitter=0.1)
FAST_RETRY = RetryPolicy(base=0.05, ceiling=0.3, budget=20.0)


class FakeClock:
    """Virtual time: `sleep` advances it at once, so a 30-minute job takes milliseconds."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


def make_engine(sim: Simulator, folder: Path, key: str = "sk-test", **kwargs: object) -> JobEngine:
    kwargs.setdefault("poll_policy", FAST_POLL)
    kwargs.setdefault("retry_policy", FAST_RETRY)
    store = JobStore(folder / "jobs.sqlite3")
    return JobEngine(ApiClient(sim.url, key), store, Library(folder / "videos"), **kwargs)  # type: ignore[arg-type]


def run_one_job(
    sim: Simulator,
    folder: Path,
    request: GenerationRequest,
    on_job: Callable[[Job], None] | None = None,
    **engine_kwargs: object,
) -> Job:
    """Submit one job to a fresh engine, wait for its end, close the engine; returns the final job."""

    async def go() -> Job:
        engine = make_engine(sim, folder, **engine_kwargs)
        if on_job is not None:
            engine.job_listeners.append(on_job)
        try:
            job = await engine.submit(request)
            return await engine.wait(job.id)
        finally:
            await engine.close()

    return asyncio.run(go())


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll a condition another process brings about (no Qt loop to wait on); fails the test if it never holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def stored_jobs() -> list[Job]:
    """Every job in the app's database, oldest first (as another process would see them)."""
    if not database_path().exists():
        return []
    store = JobStore(database_path())
    try:
        return sorted(store.all(), key=lambda j: j.created_at)
    finally:
        store.close()


KEYFRAME_COLOURS = ((200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40))


def write_keyframes(folder: Path, count: int = 3, size: tuple[int, int] = (320, 240)) -> list[str]:
    """`count` storyboard keyframes (PNG, each its own colour) in `folder`, in order."""
    from PIL import Image

    paths = []
    for i in range(count):
        path = folder / f"key{i}.png"
        Image.new("RGB", size, KEYFRAME_COLOURS[i % len(KEYFRAME_COLOURS)]).save(path)
        paths.append(str(path))
    return paths
