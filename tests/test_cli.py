"""The headless CLI, in-process through `pixdesk.cli.main`, with each exit code."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from pixdesk.cli import main
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


@pytest.fixture
def live(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> Simulator:
    """Point the CLI at a simulator as if it were the real API (key and base URL from the environment)."""
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    return sim


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


def test_unknown_outcome_exits_4_and_says_so(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    live.inject("drop_after_accept", "create")
    code = main(["generate", str(SAMPLES / "portrait.png"), "--prompt", "x", "--out", str(tmp_path / "a.mp4")])
    assert code == 4
    err = capsys.readouterr().err
    assert "unknown" in err and "dashboard" in err
    assert live.create_requests == 1


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
