"""`pixdesk storyboard IMG1 IMG2 IMG3... --prompt TEXT --out film.mp4`, in-process against the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from pixdesk.cli import main
from pixdesk.jobs import JobState
from pixdesk.simulator import Simulator
from tests.helpers import stored_jobs, write_keyframes


@pytest.fixture
def keyframes(tmp_path: Path) -> list[str]:
    return write_keyframes(tmp_path, size=(400, 300))


def seconds(path: str | Path) -> float:
    with av.open(str(path)) as container:
        return float(container.duration or 0) / av.time_base


def test_three_keyframes_become_one_film_as_long_as_its_two_parts(
    live: Simulator, keyframes: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "film.mp4"
    code = main(["storyboard", *keyframes, "--prompt", "the light changes", "--resolution", "360p", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert printed.out.strip() == str(out.resolve())
    assert [b["model"] for b in (g.body for g in live.generations.values())] == ["pixverse/v5/transition"] * 2
    jobs = stored_jobs()
    (film,) = [j for j in jobs if j.is_film]
    parts = [j for j in jobs if j.id in film.parts]
    assert [p.state for p in parts] == [JobState.COMPLETED] * 2  # the parts are kept in the library
    assert seconds(out) == pytest.approx(sum(seconds(p.file_path or "") for p in parts), abs=0.2)
    assert "2 transitions" in printed.err


def test_json_lists_the_parts_and_the_film(
    live: Simulator, keyframes: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    out = tmp_path / "film.mp4"
    code = main(["storyboard", *keyframes[:2], "--prompt", "p", "--resolution", "360p", "--out", str(out), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["jobs"]) == 1 and report["jobs"][0]["status"] == "completed"
    assert report["film"]["status"] == "completed" and report["film"]["path"] == str(out)
    assert report["film"]["parts"] == [report["jobs"][0]["client_request_id"]]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--duration", "10"], "invalid choice"),
        (["--resolution", "1080p", "--duration", "8"], "--duration: 1080p videos can only be 5 seconds long"),
    ],
)
def test_bad_options_exit_2_before_anything_is_sent(
    live: Simulator,
    keyframes: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    words: str,
):
    code = main(["storyboard", *keyframes, "--prompt", "p", "--out", str(tmp_path / "f.mp4"), *extra])
    assert code == 2
    assert words in capsys.readouterr().err
    assert live.create_requests == 0


def test_one_keyframe_or_a_bad_picture_is_refused_before_anything_is_sent(
    live: Simulator, keyframes: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    assert main(["storyboard", keyframes[0], "--prompt", "p", "--out", str(tmp_path / "f.mp4")]) == 2
    assert "at least two keyframes" in capsys.readouterr().err
    broken = tmp_path / "broken.png"
    broken.write_text("not a picture")
    assert main(["storyboard", *keyframes, str(broken), "--prompt", "p", "--out", str(tmp_path / "f.mp4")]) == 2
    assert "IMAGE: broken.png" in capsys.readouterr().err
    assert live.create_requests == 0


def test_max_usd_weighs_every_part(
    live: Simulator, keyframes: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code = main(["storyboard", *keyframes, "--prompt", "p", "--max-usd", "0.01", "--out", str(tmp_path / "f.mp4")])
    assert code == 2 and "2 jobs" in capsys.readouterr().err
    assert live.create_requests == 0
