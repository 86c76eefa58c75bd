"""`pixdesk storyboard --timeout` runs out while the parts are at the server: `pixdesk resume` finishes them
and joins the film, as the CLI says."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixdesk.cli import main
from pixdesk.jobs import JobState
from pixdesk.simulator import Simulator
from tests.helpers import stored_jobs, write_keyframes


def test_resume_joins_the_film_after_a_timeout(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    sim = live
    sim.generate_seconds = 3.0
    frames = write_keyframes(tmp_path, size=(400, 300))
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
