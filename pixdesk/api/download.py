"""Streaming, resumable, verified download of a finished video.

The bytes go to `<dest>.part`; a broken connection leaves the part file for a `Range` resume;
only a file whose size matches and which starts like an MP4 is renamed (atomically) to `dest`.
The CDN gets no Authorization header: the API key is for the API only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from pixdesk.api.client import USER_AGENT, Timeouts, describe_network_error, error_from_response
from pixdesk.api.errors import ConnectionFailed, DownloadError
from pixdesk.api.responses import check_video_url

ProgressCallback = Callable[[int, int | None], None]
CHUNK = 256 * 1024
MP4_BRANDS = (b"ftyp",)


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def looks_like_mp4(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(12)
    return len(head) >= 8 and head[4:8] in MP4_BRANDS


def _total_from(resp: requests.Response, offset: int) -> int | None:
    if resp.status_code == 206:
        match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", resp.headers.get("Content-Range", ""))
        if match and match.group(3) != "*":
            return int(match.group(3))
    length = resp.headers.get("Content-Length")
    if length and length.isdigit():
        return int(length) + (offset if resp.status_code == 206 else 0)
    return None


def download_video(
    url: str,
    dest: Path,
    *,
    session: requests.Session | None = None,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    timeouts: Timeouts | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Fetch `url` into `dest`; raises ConnectionFailed (resumable) or DownloadError."""
    check_video_url(url)
    sess = session or requests.Session()
    timeouts = timeouts or Timeouts(read=60.0)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(dest)
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    host = urlsplit(url).netloc
    try:
        with sess.get(url, headers=headers, stream=True, timeout=timeouts.as_tuple()) as resp:
            if resp.status_code == 416 and offset:
                part.unlink()
                raise DownloadError(
                    "The saved part of the video did not match the server's; starting again.", retryable=True
                )
            if resp.status_code >= 300:
                raise error_from_response(resp, resp.raw.read(4096) or b"")
            if resp.status_code == 200:
                offset = 0
            total = _total_from(resp, offset)
            done = offset
            with part.open("ab" if offset else "wb") as fh:
                if progress:
                    progress(done, total)
                # read1 hands over whatever arrived, so a cut connection keeps every byte received.
                for chunk in iter(lambda: resp.raw.read1(CHUNK), b""):
                    if should_stop and should_stop():
                        raise DownloadError("Download stopped.", retryable=False)
                    fh.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
                fh.flush()
                os.fsync(fh.fileno())
    except requests.RequestException as exc:
        raise describe_network_error(exc, host) from None
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        raise ConnectionFailed(f"The download from {host} broke: {exc}", may_have_reached_server=True) from None
    size = part.stat().st_size
    if total is not None and size < total:
        raise DownloadError(f"The download stopped at {size:,} of {total:,} bytes; it will resume.", retryable=True)
    if expected_size is not None and size != expected_size:
        part.unlink()
        raise DownloadError(f"The video is {size:,} bytes but the server announced {expected_size:,}.", retryable=True)
    if total is not None and size != total:
        part.unlink()
        raise DownloadError(f"The video is {size:,} bytes but the server sent {total:,}.", retryable=True)
    if not looks_like_mp4(part):
        part.unlink()
        raise DownloadError("The downloaded file is not an MP4 video.", retryable=False)
    os.replace(part, dest)
    return dest
