"""The HTTP client: one `requests.Session`, timeouts always set, errors mapped to typed exceptions.

No automatic retries live here: whether a request may be repeated depends on what it is (a create
that may have reached the server must never be resent), so the job engine decides.

Per-read timeouts do not stop a server that drips one byte a second, or streams without end: every
call also has an overall deadline (`Timeouts.total`), enforced by a watchdog that shuts the socket down
when it passes, whether we are waiting for the headers or reading the body (`Deadline`).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
import urllib3.response

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
from pixdesk.api.pricing import PricingAnswer
from pixdesk.api.responses import Balance, GenerationStatus, parse_balance, parse_created, parse_status
from pixdesk.api.text import clean_text, has_controls, register_secret
from pixdesk.api.usage import LedgerPage, LogsPage, Metrics, Trace, parse_ledger, parse_logs, parse_metrics, parse_trace

DEFAULT_BASE_URL = "https://api.aimlapi.com"
MAX_JSON_BYTES = 2 * 1024 * 1024
READ_CHUNK = 64 * 1024
USER_AGENT = f"pixdesk/{__version__}"
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_PERIOD = re.compile(r"[1-9][0-9]{0,4}[hd]")
LOG_STATUSES = frozenset({"succeeded", "failed"})
LEDGER_WORD = re.compile(r"[A-Z_]{1,40}")
MAX_ETAG = 512


@dataclass(frozen=True)
class _Exchange:
    """One answer with its status and headers (which `_request` does not return): ETags, 304s, trace."""

    status: int
    headers: Mapping[str, str]
    data: Any


def _query_time(value: datetime | str, name: str) -> str:
    """An ISO-8601 query value; a datetime without offset is taken as UTC (as the API reads it)."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if not value or len(value) > 64 or has_controls(value):
        raise ValueError(f"not a usable {name} time: {value!r}")
    return value


def _page_size(limit: int | None) -> list[tuple[str, str]]:
    if limit is None:
        return []
    if isinstance(limit, bool) or not 1 <= limit <= 100:
        raise ValueError(f"limit must be 1-100, not {limit!r}")
    return [("limit", str(limit))]


def _usable_etag(value: str | None) -> str | None:
    """An ETag is sent back as a header, so one with controls (or absurdly long) is not kept."""
    if not value or len(value) > MAX_ETAG or has_controls(value) or not value.isascii():
        return None
    return value


@dataclass(frozen=True)
class Timeouts:
    """`connect` and `read` bound each socket operation; `total` bounds the whole call, body included."""

    connect: float = 10.0
    read: float = 60.0
    total: float = 90.0

    def as_tuple(self) -> tuple[float, float]:
        """What requests takes as `timeout=`; no single wait may outlast the whole deadline either."""
        return (min(self.connect, self.total), min(self.read, self.total))


class Deadline:
    """An overall time limit for one HTTP call, on the monotonic clock.

    Reads on a socket only time out when nothing arrives; a watchdog timer therefore shuts the call's
    socket down when the deadline passes, which wakes up any blocked read at once (headers or body).
    The socket is found through `install_deadline_hooks` (before the headers) or `attach` (after).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._fired = False
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        """True once the time is up."""
        return self._fired or time.monotonic() >= self.end

    @property
    def fired(self) -> bool:
        """True once the watchdog shut the socket down: what was read since may be cut short."""
        return self._fired

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def attach(self, sock: socket.socket | None) -> None:
        """Watch `sock` (the call's connection); one attached after the deadline is shut down at once."""
        if sock is None:
            return
        with self._lock:
            self._sock = sock
            fired = self._fired
        if fired:
            _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self._fired = True
            sock = self._sock
        if sock is not None:
            _shutdown(sock)

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        """Stop the watchdog; the socket, possibly back in the pool by now, is left alone."""
        self._timer.cancel()
        with self._lock:
            self._sock = None


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


@contextlib.contextmanager
def deadline_scope(seconds: float) -> Iterator[Deadline]:
    """Run the block under a `Deadline`: requests made in it (on this thread) are cut when it passes."""
    deadline = Deadline(seconds)
    previous = getattr(_current, "deadline", None)
    _current.deadline = deadline
    deadline.start()
    try:
        yield deadline
    finally:
        deadline.cancel()
        _current.deadline = previous


def _watch(sock: socket.socket | None) -> None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.attach(sock)


class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
    """Hands its socket to the thread's deadline just before waiting for the response headers."""

    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
    def getresponse(self) -> urllib3.response.HTTPResponse:  # type: ignore[override]
        _watch(self.sock)
        return super().getresponse()


class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def install_deadline_hooks(session: requests.Session) -> None:
    """Let `Deadline` see the socket while the headers are awaited, on the session's plain HTTP adapters.

    Only the pool classes of requests' own adapters change (their settings stay); a custom adapter is
    left alone, and there only the body is bounded by the deadline (see `watch_response`).
    """
    for adapter in session.adapters.values():
        if type(adapter) is not requests.adapters.HTTPAdapter or getattr(adapter, "_pixdesk_watched", False):
            continue
        manager = adapter.poolmanager
        manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
        manager.clear()  # pools made before keep their class: drop them (idle connections only)
        adapter._pixdesk_watched = True  # type: ignore[attr-defined]


def watch_response(deadline: Deadline, resp: requests.Response) -> None:
    """Make sure the deadline holds the socket the body comes from (whatever adapter made it)."""
    connection = getattr(resp.raw, "connection", None)
    deadline.attach(getattr(connection, "sock", None))


def deadline_timeout(host: str, deadline: Deadline) -> RequestTimeout:
    """The error for a call cut by its overall deadline: it may have been acted on, so only an
    idempotent call is retried."""
    return RequestTimeout(
        f"{host} did not finish answering within {deadline.seconds:g} s.", may_have_reached_server=True
    )


def read_body(resp: requests.Response, limit: int, deadline: Deadline, host: str) -> bytes:
    """Up to `limit` bytes of the (decoded) body, read as they arrive, within the deadline.

    Raises RequestTimeout when the deadline cuts the body: what arrived by then is not the answer.
    """
    parts: list[bytes] = []
    size = 0
    while size < limit:
        if deadline.expired:
            raise deadline_timeout(host, deadline)
        chunk = resp.raw.read1(min(READ_CHUNK, limit - size), decode_content=True)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    if deadline.fired:  # the watchdog's shutdown looks like an end of body
        raise deadline_timeout(host, deadline)
    return b"".join(parts)


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
    """An HTML error page reduced to its words, cleaned for display."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return clean_text(text, limit)


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


def _clean_detail(value: object, depth: int = 0) -> object:
    """The server's structured error detail, with every string in it cleaned (it may be shown too)."""
    if isinstance(value, str):
        return clean_text(value, 500)
    if depth >= 4:
        return None
    if isinstance(value, list):
        return [_clean_detail(v, depth + 1) for v in value[:50]]
    if isinstance(value, dict):
        return {clean_text(str(k), 100): _clean_detail(v, depth + 1) for k, v in list(value.items())[:50]}
    if value is None or isinstance(value, bool | int | float):
        return value
    return clean_text(str(value), 500)


def error_from_response(resp: requests.Response, body: bytes) -> ApiError:
    """The typed error for an error answer; every string from the server in it is cleaned and redacted."""
    status = resp.status_code
    message: str | None = None
    header_id = resp.headers.get("x-request-id")
    request_id = clean_text(header_id, 200) or None if header_id else None
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
        if isinstance(raw, str):
            message = clean_text(raw, 2000) or None
        rid = data.get("requestId")
        if isinstance(rid, str | int) and not isinstance(rid, bool):
            request_id = clean_text(str(rid), 200) or request_id
        path = clean_text(data["path"], 300) or None if isinstance(data.get("path"), str) else None
        detail = _clean_detail(data.get("errors") or data.get("details"))
    if message is None:
        snippet = _plain(body.decode("utf-8", "replace")) if body else ""
        reason = clean_text(resp.reason or "", 100)
        message = f"HTTP {status} {reason}".strip() + (f": {snippet}" if snippet else "")
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
    """JSON bytes for a request body. Large data URIs (an image, a last frame, a clip, a recording) are
    spliced in as they are: json.dumps would scan their megabytes holding the GIL and stall the UI. Our own
    `DataUri` is known safe; any other string is checked first (isascii is O(1); isprintable and the
    quote/backslash searches are one C pass)."""
    big = [k for k, v in body.items() if isinstance(v, str) and len(v) > 65536 and _json_safe(v)]
    if not big:
        return json.dumps(body, ensure_ascii=False).encode("utf-8")
    rest = json.dumps({k: v for k, v in body.items() if k not in big}, ensure_ascii=False)
    parts = [rest[:-1].encode("utf-8")]
    first = len(rest) <= 2
    for key in big:
        parts.append(("" if first else ", ").encode() + json.dumps(key).encode() + b': "')
        parts.append(body[key].encode("ascii"))
        parts.append(b'"')
        first = False
    parts.append(b"}")
    return b"".join(parts)


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
        register_secret(api_key)  # a server echoing it back must not get it shown
        self.timeouts = timeouts or Timeouts()
        self.model = model
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        install_deadline_hooks(self.session)
        self.host = urlsplit(self.base_url).netloc or self.base_url

    def __repr__(self) -> str:
        return f"ApiClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> Any:
        """The answer's JSON (see `_exchange`: one deadline, size limit and error mapping for every call)."""
        query = list(params.items()) if params else None
        return self._exchange(method, path, params=query, body=body, extra_headers=extra_headers).data

    def create(self, body: dict[str, Any], client_request_id: str | None = None) -> GenerationStatus:
        """POST the job. The caller must treat a ConnectionFailed with may_have_reached_server as 'unknown'.
        `client_request_id` is sent as X-Client-Request-Id when it is valid (the API silently drops others)."""
        headers = {}
        if client_request_id is not None:
            if not CLIENT_REQUEST_ID.fullmatch(client_request_id):
                raise ValueError(f"not a valid client request id: {client_request_id!r}")
            headers["X-Client-Request-Id"] = client_request_id
        return parse_created(self._request("POST", self.model.create_path, body=body, extra_headers=headers))

    def status(self, generation_id: str) -> GenerationStatus:
        return parse_status(self._request("GET", self.model.poll_path, params={"generation_id": generation_id}))

    def balance(self) -> Balance:
        return parse_balance(self._request("GET", "/v2/billing"))

    # -- DESIGN §1b: price, trace, logs, ledger, latency ---------------------------------------------
    def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: dict[str, Any] | None = None,
        extra_headers: dict[str, str] | None = None,
        authorized: bool = True,
        not_modified_ok: bool = False,
    ) -> _Exchange:
        """`_request` that also returns status and headers, takes repeated query parameters, and can leave
        the key out: the public endpoints need none, and a key is not sent where it is not needed.
        The same deadline, size limit and error mapping apply; a 304 is an answer when `not_modified_ok`."""
        headers: dict[str, str | None] = {"Accept": "application/json", **(extra_headers or {})}
        # None removes a header the session may carry: a keyless request must not leak one.
        headers["Authorization"] = f"Bearer {self._api_key}" if authorized else None
        data = None
        if body is not None:
            data = encode_json_body(body)
            headers["Content-Type"] = "application/json"
        with deadline_scope(self.timeouts.total) as deadline:
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
                    watch_response(deadline, resp)
                    raw = read_body(resp, MAX_JSON_BYTES + 1, deadline, self.host)
            except requests.RequestException as exc:
                if deadline.expired:
                    raise deadline_timeout(self.host, deadline) from None
                raise describe_network_error(exc, self.host) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if deadline.expired:
                    raise deadline_timeout(self.host, deadline) from None
                raise ConnectionFailed(
                    f"The connection to {self.host} broke: {type(exc).__name__}", may_have_reached_server=True
                ) from None
        if resp.status_code == 304 and not_modified_ok:
            return _Exchange(304, resp.headers, None)
        if resp.status_code >= 300:
            raise error_from_response(resp, raw[:MAX_JSON_BYTES])
        if len(raw) > MAX_JSON_BYTES:
            raise MalformedResponseError("The server's answer is too large.", status=resp.status_code)
        try:
            return _Exchange(resp.status_code, resp.headers, json.loads(raw.decode("utf-8")))
        except (ValueError, UnicodeDecodeError):
            snippet = _plain(raw.decode("utf-8", "replace"), 120)
            request_id = resp.headers.get("x-request-id")
            raise MalformedResponseError(
                f"The server's answer is not JSON: {snippet!r}",
                status=resp.status_code,
                request_id=clean_text(request_id, 200) if request_id else None,
            ) from None

    def create_traced(self, body: dict[str, Any], client_request_id: str) -> tuple[GenerationStatus, Trace]:
        """`create`, also returning what the answer's headers say (echoed id, inference id, cost).
        The same rule holds: a ConnectionFailed with may_have_reached_server means 'unknown', never resend."""
        if not CLIENT_REQUEST_ID.fullmatch(client_request_id):
            raise ValueError(f"not a valid client request id: {client_request_id!r}")
        answer = self._exchange(
            "POST", self.model.create_path, body=body, extra_headers={"X-Client-Request-Id": client_request_id}
        )
        return parse_created(answer.data), parse_trace(answer.headers)

    def model_pricing(self, model_id: str, etag: str | None = None) -> PricingAnswer:
        """`GET /v1/models?id=<model>&include=pricing`, keyless. With `etag`, a 304 means the copy is current."""
        extra = {"If-None-Match": sent} if (sent := _usable_etag(etag)) else {}
        answer = self._exchange(
            "GET",
            "/v1/models",
            params=[("id", model_id), ("include", "pricing")],
            extra_headers=extra,
            authorized=False,
            not_modified_ok=sent is not None,
        )
        new_etag = _usable_etag(answer.headers.get("ETag"))
        if answer.status == 304:
            return PricingAnswer(True, None, new_etag or sent)
        return PricingAnswer(False, answer.data, new_etag)

    def logs(
        self,
        *,
        period: str | None = None,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        model: str | None = None,
        statuses: Iterable[str] = (),
        limit: int | None = None,
        offset: int | None = None,
    ) -> LogsPage:
        """One page of `GET /v2/logs`: `period` (e.g. "24h") or `start`+`end`. Each status is its own
        `status=` parameter: the API answers 400 to a comma-joined one."""
        if (period is None) == (start is None and end is None) or (start is None) != (end is None):
            raise ValueError("give either period, or both start and end")
        params: list[tuple[str, str]] = []
        if period is not None:
            if not LOG_PERIOD.fullmatch(period):
                raise ValueError(f"not a period: {period!r}")
            params.append(("period", period))
        if start is not None and end is not None:
            params += [("start", _query_time(start, "start")), ("end", _query_time(end, "end"))]
        if model is not None:
            params.append(("model", model))
        for status in dict.fromkeys((statuses,) if isinstance(statuses, str) else statuses):
            if status not in LOG_STATUSES:
                raise ValueError(f"not a log status: {status!r}")
            params.append(("status", status))
        params += _page_size(limit)
        if offset is not None:
            if isinstance(offset, bool) or offset < 0:
                raise ValueError(f"offset must be >= 0, not {offset!r}")
            params.append(("offset", str(offset)))
        return parse_logs(self._exchange("GET", "/v2/logs", params=params).data)

    def transactions(
        self,
        *,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        direction: str | None = None,
        type_: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> LedgerPage:
        """One page of `GET /v2/billing/transactions`, newest first; the next page only via `cursor`."""
        params: list[tuple[str, str]] = []
        if from_ is not None:
            params.append(("from", _query_time(from_, "from")))
        if to is not None:
            params.append(("to", _query_time(to, "to")))
        for name, word in (("direction", direction), ("type", type_)):
            if word is not None:
                if not LEDGER_WORD.fullmatch(word):
                    raise ValueError(f"not a ledger {name}: {word!r}")
                params.append((name, word))
        params += _page_size(limit)
        if cursor is not None:
            params.append(("cursor", cursor))  # verbatim: the API accepts only the exact form it issued
        return parse_ledger(self._exchange("GET", "/v2/billing/transactions", params=params).data)

    def model_metrics(self, model: str | None = None) -> Metrics:
        """`GET /models/metrics?aliases=<model>` (keyless; default: this client's model)."""
        alias = model if model is not None else self.model.model_id
        answer = self._exchange("GET", "/models/metrics", params=[("aliases", alias)], authorized=False)
        return parse_metrics(answer.data)


def poll_url(base_url: str, spec: ModelSpec, generation_id: str) -> str:
    """The full poll URL, with the id URL-encoded (ids contain ':' and '/')."""
    return f"{base_url.rstrip('/')}{spec.poll_path}?generation_id={quote(generation_id, safe='')}"
