"""Removing a storyboard's last pending part: the film should end (failed: a part was removed), not wait forever."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import JobState
from pixdesk.simulator import Simulator
from tests.helpers import make_engine, write_keyframes

BASE = GenerationRequest(prompt="the camera glides", resolution="360p", seed=7)


def test_removing_the_last_pending_part_ends_the_film(sim: Simulator, tmp_path: Path):
    sim.generate_seconds = 2.0
    frames = write_keyframes(tmp_path, 2)

    async def go() -> tuple[str, str | None]:
        engine = make_engine(sim, tmp_path)
        try:
            (part,), film = await engine.submit_storyboard(frames, BASE)
            while engine.jobs[part.id].server_id is None:
                await asyncio.sleep(0.02)
            engine.mark_removing(part.id)  # what Remove on the part's row does
            assert await engine.remove(part.id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(engine.wait(film.id)), 10)
            live = engine.jobs[film.id]
            return live.state.value, live.detail
        finally:
            await engine.close()

    state, detail = asyncio.run(go())
    assert state == JobState.FAILED.value, f"the film is still {state} ({detail}) 10 s after its only part was removed"
