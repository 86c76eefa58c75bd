"""Turn a picked clip or recording into the `video_url` / `audio_url` lip-sync accepts.

Checked like images: by what the bytes are (not the name), empty and oversized files refused with a
reason, an http(s) URL passed through. A local file becomes a base64 data URI; its size is capped so a
create uploads in seconds. Optionally its length is checked too (`max_seconds`), by reading its header with
PyAV, so a clip the service would refuse is refused here, before any money is at stake. Blocking: call it off
the UI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pixdesk.api.errors import InputError
from pixdesk.api.images import DataUri, _b64, is_web_url

VIDEO_MAX_BYTES = 50 * 1000 * 1000
AUDIO_MAX_BYTES = 20 * 1000 * 1000
MediaKind = Literal["video", "audio"]


class MediaRejected(InputError, ValueError):
    """The clip or recording cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class PreparedMedia:
    url: str
    mime: str
    payload_bytes: int


def sniff_video(head: bytes) -> str | None:
    """The MIME type of a clip from its first bytes: MP4/MOV (an `ftyp` box) or WebM (EBML)."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:10] == b"qt" else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return None


def sniff_audio(head: bytes) -> str | None:
    """WAV (RIFF/WAVE), MP3 (an ID3 tag or an MPEG frame sync) or M4A (an `ftyp` box of an audio brand)."""
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:11] in (b"M4A", b"M4B", b"mp4", b"iso", b"dash"):
        return "audio/mp4"
    return None


_WHAT = {
    "video": ("clip", "MP4, MOV or WebM", VIDEO_MAX_BYTES),
    "audio": ("recording", "WAV, MP3 or M4A", AUDIO_MAX_BYTES),
}


def media_seconds(path: str | os.PathLike[str]) -> float | None:
    """How long a local clip or recording lasts, from its header; None when the file does not say."""
    import av  # here, not at the top: only a length check needs the decoder library

    with av.open(os.fspath(path)) as container:
        if container.duration:
            return container.duration / 1_000_000
        lengths = [float(s.duration * s.time_base) for s in container.streams if s.duration and s.time_base]
        return max(lengths) if lengths else None


def inspect_media(
    path: str | os.PathLike[str], kind: MediaKind, *, limit: int | None = None, max_seconds: float | None = None
) -> tuple[str, int]:
    """(MIME type, size) of a local clip or recording; raises MediaRejected with the reason.

    `limit` overrides the size cap of its kind (in bytes); with `max_seconds` the file must also be readable
    and last no longer than that.
    """
    what, formats, default_limit = _WHAT[kind]
    limit = default_limit if limit is None else limit
    p = Path(path)
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise MediaRejected(f"{p.name} is a folder, not a {what}.")
        with p.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        raise MediaRejected(f"{p.name}: file not found.") from None
    except OSError as exc:
        raise MediaRejected(f"{p.name}: cannot be read ({exc.strerror or exc}).") from None
    if size == 0:
        raise MediaRejected(f"{p.name} is empty (0 bytes).")
    mime = sniff_video(head) if kind == "video" else sniff_audio(head)
    if mime is None:
        raise MediaRejected(f"{p.name} is not a {what} PixDesk can send (use {formats}).")
    if size > limit:
        raise MediaRejected(f"{p.name} is {size / 1e6:.1f} MB; a {what} can be at most {_megabytes(limit)}.")
    if max_seconds is not None:
        import av  # here, not at the top: only a length check needs the decoder library

        try:
            seconds = media_seconds(p)
        except (av.FFmpegError, OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise MediaRejected(f"{p.name} cannot be read as a {what} ({reason}).") from None
        if seconds is None:
            raise MediaRejected(f"{p.name} does not say how long it is; it may be damaged.")
        if seconds > max_seconds:
            raise MediaRejected(f"{p.name} lasts {seconds:.1f} s; a {what} can last at most {max_seconds:g} s.")
    return mime, size


def _megabytes(limit: int) -> str:
    return f"{limit // 1_000_000} MB" if limit >= 1_000_000 else f"{limit:,} bytes"


def prepare_media(
    source: str | os.PathLike[str], kind: MediaKind, *, limit: int | None = None, max_seconds: float | None = None
) -> PreparedMedia:
    """The URL to send for `source`: an http(s) URL as it is, a local file as a checked data URI (see
    inspect_media for `limit` and `max_seconds`)."""
    text = os.fspath(source)
    if is_web_url(text):
        return PreparedMedia(text.strip(), "", 0)
    mime, _ = inspect_media(text, kind, limit=limit, max_seconds=max_seconds)
    data = Path(text).read_bytes()
    return PreparedMedia(DataUri(f"data:{mime};base64," + _b64(data)), mime, len(data))
