"""The headless CLI, in-process through `pixdesk.cli.main`, with each exit code."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import av
import pytest

from pixdesk.api.request import GenerationRequest
from pixdesk.cli import main
from pixdesk.jobs import Job, JobState
from pixdesk.simulator import Simulator
from tests.conftest import SAMPLES, TEST_KEY


def probe(path: Path) -> dict:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        return {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "size": (video.width, video.height),
            "fps": float(video.average_rate or 0),
            "duration": (container.duration or 0) / 1e6,
            "audio": len(container.streams.audio),
        }


def test_demo_generate_with_lip_sync_writes_the_promised_mp4(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    out = tmp_path / "clip.mp4"
    code = main(
        [
            "generate",
            str(SAMPLES / "portrait.png"),
            "--prompt",
            "She greets us",
            "--demo",
            "--resolution",
            "540p",
            "--duration",
            "5",
            "--lip-sync-text",
            "Hello",
            "--speaker",
            "Chloe",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    info = probe(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p" and info["fps"] == 24
    assert min(info["size"]) == 540
    assert abs(info["duration"] - 5) <= 0.2
    assert info["audio"] == 1


def test_without_lip_sync_there_is_no_audio_and_json_summary(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "wide.mp4"
    code = main(
        [
            "generate",
            str(SAMPLES / "sunset-mountains.jpg"),
            "--prompt",
            "Clouds drift",
            "--resolution",
            "360p",
            "--duration",
            "8",
            "--style",
            "anime",
            "--seed",
            "7",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "completed" and summary["path"] == str(out) and summary["credits"] > 0
    assert ":" in summary["id"]
    info = probe(out)
    assert info["audio"] == 0 and min(info["size"]) == 360 and abs(info["duration"] - 8) <= 0.2


def test_no_key_falls_back_to_the_simulator_with_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = main(
        [
            "generate",
            str(SAMPLES / "robot-transparent.png"),
            "--prompt",
            "Beep",
            "--resolution",
            "360p",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "demo mode" in captured.err
    written = Path(captured.out.strip())
    assert written.parent == tmp_path and written.name.startswith("beep_") and written.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate", "/no/such/file.png", "--prompt", "x"], "not found"),
        (["generate", str(Path(__file__)), "--prompt", "x"], "not an image"),
        (
            ["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--resolution", "1080p", "--duration", "8"],
            "1080p",
        ),
        (
            ["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--lip-sync-text", "hi", "--speaker", "Bob"],
            "invalid choice",
        ),
        (["generate", str(SAMPLES / "portrait.png"), "--prompt", "   "], "empty"),
        (["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--seed", "-4"], "at least 0"),
        (["generate", str(SAMPLES / "portrait.png")], "--prompt"),
    ],
)
def test_bad_input_exits_2_before_any_request(live: Simulator, capsys: pytest.CaptureFixture[str], args, words):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert live.stats.requests == []


def test_refused_key_exits_3(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    live.api_key = "a-different-key"
    code = main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")])
    assert code == 3
    assert "key" in capsys.readouterr().err
    assert not (tmp_path / "a.mp4").exists()


def test_failed_generation_exits_3(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    live.fail_generations = 1
    code = main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")])
    assert code == 3 and "moderation" in capsys.readouterr().err


def test_a_lost_answer_is_found_in_the_logs_and_the_clip_arrives(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.logs_lag_seconds = 0.5
    live.inject("drop_after_accept", "create")
    code = main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")])
    assert code == 0 and (tmp_path / "a.mp4").stat().st_size > 1000
    assert live.create_requests == 1 and len(live.generations) == 1


def test_unknown_outcome_exits_4_after_the_lookup_wait_and_resume_keeps_looking(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.logs_lag_seconds = 3.0  # the logs are slower than this run is willing to wait
    live.inject("drop_after_accept", "create")
    args = ["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")]
    assert main([*args, "--lookup-wait", "0.5"]) == 4
    err = capsys.readouterr().err
    assert "unknown" in err and "dashboard" in err
    assert live.create_requests == 1
    assert main(["resend", _only_job_id(capsys)]) == 2  # unknown is not "not created": never resent
    assert "does not know yet" in capsys.readouterr().err and live.create_requests == 1
    assert main(["resume"]) == 0  # the logs have caught up meanwhile: found, watched, downloaded
    assert "completed" in capsys.readouterr().out
    assert live.create_requests == 1 and len(live.generations) == 1


def test_resend_sends_a_job_the_logs_show_was_never_created(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    live.inject("status", "create", status=500)  # no answer we can trust, and no trace in the logs
    args = ["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")]
    assert main([*args, "--lookup-wait", "0.3"]) == 4
    job_id = _only_job_id(capsys)
    from pixdesk.config import database_path
    from pixdesk.jobs.models import JobState
    from pixdesk.jobs.store import JobStore

    store = JobStore(database_path())  # the logs' patience has run out for it (as a later `resume` finds)
    stale = store.get(job_id)
    assert stale is not None and stale.state is JobState.UNKNOWN
    stale.submitted_at = (stale.submitted_at or 0) - 3600
    stale.version += 1
    assert store.save(stale)
    store.close()
    assert main(["resume", "--lookup-wait", "5"]) == 4
    assert "not created" in capsys.readouterr().out and live.create_requests == 1
    out = tmp_path / "again.mp4"
    assert main(["resend", job_id, "--out", str(out)]) == 0  # the person's explicit choice
    assert out.stat().st_size > 1000 and live.create_requests == 2


def _only_job_id(capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["jobs", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    return str(row["local_id"])


def test_jobs_lists_what_ran_and_resume_finishes_nothing_twice(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "Listed", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    assert main(["jobs", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["prompt"] for r in rows] == ["Listed"] and rows[0]["state"] == "completed"
    assert main(["resume"]) == 0
    assert "Nothing to resume" in capsys.readouterr().out
    assert live.create_requests == 1


def test_version(capsys: pytest.CaptureFixture[str]):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("pixdesk 0.")


def test_simulator_command_serves_the_api_and_prints_its_url(tmp_path: Path):
    import subprocess
    import sys

    import requests

    proc = subprocess.Popen(
        [sys.executable, "-m", "pixdesk", "simulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        answer = requests.get(f"{url}/v2/billing", headers={"Authorization": "Bearer x"}, timeout=10)
        assert answer.status_code == 200 and answer.json()["currency"] == "USD"
        assert requests.get(f"{url}/v2/billing", timeout=10).status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)


# -- refusals end a run promptly, and leave paid jobs resumable ------------------------------------
def leave_unfinished(sim: Simulator, queued: int, waiting: int = 0) -> list[str]:
    """An earlier run that quit while `queued` jobs were at the server and `waiting` ones not sent yet."""
    import asyncio

    from pixdesk.api.client import ApiClient
    from pixdesk.config import data_dir, database_path
    from pixdesk.jobs import JobEngine, JobState, JobStore, Library
    from tests.helpers import FAST_POLL

    async def go() -> list[str]:
        store = JobStore(database_path())
        engine = JobEngine(
            ApiClient(sim.url, TEST_KEY),
            store,
            Library(data_dir() / "videos"),
            max_in_flight=queued,
            poll_policy=FAST_POLL,
        )
        reached = asyncio.Event()

        def watch(_job: object) -> None:
            states = [j.state for j in engine.jobs.values()]
            if states.count(JobState.QUEUED) == queued and states.count(JobState.WAITING) == waiting:
                reached.set()

        engine.job_listeners.append(watch)
        try:
            image = str(SAMPLES / "portrait.png")
            for i in range(queued + waiting):
                await engine.submit(GenerationRequest(image=image, prompt=f"left {i}", resolution="360p", seed=i))
            await asyncio.wait_for(reached.wait(), 30)
            return [j.id for j in engine.jobs.values()]
        finally:
            await engine.close()
            store.close()

    sim.queue_seconds = 600  # they stay queued at the server
    ids = asyncio.run(go())
    assert sim.create_requests == queued
    return ids


def saved_jobs() -> dict[str, Job]:
    from pixdesk.config import database_path
    from pixdesk.jobs import JobStore

    store = JobStore(database_path())
    try:
        return {j.request.prompt: j for j in store.all()}
    finally:
        store.close()


def let_the_server_finish(sim: Simulator) -> None:
    sim.queue_seconds = sim.generate_seconds = 0
    for gen in list(sim.generations.values()):
        gen.queue_seconds = gen.generate_seconds = 0


@pytest.mark.timeout(90)
@pytest.mark.parametrize("refusal", ["key", "credits"])
def test_resume_refused_exits_3_at_once_and_the_jobs_stay_resumable(
    live: Simulator, capsys: pytest.CaptureFixture[str], refusal: str
):
    leave_unfinished(live, queued=2)
    before = {p: j.server_id for p, j in saved_jobs().items()}
    if refusal == "key":
        live.api_key = "a-different-key"
    else:
        live.balance_usd = 0
        live.inject("status", "poll", count=1000, status=403)  # an account out of credits, refused everywhere
    started = time.monotonic()
    assert main(["resume"]) == 3
    assert time.monotonic() - started < 30  # never the 10-minute retry budget
    captured = capsys.readouterr()
    assert ("key" if refusal == "key" else "credits") in captured.out + captured.err
    jobs = saved_jobs()
    assert {p: j.state for p, j in jobs.items()} == {p: JobState.STALLED for p in before}
    assert {p: j.server_id for p, j in jobs.items()} == before and all(before.values())
    assert all(j.error_kind == "api" for j in jobs.values())

    live.api_key, live.balance_usd = None, 25.0
    live.faults.clear()
    let_the_server_finish(live)
    assert main(["resume"]) == 0
    assert {j.state for j in saved_jobs().values()} == {JobState.COMPLETED}
    assert live.create_requests == 2 and len(live.generations) == 2  # no second create for either


@pytest.mark.timeout(90)
def test_resume_with_a_refused_key_never_sends_a_waiting_job(live: Simulator, capsys: pytest.CaptureFixture[str]):
    leave_unfinished(live, queued=1, waiting=1)
    live.api_key = "a-different-key"
    assert main(["resume"]) == 3
    jobs = saved_jobs()
    assert jobs["left 0"].state is JobState.STALLED and jobs["left 0"].server_id
    assert jobs["left 1"].state is JobState.FAILED and jobs["left 1"].server_id is None
    assert live.create_requests == 2 and len(live.generations) == 1  # the refused create made nothing
    assert "key" in capsys.readouterr().out


@pytest.mark.timeout(60)
@pytest.mark.parametrize("refusal", ["key", "credits"])
def test_generate_refused_exits_3_at_once_and_nothing_is_created(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], refusal: str
):
    if refusal == "key":
        live.api_key = "a-different-key"
    else:
        live.balance_usd = 0
    started = time.monotonic()
    code = main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")])
    assert code == 3 and time.monotonic() - started < 20
    assert ("key" if refusal == "key" else "credits") in capsys.readouterr().err
    assert live.generations == {} and not (tmp_path / "a.mp4").exists()
    (job,) = saved_jobs().values()
    assert job.state is JobState.FAILED and job.server_id is None


# -- what the server says is shown clean, and never the key ----------------------------------------
def test_a_key_echoed_by_the_server_never_reaches_stderr_the_database_or_the_log(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    from pixdesk.config import data_dir

    live.inject("status", "create", status=400, echo_key=True, message="Body validation error! prompt: bad")
    code = main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")])
    assert code == 3
    captured = capsys.readouterr()
    assert "Body validation error" in captured.err
    assert TEST_KEY not in captured.err + captured.out
    assert TEST_KEY[6:] not in captured.err + captured.out
    for path in data_dir().rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path
    assert main(["jobs", "--json"]) == 0
    assert TEST_KEY not in capsys.readouterr().out


NASTY = "\x1b[31mBoom\x1b[0m\x07 \u202eevil\u202c\x00 line\nbreak\t\x1b]0;owned\x07 \u200bok\x9b2J"


def test_error_text_with_terminal_escapes_is_printed_clean(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    import unicodedata

    live.inject("status", "create", status=400, message=NASTY)
    code = main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")])
    assert code == 3
    captured = capsys.readouterr()
    assert "Boom evil line break ok" in captured.err
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in captured.err.replace("\n", ""))
    assert main(["jobs"]) == 0
    listing = capsys.readouterr().out
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in listing.replace("\n", ""))


# -- a damaged database, an unwritable destination ---------------------------------------------------
@pytest.mark.allow_log(r"damaged")
@pytest.mark.parametrize("command", ["jobs", "generate"])
def test_a_damaged_database_is_moved_aside_with_one_sentence_and_the_command_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
):
    from pixdesk.config import database_path

    db = database_path()
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a database, it is garbage " * 200)
    argv = (
        ["jobs"]
        if command == "jobs"
        else ["generate", str(SAMPLES / "portrait.png"), "--prompt", "After", "--demo", "--out", str(tmp_path)]
    )
    assert main(argv) == 0
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if "damaged" in line]
    assert len(lines) == 1, captured.err
    moved = [p for p in db.parent.iterdir() if p.name.startswith(db.name + ".damaged-")]
    assert len(moved) == 1 and str(moved[0]) in lines[0]
    assert moved[0].read_bytes().startswith(b"this is not a database")
    if command == "generate":
        assert Path(captured.out.strip()).stat().st_size > 0
        (job,) = saved_jobs().values()
        assert job.state is JobState.COMPLETED
    else:
        assert "No jobs yet." in captured.out


def _library_clips() -> list[Path]:
    from pixdesk.config import load_settings

    return sorted(Path(load_settings().library).glob("*.mp4"))


def test_out_into_a_folder_that_became_unwritable_names_the_library_copy(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The folder given to --out existed when the run started, and is gone (a file now) when the clip is
    ready: a clear message, exit 2, nothing half-written, and the clip safe in the library."""
    folder = tmp_path / "exports"
    folder.mkdir()
    original = live.create

    def spy(body, spec, client_request_id=None):  # the folder disappears while the job runs
        folder.rmdir()
        folder.write_text("not a folder any more")
        return original(body, spec, client_request_id)

    live.create = spy  # type: ignore[method-assign]
    out = folder / "clip.mp4"
    assert main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    (clip,) = _library_clips()
    assert str(out) in err and str(clip) in err and "library" in err
    assert folder.read_text() == "not a folder any more"
    assert [p.name for p in tmp_path.iterdir()] == ["exports"]
    assert clip.stat().st_size > 1000


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod 0o500")
def test_out_into_a_read_only_folder_names_the_library_copy(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(folder)]) == 2
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)
    err = capsys.readouterr().err
    (clip,) = _library_clips()
    assert str(clip) in err and "library" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_out_onto_a_full_device_names_the_library_copy_and_leaves_the_device_alone(
    live: Simulator, capsys: pytest.CaptureFixture[str]
):
    before = os.stat("/dev/full")
    assert main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", "/dev/full"]) == 2
    err = capsys.readouterr().err
    (clip,) = _library_clips()
    assert "/dev/full" in err and str(clip) in err and "library" in err
    after = os.stat("/dev/full")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert not any(p.name.startswith(".full") for p in Path("/dev").iterdir())
