"""`pixdesk generate IMAGE... --variations N`: many jobs from one command, against the real simulator.

What a person running a set relies on: one clip per image and seed under distinct names, one exit code that
says the worst of what happened (4 over 3 over 2), the in-flight limit kept at the server, progress that reads
well in a log, and money kept safe when the run ends early (a refusal, Ctrl+C): nothing unsent is sent later,
nothing the server has is lost or sent twice.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pixdesk.cli import main
from pixdesk.config import Settings, save_settings
from pixdesk.jobs import JobState
from pixdesk.simulator import Simulator
from tests.conftest import SAMPLES
from tests.helpers import stored_jobs, wait_until

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = str(SAMPLES / "portrait.png")
SUNSET = str(SAMPLES / "sunset-mountains.jpg")
ROBOT = str(SAMPLES / "robot-transparent.png")
SUMMARY = re.compile(r"^pixdesk: (\d+) completed, (\d+) failed, (\d+) unknown(.*)$", re.MULTILINE)


def generate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["generate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def summary_of(err: str) -> tuple[int, int, int, str]:
    (match,) = SUMMARY.findall(err)
    return int(match[0]), int(match[1]), int(match[2]), match[3]


def most_at_once(sim: Simulator) -> int:
    """The most generations the server was working on at the same moment (from its own records: each
    generation runs from its create to the end of its queued and generating time)."""
    events: list[tuple[float, int]] = []
    for gen in list(sim.generations.values()):
        events += [(gen.created, 1), (gen.created + sim.generation_seconds(gen.id), -1)]
    running = peak = 0
    for _, step in sorted(events):  # an end sorts before a start at the same instant
        running += step
        peak = max(peak, running)
    return peak


# -- a set that goes well ------------------------------------------------------------------------------
def test_images_times_variations_make_one_clip_per_image_and_seed(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, out, err = generate(
        capsys,
        *(PORTRAIT, SUNSET),
        *("--prompt", "Waves roll in", "--resolution", "360p", "--seed", "40", "--variations", "2"),
        *("--out", str(tmp_path), "--json"),
    )
    assert code == 0, err
    jobs = json.loads(out)["jobs"]
    assert [(Path(j["image"]).name, j["seed"]) for j in jobs] == [
        ("portrait.png", 40),
        ("portrait.png", 41),
        ("sunset-mountains.jpg", 40),
        ("sunset-mountains.jpg", 41),
    ]
    assert {j["status"] for j in jobs} == {"completed"}
    paths = [Path(j["path"]) for j in jobs]
    assert len(set(paths)) == 4 and all(p.parent == tmp_path and p.stat().st_size > 1000 for p in paths)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    assert paths[1].name == "waves-roll-in_portrait_seed41.mp4"
    for key in ("id", "client_request_id", "estimated_usd", "usd_spent", "credits_used", "library_path"):
        assert all(j[key] for j in jobs), key
    assert len({j["client_request_id"] for j in jobs}) == 4
    group = {j["group_id"] for j in jobs}
    assert len(group) == 1 and None not in group  # one set: one group, saved with each job
    assert {j.group_id for j in stored_jobs()} == group
    assert sorted(g.body["seed"] for g in live.generations.values()) == [40, 40, 41, 41]
    assert live.create_requests == 4
    assert summary_of(err)[:3] == (4, 0, 0)


def test_progress_in_a_log_is_one_line_per_change_per_job_then_a_summary_and_the_paths(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """stderr is not a terminal here (as in a log file or CI): no escape codes, no rewritten lines."""
    code, out, err = generate(
        capsys, ROBOT, "--prompt", "Beep", "--resolution", "360p", "--variations", "2", "--out", str(tmp_path)
    )
    assert code == 0, err
    assert "\x1b" not in err and "\r" not in err
    lines = err.splitlines()
    seeds = sorted({int(m) for m in re.findall(r"^robot-transparent\.png seed (\d+): ", err, re.MULTILINE)})
    assert len(seeds) == 2  # random, distinct
    for seed in seeds:
        states = [
            line.split(": [", 1)[1].split("]", 1)[0]
            for line in lines
            if line.startswith(f"robot-transparent.png seed {seed}: [")
        ]
        assert states[-1] == "completed" and "queued" in states
        assert all(a != b for a, b in itertools.pairwise(states)), states  # only changes are printed
    assert lines[-1] == "pixdesk: 2 completed, 0 failed, 0 unknown"
    written = [Path(p) for p in out.split()]
    assert sorted(p.name for p in written) == sorted(f"beep_robot-transparent_seed{s}.mp4" for s in seeds)
    assert all(p.stat().st_size > 1000 for p in written)


def test_progress_on_a_terminal_is_one_line_per_job_redrawn_in_place(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    """stderr a real pseudo-terminal: the block of two lines is redrawn in place; its last state is both done."""
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("LINES", "40")
    master, slave = os.openpty()
    terminal = open(slave, "w", encoding="utf-8", closefd=True)  # noqa: SIM115 - closed below
    screen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    monkeypatch.setattr(sys, "stderr", terminal)
    try:
        code = main(
            [
                "generate",
                PORTRAIT,
                "--prompt",
                "Hello",
                "--resolution",
                "360p",
                "--seed",
                "3",
                "--variations",
                "2",
                "--out",
                str(tmp_path),
            ]
        )
    finally:
        monkeypatch.undo()
        terminal.close()
        reader.join(10)
        os.close(master)
    assert code == 0
    text = screen.decode("utf-8", "replace")
    assert text.count("\x1b[2F") >= 4  # back to the block's first line, many times
    last_block = text.rsplit("\x1b[2F", 1)[1]
    rows = [r.replace("\r\x1b[K", "") for r in last_block.replace("\r\n", "\n").split("\n") if "seed" in r]
    assert rows[:2] == ["portrait.png seed 3  [completed]", "portrait.png seed 4  [completed]"]
    assert "2 completed, 0 failed, 0 unknown" in text


# -- bad input: exit 2, nothing sent ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--variations", "9"], "Variations must be 1 to 8"),
        (["--variations", "0"], "Variations must be 1 to 8"),
        (["--variations", "3", "--seed", "2147483646"], "the seed must be 0 to 2147483645"),
        (["--max-in-flight", "0"], "--max-in-flight must be at least 1"),
        (["--variations", "2", "--out", "{tmp}/missing"], "--out must be an existing folder"),
        (["--variations", "2", "--out", "{tmp}/file.mp4"], "--out must be an existing folder"),
        (["--variations", "2", "--prompt", "  "], "empty"),
    ],
)
def test_a_set_that_cannot_be_made_exits_2_before_any_request(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
):
    (tmp_path / "file.mp4").write_bytes(b"not a folder")
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    code, _out, err = generate(capsys, PORTRAIT, SUNSET, "--prompt", "x", *args)
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert live.stats.requests == [] and stored_jobs() == []


def test_one_bad_image_among_several_exits_2_and_nothing_is_sent(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    code, _out, err = generate(capsys, PORTRAIT, str(bad), SUNSET, "--prompt", "x", "--out", str(tmp_path))
    assert code == 2
    assert "notes.png" in err and "not an image" in err
    assert live.stats.requests == [] and stored_jobs() == []
    assert [p.name for p in tmp_path.iterdir()] == ["notes.png"]


def test_max_usd_covers_the_whole_set_and_price_quotes_the_same_set(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["price", "--json", "--resolution", "1080p"]) == 0
    one = json.loads(capsys.readouterr().out)["usd"]
    assert main(["price", "--json", "--resolution", "1080p", "--images", "2", "--variations", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["usd"] == pytest.approx(4 * one)
    assert main(["price", "--variations", "9"]) == 2  # the same limit as generate's
    capsys.readouterr()
    args = [PORTRAIT, SUNSET, "--prompt", "x", "--resolution", "1080p", "--variations", "2", "--out", str(tmp_path)]
    code, _out, err = generate(capsys, *args, "--max-usd", f"{3.5 * one:.4f}")  # one job fits, four do not
    assert code == 2 and "for 4 jobs is over --max-usd" in err
    assert live.create_requests == 0 and stored_jobs() == []


# -- a mix of outcomes, and the one exit code ----------------------------------------------------------------
def test_a_failed_generation_in_the_set_exits_3_and_the_other_clips_are_written(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.fail_generations = 1  # the first create's generation fails (moderation)
    code, out, err = generate(
        capsys,
        *(PORTRAIT, "--prompt", "x", "--resolution", "360p", "--seed", "1", "--variations", "3"),
        *("--max-in-flight", "1", "--out", str(tmp_path), "--json"),
    )
    assert code == 3
    jobs = json.loads(out)["jobs"]
    assert [j["status"] for j in jobs] == ["failed", "completed", "completed"]
    assert jobs[0]["path"] is None and "moderation" in jobs[0]["error"]
    assert all(Path(j["path"]).stat().st_size > 1000 for j in jobs[1:])
    assert summary_of(err)[:3] == (2, 1, 0)
    assert "pixdesk: failed: portrait.png seed 1:" in err


def test_an_unknown_outcome_outranks_a_refusal_exit_4_and_nothing_is_sent_twice(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.logs_lag_seconds = 5.0  # the usage logs are slower than this run is willing to wait
    live.inject("status", "create", status=400, message="Body validation error! prompt: not allowed")
    live.inject("drop_after_accept", "create")  # the second create is accepted, its answer lost
    code, out, err = generate(
        capsys,
        *(PORTRAIT, "--prompt", "x", "--resolution", "360p", "--seed", "1", "--variations", "3"),
        *("--max-in-flight", "1", "--lookup-wait", "0.5", "--out", str(tmp_path), "--json"),
    )
    assert code == 4
    jobs = json.loads(out)["jobs"]
    assert [j["status"] for j in jobs] == ["failed", "unknown", "completed"]
    assert "Body validation error" in jobs[0]["error"] and "dashboard" in jobs[1]["error"]
    assert summary_of(err)[:3] == (1, 1, 1)
    assert "outcome unknown: portrait.png seed 2" in err
    assert live.create_requests == 3 and len(live.generations) == 2  # the lost one was never resent


def test_running_out_of_credits_ends_the_set_at_once_and_the_rest_is_never_sent(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.balance_usd = 0.01  # enough to accept one job; its charge empties the account
    code, out, err = generate(
        capsys,
        *(PORTRAIT, "--prompt", "x", "--resolution", "360p", "--seed", "1", "--variations", "3"),
        *("--max-in-flight", "1", "--out", str(tmp_path), "--json"),
    )
    assert code == 3
    jobs = json.loads(out)["jobs"]
    assert [j["status"] for j in jobs] == ["completed", "failed", "cancelled"]
    assert "credits" in jobs[1]["error"] and jobs[2]["id"] is None and "Not sent" in jobs[2]["error"]
    assert summary_of(err) == (1, 1, 0, ", 1 not sent")
    assert live.create_requests == 2 and len(live.generations) == 1
    saved = {j.request.seed: j for j in stored_jobs()}
    assert saved[3].state is JobState.CANCELLED and saved[3].server_id is None
    assert main(["resume"]) == 0  # nothing of the set is left to be sent later
    assert "Nothing to resume" in capsys.readouterr().out and live.create_requests == 2


@pytest.mark.timeout(60)
def test_a_refused_key_ends_the_set_at_once_and_nothing_is_left_to_send(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    live.api_key = "a-different-key"
    code, out, err = generate(
        capsys,
        *(PORTRAIT, SUNSET, "--prompt", "x", "--resolution", "360p", "--variations", "2"),
        *("--max-in-flight", "2", "--out", str(tmp_path)),
    )
    assert code == 3 and out == ""
    assert "key" in err
    completed, failed, unknown, rest = summary_of(err)
    not_sent = re.fullmatch(r", (\d+) not sent", rest)
    assert (completed, unknown) == (0, 0) and failed >= 1 and not_sent and failed + int(not_sent[1]) == 4
    assert live.generations == {} and live.create_requests <= 2  # at most the creates already on their way
    assert {j.state for j in stored_jobs()} <= {JobState.FAILED, JobState.CANCELLED}
    assert all(j.server_id is None for j in stored_jobs())
    live.api_key = None
    assert main(["resume"]) == 0
    assert "Nothing to resume" in capsys.readouterr().out and live.generations == {}


# -- the in-flight limit ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("saved_limit", "option", "limit"),
    [(2, [], 2), (3, ["--max-in-flight", "1"], 1)],
    ids=["from-settings", "from-the-command-line"],
)
def test_no_more_jobs_than_the_limit_are_ever_at_the_server(
    live: Simulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    saved_limit: int,
    option: list[str],
    limit: int,
):
    save_settings(Settings(max_in_flight=saved_limit))
    live.queue_seconds = 1.5  # long enough that jobs sent together are at the server together
    code, _out, err = generate(
        capsys,
        *(PORTRAIT, SUNSET, "--prompt", "x", "--resolution", "360p", "--variations", "2"),
        *option,
        *("--out", str(tmp_path)),
    )
    assert code == 0, err
    assert len(live.generations) == 4
    assert most_at_once(live) == limit


# -- Ctrl+C -------------------------------------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_ctrl_c_keeps_the_jobs_the_server_has_and_never_sends_the_others(
    live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """The real command in its own process, interrupted as a terminal does (SIGINT) while two jobs are queued at
    the server and two wait for a slot: those two are never sent; the queued ones stay saved and `resume`
    finishes them without a second create."""
    live.queue_seconds = 600
    log = tmp_path / "stderr.txt"
    out_dir = tmp_path / "clips"
    out_dir.mkdir()
    argv = [PORTRAIT, SUNSET, "--prompt", "Stop me", "--resolution", "360p", "--seed", "5", "--variations", "2"]
    with log.open("w") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pixdesk", "generate", *argv, "--max-in-flight", "2", "--out", str(out_dir)],
            stdout=subprocess.DEVNULL,
            stderr=err_file,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        try:
            wait_until(lambda: sum(1 for j in stored_jobs() if j.state is JobState.QUEUED) == 2, timeout=60)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(60) == 130
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = log.read_text()
    assert "interrupted" in err and "Traceback" not in err
    assert summary_of(err) == (
        0,
        0,
        0,
        ", 2 not sent, 2 left at the server (`pixdesk resume` finishes them; they are not sent again)",
    )
    jobs = stored_jobs()
    sent = [j for j in jobs if j.server_id]
    assert len(sent) == 2 and {j.state for j in sent} == {JobState.QUEUED}
    assert {j.state for j in jobs if not j.server_id} == {JobState.CANCELLED}
    assert live.create_requests == 2

    live.queue_seconds = 0
    for gen in list(live.generations.values()):
        gen.queue_seconds = gen.generate_seconds = 0
    assert main(["resume"]) == 0
    assert capsys.readouterr().out.count("completed") == 2
    assert live.create_requests == 2 and len(live.generations) == 2
    assert sorted(j.state for j in stored_jobs()) == sorted([JobState.COMPLETED] * 2 + [JobState.CANCELLED] * 2)
