"""The simulator renders what it promises: real H.264 with faststart, a look per style, a voice track."""

from __future__ import annotations

import base64
from pathlib import Path

import av
import numpy as np
import pytest

from pixdesk.simulator.render import RenderSpec, render_video, speech_seconds
from tests.conftest import SAMPLES

IMAGE = "data:image/jpeg;base64," + base64.b64encode((SAMPLES / "sunset-mountains.jpg").read_bytes()).decode()


def first_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24").astype(int)


def test_faststart_puts_the_index_first(tmp_path: Path):
    path = render_video(RenderSpec(IMAGE, "360p", 5), tmp_path / "a.mp4")
    head = path.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))


@pytest.mark.parametrize("style", ["anime", "3d_animation", "clay", "comic", "cyberpunk"])
def test_each_style_has_a_visible_look(tmp_path: Path, style: str):
    plain = first_frame(render_video(RenderSpec(IMAGE, "360p", 5), tmp_path / "plain.mp4"))
    styled = first_frame(render_video(RenderSpec(IMAGE, "360p", 5, style=style), tmp_path / "styled.mp4"))
    assert np.abs(plain - styled).mean() > 4


def test_the_camera_moves(tmp_path: Path):
    path = render_video(RenderSpec(IMAGE, "360p", 5), tmp_path / "a.mp4")
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]
    assert len(frames) == 120
    assert np.abs(frames[0] - frames[-1]).mean() > 3


def test_voice_track_length_follows_the_text(tmp_path: Path):
    lengths = []
    for text in ("Hi", "Welcome to the show, everyone, it is lovely to see you all here tonight"):
        path = render_video(RenderSpec(IMAGE, "360p", 8, lip_sync_text=text, speaker="Mason"), tmp_path / "v.mp4")
        with av.open(str(path)) as container:
            audio = container.streams.audio[0]
            samples = sum(f.samples for f in container.decode(audio=0))
            lengths.append(samples / audio.rate)
    assert lengths[0] < 1.5 < lengths[1]
    assert lengths[1] == pytest.approx(
        speech_seconds("Welcome to the show, everyone, it is lovely to see you all here tonight", 8), abs=0.1
    )
