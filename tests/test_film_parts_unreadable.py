"""A film whose `parts` column cannot be read loads as a failed job: `resume` never sends it as a transition
from the first keyframe to the last."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from pixdesk.api.request import GenerationRequest
from pixdesk.simulator import Simulator
from tests.helpers import make_engine, write_keyframes

BASE = GenerationRequest(prompt="the camera glides", resolution="360p", seed=7)


def test_an_unreadable_film_is_never_sent(sim: Simulator, tmp_path: Path):
    frames = write_keyframes(tmp_path, 2)
    sim.generate_seconds = 30

    async def first() -> str:
        engine = make_engine(sim, tmp_path)
        try:
            (part,), film = await engine.submit_storyboard(frames, BASE)
            while engine.jobs[part.id].server_id is None:
                await asyncio.sleep(0.02)
            return film.id
        finally:
            await engine.close()

    film_id = asyncio.run(first())
    db = sqlite3.connect(tmp_path / "jobs.sqlite3")
    db.execute("UPDATE jobs SET parts=? WHERE id=?", ('["abc", 1]', film_id))  # damaged / written by a bug
    db.commit()
    db.close()
    before = sim.create_requests

    async def second() -> None:
        engine = make_engine(sim, tmp_path)
        try:
            await engine.resume_unfinished()
            await asyncio.sleep(1.5)
        finally:
            await engine.close()

    asyncio.run(second())
    assert sim.create_requests == before, "the film row was sent to the server as a transition"
