"""A storyboard cancelled while its parts are at the server, then retried: the parts the server has (and charges
for) are watched again, never sent again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PIL import Image

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import Job, JobState
from pixdesk.simulator import Simulator
from tests.helpers import make_engine

BASE = GenerationRequest(prompt="the camera glides", resolution="360p", seed=7)


def keyframes(tmp_path: Path) -> list[str]:
    out = []
    for i, c in enumerate(((200, 40, 40), (40, 200, 40), (40, 40, 200))):
        p = tmp_path / f"key{i}.png"
        Image.new("RGB", (320, 240), c).save(p)
        out.append(str(p))
    return out


def test_retrying_a_cancelled_film_does_not_resend_parts_the_server_has(sim: Simulator, tmp_path: Path):
    sim.generate_seconds = 2.0

    async def go() -> tuple[Job, list[Job]]:
        engine = make_engine(sim, tmp_path)
        at_server = asyncio.Event()
        engine.job_listeners.append(
            lambda j: at_server.set() if sum(1 for x in engine.jobs.values() if x.server_id) == 2 else None
        )
        try:
            parts, film = await engine.submit_storyboard(keyframes(tmp_path), BASE)
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
