"""Streaming, resumable, verified download of a finished video.

The bytes go to `<dest>.part`; a broken connection leaves the part file for a `Range` resume;
only a complete, playable MP4 is renamed (atomically) to `dest`: its size matches what was announced
and its ISO-BMFF box structure is sound (`check_mp4_structure`).

The video host is not trusted more than the API: it may drip, stream without end, answer with a web
page or close early. So the download has an overall deadline, never writes more than the announced
size (or `max_bytes` when nothing is announced), and every "this is not the video" outcome is a
*retryable* DownloadError: the job engine retries, then marks the job stalled, never failed.
The CDN gets no Authorization header: the API key is for the API only.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from pixdesk.api.client import (
    USER_AGENT,
    Deadline,
    Timeouts,
    deadline_scope,
    deadline_timeout,
    describe_network_error,
    error_from_response,
    install_deadline_hooks,
    read_body,
    watch_response,
)
from pixdesk.api.errors import LOCAL_WRITE_ERRNOS, ConnectionFailed, DownloadError, LocalWriteError
from pixdesk.api.responses import check_video_url
from pixdesk.api.text import clean_text

ProgressCallback = Callable[[int, int | None], None]
CHUNK = 256 * 1024
DOWNLOAD_TOTAL_SECONDS = 15 * 60.0
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
# Boxes that may come before `ftyp` (padding only); a file starting with anything else is not an MP4.
PADDING_BOXES = frozenset({b"free", b"skip", b"wide"})
MAX_BOXES = 10_000


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


Box = tuple[bytes, int, int, int]  # type, offset, size, header length


def _boxes(fh: BinaryIO, start: int, end: int) -> tuple[list[Box], str | None]:
    """The boxes that tile bytes [start, end) of `fh`, or the reason they do not."""
    boxes: list[Box] = []
    pos = start
    while pos < end:
        if len(boxes) >= MAX_BOXES:
            return boxes, f"more than {MAX_BOXES:,} boxes"
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8 or pos + 8 > end:
            return boxes, f"the file is cut inside a box header at byte {pos:,}"
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:
            large = fh.read(8)
            if len(large) < 8 or pos + 16 > end:
                return boxes, f"the file is cut inside a box header at byte {pos:,}"
            (size,) = struct.unpack(">Q", large)
            header = 16
        elif size == 0:
            size = end - pos
        if not all(0x20 <= b <= 0x7E for b in kind):
            return boxes, f"bytes that are not an MP4 box at byte {pos:,}"
        name = kind.decode("ascii")
        if size < header:
            return boxes, f"box '{name}' at byte {pos:,} has an impossible size ({size:,})"
        if pos + size > end:
            return boxes, f"the file is cut: box '{name}' at byte {pos:,} needs {size:,} bytes, {end - pos:,} are there"
        boxes.append((kind, pos, size, header))
        pos += size
    return boxes, None


def check_mp4_structure(path: Path) -> str | None:
    """None when `path` is a structurally complete MP4, else why not (short, for a message).

    The top-level boxes must exactly tile the file (32-bit sizes, 64-bit `largesize`, 0 = to the end),
    start with `ftyp` (padding boxes aside), and hold both `moov` (the index a player needs) and `mdat`
    (the media); `moov` must itself tile and hold `mvhd` and at least one `trak`. This catches an HTML
    page, a truncated body and a file cut before its index, which a four-byte `ftyp` sniff does not.
    """
    try:
        size = path.stat().st_size
        if size < 8:
            return f"only {size} bytes"
        with path.open("rb") as fh:
            if fh.read(8)[4:8] not in PADDING_BOXES | {b"ftyp"}:
                return "it does not start like an MP4 (no 'ftyp' box)"  # an HTML page, typically
            boxes, problem = _boxes(fh, 0, size)
            if problem:
                return problem
            kinds = [kind for kind, *_ in boxes]
            first = next((kind for kind in kinds if kind not in PADDING_BOXES), None)
            if first != b"ftyp":
                return "it does not start like an MP4 (no 'ftyp' box)"
            for needed in (b"moov", b"mdat"):
                if needed not in kinds:
                    return f"it has no '{needed.decode()}' box"
            _, offset, box_size, header = boxes[kinds.index(b"moov")]
            children, problem = _boxes(fh, offset + header, offset + box_size)
            if problem:
                return f"its 'moov' box is broken: {problem}"
            inner = {kind for kind, *_ in children}
            if b"mvhd" not in inner or b"trak" not in inner:
                return "its 'moov' box has no movie header or no track"
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or type(exc).__name__})"
    return None


def _total_from(resp: requests.Response, offset: int) -> int | None:
    if resp.status_code == 206:
        match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", resp.headers.get("Content-Range", ""))
        if match and match.group(3) != "*":
            return int(match.group(3))
    length = resp.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (offset if resp.status_code == 206 else 0)
    return None


def _range_start(resp: requests.Response) -> int | None:
    match = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else None


def _refuse(part: Path, message: str) -> DownloadError:
    """A retryable error for bytes that are not (part of) the video: the part file goes too."""
    part.unlink(missing_ok=True)
    return DownloadError(message, retryable=True)


def download_video(
    url: str,
    dest: Path,
    *,
    session: requests.Session | None = None,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    timeouts: Timeouts | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    total_seconds: float = DOWNLOAD_TOTAL_SECONDS,
) -> Path:
    """Fetch `url` into `dest`; raises ConnectionFailed/RequestTimeout (resumable) or DownloadError.

    `expected_size` is the size the API announced; `max_bytes` caps the file whatever is announced;
    `total_seconds` bounds the whole call (`timeouts` bounds each connect and read).
    """
    check_video_url(url)
    own_session = session is None
    sess = session or requests.Session()
    install_deadline_hooks(sess)
    timeouts = timeouts or Timeouts(read=60.0)
    part = part_path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        offset = part.stat().st_size if part.exists() else 0
    except OSError as exc:
        raise _local_write_error(exc, dest) from None
    # identity: resume offsets and sizes are about the file's bytes, not a compressed stream's.
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    host = urlsplit(url).netloc
    total: int | None = None
    try:
        with deadline_scope(total_seconds) as deadline:
            try:
                with sess.get(url, headers=headers, stream=True, timeout=timeouts.as_tuple()) as resp:
                    watch_response(deadline, resp)
                    total = _receive(
                        resp, part, offset, expected_size, max_bytes, progress, should_stop, deadline, host
                    )
            except requests.RequestException as exc:
                if deadline.expired:
                    raise deadline_timeout(host, deadline) from None
                raise describe_network_error(exc, host) from None
            except (OSError, urllib3.exceptions.HTTPError) as exc:
                if isinstance(exc, OSError) and exc.errno in LOCAL_WRITE_ERRNOS:
                    raise _local_write_error(exc, dest) from None
                if deadline.expired:
                    raise deadline_timeout(host, deadline) from None
                reason = clean_text(str(exc), 200)
                raise ConnectionFailed(
                    f"The download from {host} broke: {reason}", may_have_reached_server=True
                ) from None
    finally:
        if own_session:
            sess.close()
    size = part.stat().st_size
    known = total if total is not None else expected_size
    if known is not None and size < known:
        raise DownloadError(f"The download stopped at {size:,} of {known:,} bytes; it will resume.", retryable=True)
    if expected_size is not None and size != expected_size:
        raise _refuse(part, f"The video is {size:,} bytes but the server announced {expected_size:,}.")
    if total is not None and size != total:
        raise _refuse(part, f"The video is {size:,} bytes but the server sent {total:,}.")
    problem = check_mp4_structure(part)
    if problem:
        raise _refuse(part, f"The downloaded file is not a playable MP4 video: {problem}. It will be fetched again.")
    try:
        os.replace(part, dest)
    except OSError as exc:
        raise _local_write_error(exc, dest) from None
    return dest


def _local_write_error(exc: OSError, dest: Path) -> LocalWriteError:
    reason = exc.strerror or type(exc).__name__
    return LocalWriteError(
        f"The video cannot be written into {dest.parent} ({reason}). Free some space or choose another library "
        "folder in Settings, then Resume: the server keeps the clip for a while."
    )


def _receive(
    resp: requests.Response,
    part: Path,
    offset: int,
    expected_size: int | None,
    max_bytes: int,
    progress: ProgressCallback | None,
    should_stop: Callable[[], bool] | None,
    deadline: Deadline,
    host: str,
) -> int | None:
    """Check the answer, then stream its body into `part`; returns the size the host announced."""
    if resp.status_code == 416 and offset:
        part.unlink()
        raise DownloadError("The saved part of the video did not match the server's; starting again.", retryable=True)
    if resp.status_code >= 300:
        raise error_from_response(resp, read_body(resp, 4096, deadline, host))
    if resp.status_code != 206:
        offset = 0  # the host ignored the Range: the whole file comes again
    elif _range_start(resp) != offset:
        raise _refuse(part, "The video host resumed at the wrong place; starting again.")
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml"):
        raise DownloadError(f"{host} sent a web page instead of the video; it will be tried again.", retryable=True)
    total = _total_from(resp, offset)
    if expected_size is not None and total is not None and total != expected_size:
        raise _refuse(part, f"The video host offers {total:,} bytes but the server announced {expected_size:,}.")
    limit = total if total is not None else expected_size
    if limit is not None and limit > max_bytes:
        raise _refuse(part, f"The video is announced at {limit:,} bytes, over the {max_bytes:,}-byte limit.")
    if offset > (limit if limit is not None else max_bytes):
        raise _refuse(part, "The saved part of the video is larger than the video; starting again.")
    done = offset
    head = b""
    with part.open("ab" if offset else "wb") as fh:
        if progress:
            progress(done, total)
        while True:
            if should_stop and should_stop():
                raise DownloadError("Download stopped.", retryable=False)
            if deadline.expired:
                raise deadline_timeout(host, deadline)  # the bytes so far are kept: a later call resumes
            # read1 hands over whatever arrived, so a cut connection keeps every byte received.
            chunk = resp.raw.read1(CHUNK)
            if not chunk:
                break
            room = (limit if limit is not None else max_bytes) - done
            if len(chunk) > room:
                fh.close()
                if limit is not None:
                    raise _refuse(part, f"The video host sent more than the {limit:,} bytes announced.")
                raise _refuse(part, f"The video host sent more than {max_bytes:,} bytes; that is not our video.")
            if offset == 0 and len(head) < 8:
                head += chunk[: 8 - len(head)]
                if len(head) == 8 and head[4:8] not in PADDING_BOXES | {b"ftyp"}:
                    fh.close()
                    raise _refuse(part, "The downloaded file is not a playable MP4 video: it does not start like one.")
            fh.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        if deadline.fired:  # the watchdog's shutdown looks like an end of body
            raise deadline_timeout(host, deadline)
        fh.flush()
        os.fsync(fh.fileno())
    return total
