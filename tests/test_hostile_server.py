"""A hostile or broken server, for real: the simulator drips, streams without end, sends a web page
instead of the video, closes early, and says nasty things in its error messages. The client must cut
every call at its deadline, never fill the disk, refuse anything but a complete MP4 (retryably), and
show only clean text without the key."""

from __future__ import annotations

import base64
import socket
import threading
import time
import unicodedata
from pathlib import Path

import pytest

from pixdesk.api.client import ApiClient, Timeouts
from pixdesk.api.download import check_mp4_structure, download_video, part_path
from pixdesk.api.errors import (
    ApiError,
    AuthenticationError,
    DownloadError,
    MalformedResponseError,
    RequestTimeout,
    ServerError,
)
from pixdesk.api.request import GenerationRequest
from pixdesk.api.responses import VideoFile
from pixdesk.simulator import Simulator
from tests.conftest import TEST_KEY, png_bytes

QUICK = Timeouts(connect=2, read=5, total=1)  # every single read is "in time": only the total can cut


def finished_video(sim: Simulator, client: ApiClient) -> VideoFile:
    sim.queue_seconds = sim.generate_seconds = 0
    image = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    created = client.create(GenerationRequest(image="x", prompt="p", resolution="360p").to_body(image))
    sim.generations[created.id].render.result(timeout=60)  # type: ignore[union-attr]
    status = client.status(created.id)
    assert status.video is not None
    return status.video


def fake_file(sim: Simulator, name: str, data: bytes) -> str:
    (sim.workdir / name).write_bytes(data)
    return f"{sim.url}/files/{name}"


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


FTYP = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
MOOV = box(b"moov", box(b"mvhd", b"\x00" * 100) + box(b"trak", box(b"tkhd", b"\x00" * 84)))
MDAT = box(b"mdat", b"\x01" * 500)


def visible_only(text: str) -> bool:
    """No control (Cc) or format (Cf: bidi, zero-width) character anywhere."""
    return all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


# -- overall deadlines -----------------------------------------------------------------------------
def test_a_dripping_poll_answer_is_cut_at_the_deadline(sim: Simulator):
    sim.inject("drip", "poll", seconds=0.2)  # ~70 bytes: 14 s, each byte well within the read timeout
    api = ApiClient(sim.url, TEST_KEY, timeouts=QUICK)
    start = time.monotonic()
    with pytest.raises(RequestTimeout) as info:
        api.status("some:pixverse/v5/image-to-video")
    assert time.monotonic() - start < 3
    assert info.value.may_have_reached_server is True  # so only an idempotent call is retried


def test_a_server_slow_to_send_headers_is_cut_at_the_deadline(sim: Simulator):
    sim.inject("hang", "billing", seconds=4)  # then it would answer normally, within the read timeout
    api = ApiClient(sim.url, TEST_KEY, timeouts=QUICK)
    start = time.monotonic()
    with pytest.raises(RequestTimeout):
        api.balance()
    assert time.monotonic() - start < 3
    assert api.balance().currency == "USD"  # the client is still usable after a cut


def test_an_endless_json_answer_is_cut_at_the_deadline(sim: Simulator):
    sim.inject("endless", "poll", seconds=0.02)  # 1 KB of padding every 20 ms, for ever
    api = ApiClient(sim.url, TEST_KEY, timeouts=QUICK)
    start = time.monotonic()
    with pytest.raises(RequestTimeout):
        api.status("some:pixverse/v5/image-to-video")
    assert time.monotonic() - start < 3


def test_a_fast_endless_json_answer_stops_at_the_size_cap(sim: Simulator):
    sim.inject("endless", "poll")
    api = ApiClient(sim.url, TEST_KEY, timeouts=Timeouts(connect=2, read=5, total=30))
    with pytest.raises(MalformedResponseError, match="too large"):
        api.status("some:pixverse/v5/image-to-video")


def test_a_dripping_download_is_cut_at_the_deadline_and_keeps_its_part(sim: Simulator, tmp_path: Path):
    url = fake_file(sim, "drip.mp4", FTYP + MOOV + MDAT)
    sim.inject("drip", "download", seconds=0.05)  # ~900 bytes: 45 s
    dest = tmp_path / "out.mp4"
    start = time.monotonic()
    with pytest.raises(RequestTimeout):
        download_video(url, dest, timeouts=Timeouts(connect=2, read=5), total_seconds=1)
    assert time.monotonic() - start < 3
    assert not dest.exists()
    assert 0 < part_path(dest).stat().st_size < len(FTYP + MOOV + MDAT)  # kept: the next call resumes
    assert download_video(url, dest).read_bytes() == FTYP + MOOV + MDAT


def test_an_endless_download_never_writes_more_than_the_cap(sim: Simulator, tmp_path: Path):
    url = fake_file(sim, "endless.mp4", FTYP + MOOV + MDAT)
    sim.inject("endless", "download")
    dest = tmp_path / "out.mp4"
    cap = 1024 * 1024
    on_disk: list[int] = []

    def progress(done: int, total: int | None) -> None:
        on_disk.append(part_path(dest).stat().st_size if part_path(dest).exists() else 0)

    with pytest.raises(DownloadError) as info:
        download_video(url, dest, max_bytes=cap, progress=progress)
    assert info.value.retryable
    assert on_disk and max(on_disk) <= cap and len(on_disk) > 3  # it did stream, and stopped at the cap
    assert not dest.exists() and not part_path(dest).exists()


def test_a_slow_endless_download_is_cut_at_the_deadline(sim: Simulator, tmp_path: Path):
    url = fake_file(sim, "endless.mp4", FTYP + MOOV + MDAT)
    sim.inject("endless", "download", seconds=0.05)
    dest = tmp_path / "out.mp4"
    start = time.monotonic()
    with pytest.raises(RequestTimeout):
        download_video(url, dest, total_seconds=1)
    assert time.monotonic() - start < 3
    assert not dest.exists()


# -- what the video host sends ---------------------------------------------------------------------
def test_an_html_page_from_the_video_host_is_a_retryable_error(sim: Simulator, tmp_path: Path):
    url = fake_file(sim, "clip.mp4", FTYP + MOOV + MDAT)
    sim.inject("html", "download")
    dest = tmp_path / "out.mp4"
    with pytest.raises(DownloadError, match="web page") as info:
        download_video(url, dest)
    assert info.value.retryable  # the engine retries, then stalls the job: never "failed"
    assert not dest.exists() and not part_path(dest).exists()
    assert download_video(url, dest).read_bytes() == FTYP + MOOV + MDAT


def test_an_html_body_labelled_as_video_is_a_retryable_error(sim: Simulator, tmp_path: Path):
    url = fake_file(sim, "page.mp4", b"<!doctype html><html><body>Access denied</body></html>" * 20)
    with pytest.raises(DownloadError, match="not a playable MP4") as info:
        download_video(url, tmp_path / "out.mp4")
    assert info.value.retryable
    assert not (tmp_path / "out.mp4").exists() and not part_path(tmp_path / "out.mp4").exists()


def test_a_truncated_body_without_length_is_refused_and_removed(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    size = video.file_size or 0
    sim.inject("truncate", "download", after_bytes=size // 2)  # starts like the MP4, closes cleanly
    dest = tmp_path / "out.mp4"
    with pytest.raises(DownloadError, match="not a playable MP4") as info:
        download_video(video.url, dest)  # no size known: only the structure tells
    assert info.value.retryable
    assert not dest.exists() and not part_path(dest).exists()


def test_a_truncated_body_of_a_known_size_resumes(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    size = video.file_size or 0
    sim.inject("truncate", "download", after_bytes=size // 3)
    dest = tmp_path / "out.mp4"
    with pytest.raises(DownloadError, match="stopped at") as info:
        download_video(video.url, dest, expected_size=size)
    assert info.value.retryable
    assert not dest.exists() and part_path(dest).stat().st_size == size // 3
    download_video(video.url, dest, expected_size=size)
    assert dest.read_bytes() == (sim.workdir / (video.file_name or "")).read_bytes()


def test_ftyp_without_moov_or_mdat_is_refused(sim: Simulator, tmp_path: Path):
    url = fake_file(sim, "hollow.mp4", FTYP + box(b"free", b"\x00" * 64) + MDAT)
    with pytest.raises(DownloadError, match="moov") as info:
        download_video(url, tmp_path / "out.mp4")
    assert info.value.retryable
    assert not (tmp_path / "out.mp4").exists() and not part_path(tmp_path / "out.mp4").exists()


def test_a_real_simulator_mp4_is_structurally_sound(sim: Simulator, client: ApiClient, tmp_path: Path):
    video = finished_video(sim, client)
    dest = download_video(video.url, tmp_path / "out.mp4", expected_size=video.file_size)
    assert check_mp4_structure(dest) is None
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(dest.read_bytes()[: -(video.file_size or 2) // 2])
    assert check_mp4_structure(cut) is not None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (FTYP + MOOV + MDAT, None),
        (box(b"free") + FTYP + MOOV + MDAT, None),
        (FTYP + MOOV + b"\x00\x00\x00\x00mdat" + b"\x02" * 300, None),  # size 0: to the end of the file
        (FTYP + MOOV + b"\x00\x00\x00\x01mdat" + (16 + 40).to_bytes(8, "big") + b"\x03" * 40, None),  # largesize
        (FTYP + MDAT, "moov"),
        (FTYP + MOOV, "mdat"),
        (MOOV + FTYP + MDAT, "ftyp"),
        (FTYP + MOOV + MDAT[:-10], "cut"),
        (FTYP + MOOV + MDAT + b"\x00\x00", "cut inside a box header"),
        (FTYP + box(b"moov", box(b"free")) + MDAT, "movie header"),
        (FTYP + b"\x00\x00\x00\x04moov" + MDAT, "impossible size"),
        (b"<html><body>nope</body></html>", "ftyp"),
        (FTYP + MOOV + b"\x00\x00\x01\x00\xff\xfe\x00\x01" + b"\x00" * 248, "not an MP4 box"),
        (b"", "only 0 bytes"),
    ],
)
def test_mp4_structure_check(tmp_path: Path, data: bytes, reason: str | None):
    path = tmp_path / "x.mp4"
    path.write_bytes(data)
    result = check_mp4_structure(path)
    if reason is None:
        assert result is None
    else:
        assert result is not None and reason in result


# -- what the server says --------------------------------------------------------------------------
NASTY = "\x1b[31mBoom\x1b[0m\x07 \u202eevil\u202c\x00 line\nbreak\t\x1b]0;owned\x07 \u200bok\x9b2J"


def test_an_error_message_with_escapes_and_controls_is_shown_clean(sim: Simulator, client: ApiClient):
    sim.inject("status", "billing", status=500, message=NASTY)
    with pytest.raises(ServerError) as info:
        client.balance()
    assert info.value.message == "Boom evil line break ok"
    assert visible_only(str(info.value)) and visible_only(repr(info.value))


def test_a_failed_generations_error_is_shown_clean(sim: Simulator, client: ApiClient):
    image = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()
    created = client.create(GenerationRequest(image="x", prompt="p", resolution="360p").to_body(image))
    patch = {"status": "\x1b[2Kerror\u2066", "error": {"name": "\x1b[1mBad\u202e", "message": NASTY}}
    sim.inject("rewrite", "poll", patch=patch)
    status = client.status(created.id)
    assert status.status == "error" and status.error_name == "Bad"
    assert status.error_message == "Boom evil line break ok"
    assert status.id == created.id  # the id is kept exact


def test_the_key_echoed_by_the_server_is_never_shown(sim: Simulator):
    sim.api_key = "another-key-entirely"
    api = ApiClient(sim.url, TEST_KEY)
    sim.inject("status", "create", status=401, echo_key=True)  # "... Authorization: Bearer <key>"
    sim.inject("status", "billing", status=403, message=f"Key {TEST_KEY} is out of credits")
    hidden = TEST_KEY[:6] + "\u200b" + TEST_KEY[6:]  # split by an invisible character
    sim.inject("status", "billing", status=500, message=f"upstream said: key={hidden}")
    errors: list[ApiError] = []
    with pytest.raises(AuthenticationError) as auth:
        api.create({"model": "pixverse/v5/image-to-video", "prompt": "p", "image_url": "https://x/y.png"})
    errors.append(auth.value)
    for _ in range(2):
        with pytest.raises(ApiError) as info:
            api.balance()
        errors.append(info.value)
    for error in errors:
        for shown in (str(error), repr(error), error.message):
            assert TEST_KEY not in shown and TEST_KEY[6:] not in shown
        assert "***" in error.message
    assert "Bearer ***" in errors[0].message


# -- the simulator itself --------------------------------------------------------------------------
def _open_stream(sim: Simulator, path: str) -> tuple[socket.socket, bytes]:
    """A raw client that sends one request and reads just the response headers."""
    port = int(sim.url.rsplit(":", 1)[1])
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TEST_KEY}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        byte = conn.recv(1)
        assert byte, "closed before the headers"
        head += byte
    return conn, head


def _handler_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "process_request" in t.name}


def test_the_simulator_serves_others_while_dripping_and_ends_when_the_client_leaves(sim: Simulator, client: ApiClient):
    before = _handler_threads()
    sim.inject("drip", "poll", seconds=0.1)
    conn, head = _open_stream(sim, "/v2/video/generations?generation_id=x")
    assert head.startswith(b"HTTP/1.0 200") and conn.recv(1) == b"{"
    assert client.balance().currency == "USD"  # another client is answered meanwhile
    dripping = _handler_threads() - before
    conn.close()
    for thread in dripping:
        thread.join(timeout=5)
        assert not thread.is_alive()  # the hang-up ended the server's loop


def test_stopping_the_simulator_ends_an_endless_stream():
    server = Simulator(queue_seconds=0.1, generate_seconds=0.1).start()
    (server.workdir / "e.mp4").write_bytes(FTYP + MOOV + MDAT)
    server.inject("endless", "download", seconds=0.05)
    before = _handler_threads()
    conn, head = _open_stream(server, "/files/e.mp4")
    assert head.startswith(b"HTTP/1.0 200") and b"Content-Length" not in head
    streaming = _handler_threads() - before
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 2
    for thread in streaming:
        thread.join(timeout=5)
        assert not thread.is_alive()
    with conn:
        while conn.recv(65536):  # the stream ends: the server closed it
            pass
