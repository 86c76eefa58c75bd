"""`pixdesk storyboard --timeout` runs out while the parts are at the server: `pixdesk resume` finishes them
and joins the film, as the CLI says."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pixdesk.cli import main
from pixdesk.jobs import JobState
from pixdesk.simulator import Simulator
from tests.conftest import TEST_KEY
from tests.helpers import stored_jobs


def test_resume_joins_the_film_after_a_timeout(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    sim.generate_seconds = 3.0
    frames = []
    for i, c in enumerate(((220, 60, 40), (60, 200, 90), (50, 80, 220))):
        p = tmp_path / f"k{i}.png"
        Image.new("RGB", (400, 300), c).save(p)
        frames.append(str(p))
    code = main(
        [
            "storyboard",
            *frames,
            "--prompt",
            "p",
            "--resolution",
            "360p",
            "--timeout",
            "1.5",
            "--out",
            str(tmp_path / "film.mp4"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 4 and "joins the film" in err, err
    assert sim.create_requests == 2
    main(["resume"])
    capsys.readouterr()
    (film,) = [j for j in stored_jobs() if j.is_film]
    parts = [j for j in stored_jobs() if j.id in film.parts]
    assert [p.state for p in parts] == [JobState.COMPLETED] * 2
    assert film.state is JobState.COMPLETED, f"the CLI promised resume joins the film; it is {film.state.value}"
