"""The HTTP client: one `requests.Session`, timeouts always set, errors mapped to typed exceptions.

No automatic retries live here: whether a request may be repeated depends on what it is (a create
that may have reached the server must never be resent), so the job engine decides.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.exceptions

from pixdesk import __version__
from pixdesk.api.catalogue import DEFAULT_MODEL, ModelSpec
from pixdesk.api.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConnectionFailed,
    InsufficientCreditsError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    RequestTimeout,
    ServerError,
)
from pixdesk.api.images import DataUri
from pixdesk.api.responses import Balance, GenerationStatus, parse_balance, parse_created, parse_status

DEFAULT_BASE_URL = "https://api.aimlapi.com"
MAX_JSON_BYTES = 2 * 1024 * 1024
USER_AGENT = f"pixdesk/{__version__}"


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 60.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _plain(text: str, limit: int = 300) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text).strip()[:limit]


def describe_network_error(exc: requests.RequestException, host: str) -> ConnectionFailed:
    """Tell 'your network is down' from 'the server is down' and whether a request may have left us."""
    if isinstance(exc, requests.ConnectTimeout):
        return RequestTimeout(
            f"Could not connect to {host} in time: check your internet connection.", may_have_reached_server=False
        )
    if isinstance(exc, requests.ReadTimeout):
        return RequestTimeout(f"{host} did not answer in time.", may_have_reached_server=True)
    inner: Any = exc.args[0] if exc.args else None
    reason = getattr(inner, "reason", inner)
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return ConnectionFailed(
            f"Cannot look up {host}: check your internet connection.", may_have_reached_server=False
        )
    if isinstance(reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError):
        return ConnectionFailed(
            f"{host} refused the connection: the service may be down.", may_have_reached_server=False
        )
    return ConnectionFailed(f"The connection to {host} broke before an answer arrived.", may_have_reached_server=True)


def error_from_response(resp: requests.Response, body: bytes) -> ApiError:
    status = resp.status_code
    message: str | None = None
    request_id = resp.headers.get("x-request-id")
    path: str | None = None
    detail: object = None
    try:
        data = json.loads(body.decode("utf-8", "replace")) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        raw = data.get("message", data.get("error"))
        if isinstance(raw, list):
            raw = "; ".join(str(x) for x in raw)
        if isinstance(raw, dict):
            raw = raw.get("message")
        if isinstance(raw, str) and raw.strip():
            message = raw.strip()[:2000]
        rid = data.get("requestId")
        request_id = str(rid)[:200] if isinstance(rid, str | int) else request_id
        path = data.get("path") if isinstance(data.get("path"), str) else None
        detail = data.get("errors") or data.get("details")
    if message is None:
        snippet = _plain(body.decode("utf-8", "replace")) if body else ""
        message = f"HTTP {status} {resp.reason or ''}".strip() + (f": {snippet}" if snippet else "")
    kwargs: dict[str, Any] = {"status": status, "request_id": request_id, "path": path, "detail": detail}
    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
    if status == 400 or status == 422:
        return BadRequestError(message, **kwargs)
    if status == 401:
        return AuthenticationError(message, **kwargs)
    if status == 403:
        return InsufficientCreditsError(message, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return ServerError(message, retry_after=retry_after, **kwargs)
    return ApiError(message, **kwargs)


def encode_json_body(body: dict[str, Any]) -> bytes:
    """JSON bytes for a request body. A large data-URI image is spliced in as is: json.dumps would scan
    its megabytes holding the GIL and stall the UI. Our own `DataUri` is known safe; any other string is
    checked first (isascii is O(1); isprintable and the quote/backslash searches are one C pass)."""
    image = body.get("image_url")
    if isinstance(image, str) and len(image) > 65536 and _json_safe(image):
        rest = json.dumps({k: v for k, v in body.items() if k != "image_url"}, ensure_ascii=False)
        head = rest[:-1] + (", " if len(rest) > 2 else "") + '"image_url": "'
        return b"".join((head.encode("utf-8"), image.encode("ascii"), b'"}'))
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _json_safe(text: str) -> bool:
    if isinstance(text, DataUri):
        return True
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


class ApiClient:
    """Talks to the AI/ML API (or the simulator). Thread-safe enough for one request per thread."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeouts: Timeouts | None = None,
        model: ModelSpec = DEFAULT_MODEL,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeouts = timeouts or Timeouts()
        self.model = model
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.host = urlsplit(self.base_url).netloc or self.base_url

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: dict[str, Any] | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = encode_json_body(body)
            headers["Content-Type"] = "application/json"
        try:
            resp = self.session.request(
                method,
                self.base_url + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeouts.as_tuple(),
                stream=True,
                allow_redirects=False,
            )
            with resp:
                raw = resp.raw.read(MAX_JSON_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise describe_network_error(exc, self.host) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ConnectionFailed(
                f"The connection to {self.host} broke: {type(exc).__name__}", may_have_reached_server=True
            ) from None
        if resp.status_code >= 300:
            raise error_from_response(resp, raw[:MAX_JSON_BYTES])
        if len(raw) > MAX_JSON_BYTES:
            raise MalformedResponseError("The server's answer is too large to be a status.", status=resp.status_code)
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            snippet = _plain(raw.decode("utf-8", "replace"), 120)
            raise MalformedResponseError(
                f"The server's answer is not JSON: {snippet!r}",
                status=resp.status_code,
                request_id=resp.headers.get("x-request-id"),
            ) from None

    def create(self, body: dict[str, Any]) -> GenerationStatus:
        """POST the job. The caller must treat a ConnectionFailed with may_have_reached_server as 'unknown'."""
        return parse_created(self._request("POST", self.model.create_path, body=body))

    def status(self, generation_id: str) -> GenerationStatus:
        return parse_status(self._request("GET", self.model.poll_path, params={"generation_id": generation_id}))

    def balance(self) -> Balance:
        return parse_balance(self._request("GET", "/v2/billing"))


def poll_url(base_url: str, spec: ModelSpec, generation_id: str) -> str:
    """The full poll URL, with the id URL-encoded (ids contain ':' and '/')."""
    return f"{base_url.rstrip('/')}{spec.poll_path}?generation_id={quote(generation_id, safe='')}"
