"""A storyboard cancelled while its parts are at the server, then retried: the parts the server has (and charges
for) are watched again, never sent again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import Job, JobState
from pixdesk.simulator import Simulator
from tests.helpers import make_engine, write_keyframes

BASE = GenerationRequest(prompt="the camera glides", resolution="360p", seed=7)


def test_retrying_a_cancelled_film_does_not_resend_parts_the_server_has(sim: Simulator, tmp_path: Path):
    sim.generate_seconds = 2.0

    async def go() -> tuple[Job, list[Job]]:
        engine = make_engine(sim, tmp_path)
        at_server = asyncio.Event()
        engine.job_listeners.append(
            lambda j: at_server.set() if sum(1 for x in engine.jobs.values() if x.server_id) == 2 else None
        )
        try:
            parts, film = await engine.submit_storyboard(write_keyframes(tmp_path), BASE)
            await asyncio.wait_for(at_server.wait(), 30)
            engine.cancel_group(film.group_id or "")  # what Cancel on the film's row does
            await engine.wait(film.id)
            cancelled = [engine.jobs[p.id] for p in parts]
            assert all(p.state is JobState.CANCELLED and p.server_id for p in cancelled)
            again = await engine.retry(film.id)
            final = await engine.wait(again.id)
            return final, cancelled
        finally:
            await engine.close()

    final, cancelled = asyncio.run(go())
    assert final.state is JobState.COMPLETED
    paid_at_server = len(sim.generations)
    assert sim.create_requests == 2, (
        f"{sim.create_requests} creates for a 2-part film; the server made {paid_at_server} clips "
        f"(the 2 cancelled parts were at the server: {[p.server_id[:8] for p in cancelled if p.server_id]})"
    )


def test_retry_at_the_moment_the_storyboard_shows_cancelled_waits_for_its_parts_to_stop(sim: Simulator, tmp_path: Path):
    """Retry is offered as soon as the storyboard's rows say cancelled, while the parts' work may still be ending
    (their tasks finish a moment after the state is shown). The retry must wait for that, then watch the parts
    again: not fail the new film at once, and not send them again."""
    sim.generate_seconds = 2.0

    async def go() -> tuple[Job, list[str]]:
        engine = make_engine(sim, tmp_path)
        at_server = asyncio.Event()
        retried: asyncio.Future[Job] = asyncio.get_running_loop().create_future()
        ids: list[str] = []
        seen: list[str] = []

        def on_change(j: Job) -> None:
            if sum(1 for x in engine.jobs.values() if x.server_id) == 2:
                at_server.set()
            cancelled = ids and all(engine.jobs[i].state is JobState.CANCELLED for i in ids)
            if cancelled and not seen:  # the click, the moment the last row turns cancelled
                seen.extend(f"{i[:8]} running={engine.is_running(i)}" for i in ids)
                task = asyncio.get_running_loop().create_task(engine.retry(ids[-1]))
                task.add_done_callback(lambda t: retried.set_result(t.result()))

        engine.job_listeners.append(on_change)
        try:
            parts, film = await engine.submit_storyboard(write_keyframes(tmp_path), BASE)
            ids.extend([*(p.id for p in parts), film.id])
            await asyncio.wait_for(at_server.wait(), 30)
            engine.cancel_group(film.group_id or "")
            again = await asyncio.wait_for(retried, 30)
            return await engine.wait(again.id), seen
        finally:
            await engine.close()

    final, seen = asyncio.run(go())
    assert final.state is JobState.COMPLETED, f"{final.error} (at the retry: {seen})"
    assert sim.create_requests == 2
