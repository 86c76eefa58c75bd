"""Ctrl+C during `pixdesk lipsync` before the job is sent (the clip is still being prepared): a later
`pixdesk resume` must not send it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path

import pytest

from pixdesk.api import media_inputs
from pixdesk.cli import _generate, main
from pixdesk.config import load_settings
from pixdesk.jobs.lipsync import speak_request
from pixdesk.runtime import Runtime
from pixdesk.simulator import Simulator
from tests.conftest import TEST_KEY
from tests.helpers import stored_jobs


def a_clip(tmp_path: Path) -> Path:
    import av
    import numpy as np

    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(24):
            frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), i * 8, dtype=np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def test_ctrl_c_while_a_lipsync_is_prepared_leaves_nothing_for_resume(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("AIMLAPI_KEY", TEST_KEY)
    monkeypatch.setenv("AIMLAPI_BASE_URL", sim.url)
    preparing = threading.Event()
    original = media_inputs.inspect_media

    def slow_inspect(*a, **k):  # type: ignore[no-untyped-def]
        preparing.set()
        time.sleep(0.5)  # a big clip takes a moment to check and encode
        return original(*a, **k)

    monkeypatch.setattr(media_inputs, "inspect_media", slow_inspect)
    request = speak_request(str(a_clip(tmp_path)), line="Hello there", voice="Oliver")

    async def interrupted() -> None:
        runtime = Runtime(load_settings())
        task = asyncio.ensure_future(_generate(runtime, request, 5.0))
        while not preparing.is_set():
            await asyncio.sleep(0.01)
        task.cancel()  # what asyncio.run does on Ctrl+C
        with contextlib.suppress(asyncio.CancelledError):
            await task
        runtime.close()

    asyncio.run(interrupted())
    assert sim.create_requests == 0
    monkeypatch.setattr(media_inputs, "inspect_media", original)
    left = [(j.id[:8], j.state.value, j.request.model) for j in stored_jobs() if not j.is_final]
    main(["resume"])
    capsys.readouterr()
    assert sim.create_requests == 0, f"resume sent the lip-sync the interrupted run left: {left}"
