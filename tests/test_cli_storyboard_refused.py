"""A refused key / empty account during `pixdesk storyboard`: nothing more sent, nothing left for resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from pixdesk.cli import main
from pixdesk.simulator import Simulator
from tests.helpers import stored_jobs, write_keyframes


@pytest.mark.timeout(60)
def test_out_of_credits(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    live.balance_usd = 0.01
    code = main(
        [
            "storyboard",
            *write_keyframes(tmp_path, 4, size=(400, 300)),
            "--prompt",
            "p",
            "--resolution",
            "360p",
            "--max-in-flight",
            "1",
            "--out",
            str(tmp_path / "f.mp4"),
        ]
    )
    err = capsys.readouterr().err
    sent = live.create_requests
    states = [(j.state.value, j.is_film) for j in stored_jobs()]
    live.balance_usd = 100
    main(["resume"])
    capsys.readouterr()
    assert live.create_requests == sent, states
    assert code == 3, err  # DESIGN §3: the API refused (credits) is exit 3


@pytest.mark.timeout(60)
def test_refused_key(live: Simulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    live.api_key = "a-different-key"
    code = main(
        [
            "storyboard",
            *write_keyframes(tmp_path, 4, size=(400, 300)),
            "--prompt",
            "p",
            "--resolution",
            "360p",
            "--max-in-flight",
            "2",
            "--out",
            str(tmp_path / "f.mp4"),
        ]
    )
    err = capsys.readouterr().err
    states = [(j.state.value, j.is_film, j.server_id) for j in stored_jobs()]
    live.api_key = None
    main(["resume"])
    capsys.readouterr()
    assert live.generations == {}, states
    assert code == 3, err  # DESIGN §3: the API refused (auth) is exit 3
