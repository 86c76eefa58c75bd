"""Storyboards in the job core, against the real simulator: transitions per pair, a joined film, restarts."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import av
import pytest
from PIL import Image

from pixdesk.api.request import GenerationRequest, ValidationError
from pixdesk.jobs import Job, JobState
from pixdesk.simulator import Simulator
from tests.helpers import make_engine, write_keyframes


def duration_of(path: str | Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / av.time_base


@pytest.fixture
def keyframes(tmp_path: Path) -> list[str]:
    return write_keyframes(tmp_path)


BASE = GenerationRequest(prompt="the camera glides between the scenes", resolution="360p", seed=7)


def test_three_keyframes_make_two_transitions_and_a_film_as_long_as_both(
    sim: Simulator, tmp_path: Path, keyframes: list[str]
):
    async def go() -> tuple[list[Job], Job]:
        engine = make_engine(sim, tmp_path)
        try:
            parts, film = await engine.submit_storyboard(keyframes, BASE)
            final = await engine.wait(film.id)
            return [engine.jobs[p.id] for p in parts], final
        finally:
            await engine.close()

    parts, film = asyncio.run(go())
    bodies = [g.body for g in sim.generations.values()]
    assert [(b["model"], b["prompt"], b["seed"]) for b in bodies] == [("pixverse/v5/transition", BASE.prompt, 7)] * 2
    assert all(b["image_url"].startswith("data:image/png") and b["tail_image_url"] for b in bodies)
    assert [p.request.image for p in parts] == keyframes[:2]
    assert [p.request.last_frame for p in parts] == keyframes[1:]
    assert film.state is JobState.COMPLETED and film.parts == tuple(p.id for p in parts)
    assert {p.group_id for p in parts} == {film.group_id} and film.group_id
    assert all(p.state is JobState.COMPLETED and Path(p.file_path or "").is_file() for p in parts)
    total = sum(duration_of(p.file_path or "") for p in parts)
    assert duration_of(film.file_path or "") == pytest.approx(total, abs=0.2)
    assert film.file_path not in {p.file_path for p in parts} and film.server_id is None


def test_a_storyboard_needs_two_keyframes_and_saves_nothing_otherwise(sim: Simulator, tmp_path: Path, png: Path):
    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path)
        try:
            with pytest.raises(ValidationError) as refused:
                await engine.submit_storyboard([str(png)], BASE)
            assert "two keyframes" in (refused.value.for_field("image_url") or "")
            return await engine.load_history()
        finally:
            await engine.close()

    assert asyncio.run(go()) == [] and sim.create_requests == 0


def test_a_film_left_waiting_at_close_is_joined_after_a_restart_without_sending_anything_again(
    sim: Simulator, tmp_path: Path, keyframes: list[str]
):
    async def first_run() -> str:
        engine = make_engine(sim, tmp_path)
        sent = asyncio.Event()
        engine.job_listeners.append(
            lambda job: sent.set() if sum(1 for j in engine.jobs.values() if j.server_id) == 2 else None
        )
        try:
            _parts, film = await engine.submit_storyboard(keyframes, BASE)
            await asyncio.wait_for(sent.wait(), 30)
            assert engine.jobs[film.id].state is JobState.WAITING
            return film.id
        finally:
            await engine.close()

    async def second_run(film_id: str) -> Job:
        engine = make_engine(sim, tmp_path)
        try:
            resumed = await engine.resume_unfinished()
            assert film_id in {j.id for j in resumed}
            return await engine.wait(film_id)
        finally:
            await engine.close()

    film_id = asyncio.run(first_run())
    film = asyncio.run(second_run(film_id))
    assert film.state is JobState.COMPLETED and Path(film.file_path or "").is_file()
    assert sim.create_requests == 2


def test_a_failed_part_fails_the_film_and_retrying_the_film_sends_only_that_part(
    sim: Simulator, tmp_path: Path, keyframes: list[str]
):
    sim.fail_generations = 1  # the first part to be created fails (moderation)

    async def go() -> tuple[Job, Job, list[Job]]:
        engine = make_engine(sim, tmp_path, max_in_flight=1)
        try:
            _parts, film = await engine.submit_storyboard(keyframes, BASE)
            failed = await engine.wait(film.id)
            again = await engine.retry(film.id)
            final = await engine.wait(again.id)
            return failed, final, [engine.jobs[i] for i in final.parts]
        finally:
            await engine.close()

    failed, final, parts = asyncio.run(go())
    assert failed.state is JobState.FAILED and "Part 1 of 2 ended failed" in (failed.error or "")
    assert "moderation" in (failed.error or "")
    assert final.state is JobState.COMPLETED and final.group_id == failed.group_id
    assert final.parts[1] == failed.parts[1] and final.parts[0] != failed.parts[0]
    assert [p.state for p in parts] == [JobState.COMPLETED, JobState.COMPLETED]
    assert sim.create_requests == 3


def test_a_part_retried_by_hand_is_used_when_the_film_is_retried(sim: Simulator, tmp_path: Path, keyframes: list[str]):
    sim.fail_generations = 1

    async def go() -> Job:
        engine = make_engine(sim, tmp_path, max_in_flight=1)
        try:
            parts, film = await engine.submit_storyboard(keyframes, BASE)
            await engine.wait(film.id)
            by_hand = await engine.retry(parts[0].id)
            await engine.wait(by_hand.id)
            again = await engine.retry(film.id)
            final = await engine.wait(again.id)
            assert final.parts == (by_hand.id, parts[1].id)
            return final
        finally:
            await engine.close()

    assert asyncio.run(go()).state is JobState.COMPLETED
    assert sim.create_requests == 3  # two parts, and the one retried by hand: nothing paid twice


def test_a_clip_made_from_words_alone_gets_its_first_frame_as_its_picture(sim: Simulator, tmp_path: Path):
    from tests.helpers import run_one_job

    request = GenerationRequest(model="pixverse/v5/text-to-video", prompt="a red kite over a beach", resolution="360p")
    job = run_one_job(sim, tmp_path, request)
    assert job.state is JobState.COMPLETED and job.thumbnail is not None
    with Image.open(io.BytesIO(job.thumbnail)) as poster:
        assert poster.format == "PNG" and max(poster.size) == 128
    assert json.loads(Path(job.file_path or "").with_suffix(".json").read_text())["finished_at"]
