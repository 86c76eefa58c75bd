"""Parsing of the server's answers. Hostile or odd input ends in a typed error, never a crash.

Every string that may be shown to the user (status word, error name and message, file name, currency)
goes through `clean_text`: no terminal escapes, controls, bidi tricks or echoed secrets. The generation
id is the exception: it is sent back to the server, so it is kept exact, and refused when it holds
characters no honest id has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from pixdesk.api.errors import MalformedResponseError
from pixdesk.api.text import clean_text, has_controls
from pixdesk.api.usage import usd_spent


class Outcome(Enum):
    WORKING = "working"
    DONE = "done"
    FAILED = "failed"


DONE_WORDS = frozenset({"completed", "succeeded", "success", "done"})
FAILED_WORDS = frozenset({"error", "failed", "failure", "cancelled", "canceled", "rejected"})
MAX_WORD = 40


def classify(status: str) -> Outcome:
    word = status.strip().lower()
    if word in DONE_WORDS:
        return Outcome.DONE
    if word in FAILED_WORDS:
        return Outcome.FAILED
    return Outcome.WORKING


@dataclass(frozen=True)
class VideoFile:
    url: str
    content_type: str | None = None
    file_name: str | None = None
    file_size: int | None = None


@dataclass(frozen=True)
class GenerationStatus:
    id: str
    status: str
    video: VideoFile | None = None
    error_name: str | None = None
    error_message: str | None = None
    credits_used: float | None = None
    usd_spent: float | None = None

    @property
    def outcome(self) -> Outcome:
        return classify(self.status)


@dataclass(frozen=True)
class Balance:
    amount: float
    currency: str


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponseError(f"The server's answer is not a JSON object ({what}).")
    return value


def _opt_str(value: Any, limit: int = 2000) -> str | None:
    """A cleaned, shown string, or None when the value is not text or nothing visible is left."""
    if isinstance(value, str):
        return clean_text(value, limit) or None
    return None


def _credits(data: dict[str, Any]) -> float | None:
    meta = data.get("meta")
    usage = meta.get("usage") if isinstance(meta, dict) else None
    value = usage.get("credits_used") if isinstance(usage, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def _id(data: dict[str, Any]) -> str:
    raw = data.get("id", data.get("generation_id"))
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 512:
        raise MalformedResponseError("The server's answer has no usable generation id.")
    if has_controls(raw):
        # Kept exact (it is sent back), so it cannot be cleaned: an id with controls is not an id.
        raise MalformedResponseError("The server's answer has a generation id with control characters.")
    return raw


def _status_word(data: dict[str, Any]) -> str:
    raw = data.get("status")
    word = clean_text(raw, MAX_WORD) if isinstance(raw, str) else ""
    if not word:
        raise MalformedResponseError("The server's answer has no status.")
    return word


def parse_created(data: Any) -> GenerationStatus:
    obj = _obj(data, "create")
    return GenerationStatus(
        id=_id(obj), status=_status_word(obj) if obj.get("status") else "queued", credits_used=_credits(obj)
    )


def parse_status(data: Any) -> GenerationStatus:
    obj = _obj(data, "status")
    status = _status_word(obj)
    video = None
    raw_video = obj.get("video")
    if isinstance(raw_video, list) and raw_video:
        raw_video = raw_video[0]
    if isinstance(raw_video, dict):
        url = raw_video.get("url")
        if isinstance(url, str) and url.strip():
            size = raw_video.get("file_size")
            video = VideoFile(
                url=url.strip(),
                content_type=_opt_str(raw_video.get("content_type"), 200),
                file_name=_opt_str(raw_video.get("file_name"), 255),
                file_size=size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None,
            )
    error = obj.get("error")
    error_name = error_message = None
    if isinstance(error, dict):
        error_name = _opt_str(error.get("name"), 200)
        error_message = _opt_str(error.get("message"))
    elif isinstance(error, str):
        error_message = _opt_str(error)
    return GenerationStatus(
        id=_id(obj),
        status=status,
        video=video,
        error_name=error_name,
        error_message=error_message,
        credits_used=_credits(obj),
        usd_spent=usd_spent(obj),
    )


def parse_balance(data: Any) -> Balance:
    obj = _obj(data, "billing")
    amount = obj.get("current_balance", obj.get("balance"))
    if isinstance(amount, str):
        try:
            amount = float(amount)
        except ValueError:
            amount = None
    if not isinstance(amount, int | float) or isinstance(amount, bool) or not math.isfinite(amount):
        raise MalformedResponseError("The billing answer has no balance.")
    currency = _opt_str(obj.get("currency"), 10) or "USD"
    return Balance(float(amount), currency)


def check_video_url(url: str) -> str:
    """Only http(s) URLs are fetched: a `file:` or other scheme, or a link with controls, is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or has_controls(url):
        shown = clean_text(url, 80)
        raise MalformedResponseError(f"The server gave a video address that is not a web link: {shown!r}")
    return url
