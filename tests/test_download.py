"""Streaming download: progress, resume with Range after a cut, verification."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from pixdesk.api.client import ApiClient
from pixdesk.api.download import download_video, part_path
from pixdesk.api.errors import ConnectionFailed, DownloadError, MalformedResponseError
from pixdesk.api.request import GenerationRequest
from pixdesk.simulator import Simulator
from tests.conftest import png_bytes


def finished_video(sim: Simulator, client: ApiClient):
    sim.queue_seconds = sim.generate_seconds = 0
    image = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    created = client.create(GenerationRequest(image="x", prompt="p", resolution="540p").to_body(image))
    sim.generations[created.id].render.result(timeout=60)  # type: ignore[union-attr]
    status = client.status(created.id)
    assert status.video is not None
    return status.video


def test_streams_with_progress_and_renames_when_complete(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    seen: list[tuple[int, int | None]] = []
    dest = download_video(
        video.url, tmp_path / "out.mp4", expected_size=video.file_size, progress=lambda d, t: seen.append((d, t))
    )
    assert dest.stat().st_size == video.file_size and not part_path(dest).exists()
    assert seen[-1] == (video.file_size, video.file_size) and seen[0][0] == 0


def test_a_cut_download_resumes_byte_identical(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    original = (sim.workdir / (video.file_name or "")).read_bytes()
    half = len(original) // 2
    sim.inject("cut", "download", after_bytes=half)
    dest = tmp_path / "out.mp4"
    with pytest.raises((ConnectionFailed, DownloadError)):
        download_video(video.url, dest, expected_size=video.file_size)
    assert not dest.exists()  # a partial file is never shown as complete
    assert part_path(dest).stat().st_size == half
    download_video(video.url, dest, expected_size=video.file_size)
    assert dest.read_bytes() == original
    assert sim.stats.count("download") == 2


def test_a_file_that_is_not_an_mp4_is_refused_retryably(sim: Simulator, tmp_path: Path):
    (sim.workdir / "fake.mp4").write_bytes(b"<html>not a video</html>" * 10)
    with pytest.raises(DownloadError, match="not a playable MP4") as info:
        download_video(f"{sim.url}/files/fake.mp4", tmp_path / "x.mp4")
    assert info.value.retryable  # a CDN hiccup, not a verdict on the job: retried, then stalled
    assert not (tmp_path / "x.mp4").exists() and not part_path(tmp_path / "x.mp4").exists()


def test_size_mismatch_with_the_announced_size_is_refused(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    with pytest.raises(DownloadError, match="announced") as info:
        download_video(video.url, tmp_path / "x.mp4", expected_size=(video.file_size or 0) + 10)
    assert info.value.retryable
    assert not (tmp_path / "x.mp4").exists() and not part_path(tmp_path / "x.mp4").exists()


def test_more_than_the_announced_size_is_never_written(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    smaller = (video.file_size or 0) // 2
    sim.inject("truncate", "download", after_bytes=video.file_size or 0)  # no Content-Length: only ours bounds it
    sizes: list[int] = []
    dest = tmp_path / "x.mp4"
    with pytest.raises(DownloadError, match="more than") as info:
        download_video(
            video.url, dest, expected_size=smaller, progress=lambda d, t: sizes.append(part_path(dest).stat().st_size)
        )
    assert info.value.retryable and max(sizes) <= smaller
    assert not dest.exists() and not part_path(dest).exists()


def test_a_file_over_the_cap_is_refused_before_writing(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    with pytest.raises(DownloadError, match="limit") as info:
        download_video(video.url, tmp_path / "x.mp4", max_bytes=1000)
    assert info.value.retryable and not part_path(tmp_path / "x.mp4").exists()


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/y.mp4", "javascript:alert(1)"])
def test_only_web_links_are_fetched(tmp_path: Path, url: str):
    with pytest.raises(MalformedResponseError):
        download_video(url, tmp_path / "x.mp4")


def test_the_cdn_never_sees_the_api_key(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    seen: dict[str, str] = {}
    original = sim.take_fault

    def spy(endpoint):
        return original(endpoint)

    sim.take_fault = spy  # type: ignore[method-assign]
    import http.server

    handler_cls = http.server.BaseHTTPRequestHandler
    old = handler_cls.handle_one_request

    def capture(self):  # type: ignore[no-untyped-def]
        old(self)
        if getattr(self, "path", "").startswith("/files/"):
            seen["auth"] = self.headers.get("Authorization", "")

    handler_cls.handle_one_request = capture  # type: ignore[method-assign]
    try:
        download_video(video.url, tmp_path / "x.mp4")
    finally:
        handler_cls.handle_one_request = old  # type: ignore[method-assign]
    assert seen == {"auth": ""}
