"""Never lose a paid generation, never pay twice: crashes, retries, resumed downloads, hostile answers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.cli import main
from pixdesk.jobs import Job, JobState, JobStore, RetryPolicy
from pixdesk.jobs.store import SCHEMA_VERSION
from pixdesk.simulator import Simulator
from tests.conftest import SAMPLES, TEST_KEY
from tests.helpers import make_engine, run_one_job, stored_jobs, wait_until

ROOT = Path(__file__).resolve().parents[1]


def start_cli(args: list[str], sim: Simulator) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AIMLAPI_KEY": TEST_KEY, "AIMLAPI_BASE_URL": sim.url}
    return subprocess.Popen(
        [sys.executable, "-m", "pixdesk", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


@pytest.fixture
def live_env(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    return sim


def test_sigkill_after_acceptance_then_restart_gives_one_generation_and_the_video(live_env: Simulator, tmp_path: Path):
    sim = live_env
    sim.generate_seconds = 120
    proc = start_cli(
        [
            "generate",
            str(SAMPLES / "portrait.png"),
            "--prompt",
            "Killed mid-way",
            "--resolution",
            "360p",
            "--out",
            str(tmp_path / "out.mp4"),
        ],
        sim,
    )
    try:
        wait_until(lambda: any(j.server_id for j in stored_jobs()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    (job,) = stored_jobs()
    assert job.state in (JobState.QUEUED, JobState.GENERATING) and job.server_id in sim.generations
    sim.generations[job.server_id].generate_seconds = 0  # the server finishes while we are gone

    assert main(["resume"]) == 0
    (done,) = stored_jobs()
    assert done.state is JobState.COMPLETED
    assert sim.create_requests == 1 and len(sim.generations) == 1
    rendered = sim.generations[job.server_id].render.result(timeout=30)  # type: ignore[union-attr]
    assert Path(done.file_path or "").read_bytes() == rendered.read_bytes()
    assert json.loads(Path(done.file_path or "").with_suffix(".json").read_text())["generation_id"] == job.server_id


def test_sigkill_while_the_create_is_unanswered_is_found_in_the_logs_not_resent(
    live_env: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Killed while the create was unanswered: the next run does not know whether it was created, never sends
    it again, finds it in the usage logs by our client request id, and finishes it."""
    sim = live_env
    sim.inject("hang", "create", seconds=5)
    proc = start_cli(["generate", str(SAMPLES / "portrait.png"), "--prompt", "In doubt", "--out", str(tmp_path)], sim)
    try:
        wait_until(lambda: sim.create_requests == 1 and any(j.state is JobState.SUBMITTING for j in stored_jobs()))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    assert main(["resume"]) == 0
    assert "completed" in capsys.readouterr().out
    (job,) = stored_jobs()
    (generation,) = sim.generations.values()
    assert job.state is JobState.COMPLETED and job.server_id == generation.id
    assert generation.client_request_id == job.client_request_id
    assert sim.create_requests == 1


def test_refused_connection_is_retried_and_makes_one_generation(tmp_path: Path, png: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sim = Simulator(port=port, queue_seconds=0.1, generate_seconds=0.1)

    async def go() -> Job:
        class Late:  # the URL is known before the server is up
            url = f"http://127.0.0.1:{port}"

        engine = make_engine(Late(), tmp_path)  # type: ignore[arg-type]
        seen: list[Job] = []

        def on_job(job: Job) -> None:
            seen.append(job)
            if job.detail == "retrying (1)" and sim._server is None:
                sim.start()  # the service comes back after one refusal

        engine.job_listeners.append(on_job)
        try:
            job = await engine.submit(GenerationRequest(image=str(png), prompt="p", resolution="360p"))
            return await engine.wait(job.id)
        finally:
            await engine.close()

    try:
        job = asyncio.run(go())
    finally:
        sim.stop()
    assert job.state is JobState.COMPLETED
    assert sim.create_requests == 1 and len(sim.generations) == 1


def test_403_pauses_submissions_once(sim: Simulator, tmp_path: Path, png: Path):
    sim.balance_usd = 0
    notices: list[str] = []

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path)
        engine.notice_listeners.append(lambda kind, msg: notices.append(kind))
        try:
            jobs = [await engine.submit(GenerationRequest(image=str(png), prompt=f"p{i}")) for i in range(2)]
            while sum(1 for j in engine.jobs.values() if (j.detail or "").startswith("paused")) < 2:
                await asyncio.sleep(0.02)
            return [engine.jobs[j.id].snapshot() for j in jobs]
        finally:
            await engine.close()

    jobs = asyncio.run(go())
    assert notices == ["paused"]
    assert all("credits" in (j.detail or "") for j in jobs)
    assert len(sim.generations) == 0


def test_an_engine_download_cut_halfway_resumes_byte_identical(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("cut", "download", after_bytes=3000)

    job = run_one_job(sim, tmp_path, GenerationRequest(image=str(png), prompt="cut", resolution="720p"))
    assert job.state is JobState.COMPLETED
    rendered = sim.generations[job.server_id or ""].render.result()  # type: ignore[union-attr]
    assert Path(job.file_path or "").read_bytes() == rendered.read_bytes()
    assert sim.stats.count("download") == 2


@pytest.mark.parametrize(
    ("patch", "state", "words"),
    [
        # An oddity on a paid job is retried, then handed over as stalled (resumable), never failed.
        ({"video": {"url": "file:///etc/passwd"}}, JobState.STALLED, "not a web link"),
        ({"video": {"file_name": "../../../evil.mp4"}}, JobState.COMPLETED, None),
        ({"video": {"file_name": "/etc/cron.d/evil"}}, JobState.COMPLETED, None),
        ({"video": None, "status": "completed"}, JobState.STALLED, "no video"),
        ({"status": "exploded", "error": {"message": "kaboom"}}, JobState.COMPLETED, None),
        ({"video": {"file_size": 12}}, JobState.STALLED, None),
    ],
)
def test_hostile_answers_end_in_a_specific_visible_state(
    sim: Simulator, tmp_path: Path, png: Path, patch, state, words
):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("rewrite", "poll", count=1 if "exploded" in str(patch) else 100, patch=patch)

    job = run_one_job(
        sim,
        tmp_path,
        GenerationRequest(image=str(png), prompt="hostile", resolution="360p"),
        retry_policy=RetryPolicy(base=0.01, ceiling=0.02, budget=0.5),
    )
    assert job.state is state
    if words:
        assert words in (job.error or "")
    library = tmp_path / "videos"
    written = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    assert all(p.is_relative_to(tmp_path.resolve()) for p in written)
    assert not Path("/etc/cron.d/evil").exists()
    if state is JobState.COMPLETED:
        assert Path(job.file_path or "").parent == library


def test_unknown_status_words_are_shown_and_polling_goes_on(sim: Simulator, tmp_path: Path, png: Path):
    sim.queue_seconds = sim.generate_seconds = 0
    sim.inject("rewrite", "poll", count=2, patch={"status": "rendering-frames"})
    seen: list[str] = []

    request = GenerationRequest(image=str(png), prompt="odd words", resolution="360p")
    job = run_one_job(sim, tmp_path, request, on_job=lambda j: seen.append(j.status_text()))
    assert job.state is JobState.COMPLETED
    assert any(s.startswith("generating") for s in seen)


def test_history_of_thousands_of_jobs_loads_newest_first(tmp_path: Path, sim: Simulator, png: Path):
    store = JobStore(tmp_path / "jobs.sqlite3")
    base = time.time()
    for i in range(3000):
        store.save(
            Job(
                request=GenerationRequest(image=str(png), prompt=f"old {i}"),
                state=JobState.COMPLETED,
                created_at=base - i,
                backend=sim.url,
            )
        )
    store.close()

    async def go() -> list[Job]:
        engine = make_engine(sim, tmp_path)
        try:
            return await engine.load_history()
        finally:
            await engine.close()

    history = asyncio.run(go())
    assert len(history) == 3000 and history[0].request.prompt == "old 0" and history[-1].request.prompt == "old 2999"


def test_two_processes_opening_a_new_database_at_once_both_succeed(tmp_path: Path):
    """The GUI and `pixdesk resume` may start together: only one of them may create the schema."""
    path = tmp_path / "jobs.sqlite3"
    code = (
        "import sys; from pixdesk.jobs.store import SCHEMA_VERSION, JobStore; "
        "s = JobStore(sys.argv[1]); assert s.schema_version >= 1; s.close()"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    store = JobStore(path)
    assert store.schema_version == SCHEMA_VERSION and store.all() == []
    store.close()
