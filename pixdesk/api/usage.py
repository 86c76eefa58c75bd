"""What a job cost and what became of it (DESIGN §1b): usage logs, the ledger, live latency, cost headers.

These answers decide what PixDesk tells the user about money and whether a lost create is known, so
every field is checked before use, as in `responses.py`: numbers must be finite and non-negative, shown
strings go through `clean_text`, ids that are sent back (inference id, cursor) are kept exact and refused
when they hold controls. A page whose shape is wrong raises MalformedResponseError; one unusable row in
an otherwise good page is skipped and counted (`skipped`), so one bad row cannot hide the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pixdesk.api.errors import MalformedResponseError
from pixdesk.api.text import clean_text, has_controls

MAX_WORD = 40
MAX_NAME = 200
MAX_ID = 512
MAX_CURSOR = 4096
MAX_ROWS = 1000
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class UnusableField(ValueError):
    """One field is unusable: the row holding it is skipped (or, at the top level, the answer is malformed)."""


# -- field checks shared with pricing.py ----------------------------------------------------------------
def nonneg_number(value: Any, what: str) -> float:
    """A finite number >= 0 (money, durations): bools, strings, NaN, infinities and negatives are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnusableField(f"{what} is not a number")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise UnusableField(f"{what} is not a finite non-negative number")
    return number


def nonneg_int(value: Any, what: str) -> int:
    """A non-negative integer; a float that is a whole number is accepted (JSON does not tell them apart)."""
    number = nonneg_number(value, what)
    if isinstance(value, float) and not value.is_integer():
        raise UnusableField(f"{what} is not a whole number")
    if number > 2**63:
        raise UnusableField(f"{what} is out of range")
    return int(number)


def shown_text(value: Any, limit: int, what: str) -> str:
    """A required string meant for display: cleaned, bounded, not empty."""
    if not isinstance(value, str):
        raise UnusableField(f"{what} is not text")
    text = clean_text(value, limit)
    if not text:
        raise UnusableField(f"{what} is empty")
    return text


def opt_shown_text(value: Any, limit: int) -> str | None:
    """An optional display string: anything that is not usable text becomes None."""
    return clean_text(value, limit) or None if isinstance(value, str) else None


def exact_id(value: Any, what: str, limit: int = MAX_ID) -> str | None:
    """An id that is sent back or compared, so kept exact: None when null, refused when it holds controls."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > limit or has_controls(value):
        raise UnusableField(f"{what} is not a usable id")
    return value


def timestamp(value: Any, what: str) -> datetime:
    """An ISO-8601 moment as an aware UTC datetime (a value without offset is UTC, as the API says)."""
    if not isinstance(value, str) or len(value) > 64:
        raise UnusableField(f"{what} is not a timestamp")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UnusableField(f"{what} is not a timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _root(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedResponseError(f"The {what} answer is not a JSON object.")
    return data


def _list(obj: dict[str, Any], key: str, what: str) -> list[Any]:
    value = obj.get(key)
    if not isinstance(value, list):
        raise MalformedResponseError(f"The {what} answer has no '{key}' list.")
    return value[:MAX_ROWS]


def _money(value: Any, what: str) -> tuple[float, int]:
    if not isinstance(value, dict):
        raise UnusableField(f"{what} is missing")
    return nonneg_number(value.get("usd"), f"{what}.usd"), nonneg_int(value.get("credits"), f"{what}.credits")


# -- GET /v2/logs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogRow:
    """One request in the usage logs. `inference_id` of a create is the generation id to poll."""

    created: datetime
    status: str
    origin: str | None
    model: str | None
    cost_usd: float
    cost_credits: int
    request_id: str | None
    inference_id: str | None
    client_request_id: str | None


@dataclass(frozen=True)
class LogsPagination:
    limit: int
    offset: int
    total: int
    has_more: bool


@dataclass(frozen=True)
class LogsPage:
    rows: tuple[LogRow, ...]
    pagination: LogsPagination
    skipped: int = 0

    def find_client_request(self, client_request_id: str) -> LogRow | None:
        """The row of our create, found by the X-Client-Request-Id we sent (the lost-create recovery)."""
        return next((r for r in self.rows if r.client_request_id == client_request_id), None)


def _log_row(raw: Any) -> LogRow:
    if not isinstance(raw, dict):
        raise UnusableField("row is not an object")
    usd, credits = _money(raw.get("cost"), "cost")
    client_request_id = raw.get("client_request_id")
    if isinstance(client_request_id, str) and not CLIENT_REQUEST_ID.fullmatch(client_request_id):
        client_request_id = None  # the API drops such ids: a value that is not one cannot be ours
    return LogRow(
        created=timestamp(raw.get("created"), "created"),
        status=shown_text(raw.get("status"), MAX_WORD, "status"),
        origin=opt_shown_text(raw.get("origin"), MAX_WORD),
        model=opt_shown_text(raw.get("model"), MAX_NAME),
        cost_usd=usd,
        cost_credits=credits,
        request_id=opt_shown_text(raw.get("request_id"), MAX_NAME),
        inference_id=exact_id(raw.get("inference_id"), "inference_id"),
        client_request_id=exact_id(client_request_id, "client_request_id", 128),
    )


def parse_logs(data: Any) -> LogsPage:
    """A page of `GET /v2/logs`."""
    obj = _root(data, "usage logs")
    rows: list[LogRow] = []
    skipped = 0
    for raw in _list(obj, "data", "usage logs"):
        try:
            rows.append(_log_row(raw))
        except UnusableField:
            skipped += 1
    page = obj.get("pagination")
    if not isinstance(page, dict) or not isinstance(page.get("has_more"), bool):
        raise MalformedResponseError("The usage logs answer has no usable pagination.")
    try:
        pagination = LogsPagination(
            limit=nonneg_int(page.get("limit"), "limit"),
            offset=nonneg_int(page.get("offset"), "offset"),
            total=nonneg_int(page.get("total"), "total"),
            has_more=page["has_more"],
        )
    except UnusableField as exc:
        raise MalformedResponseError(f"The usage logs answer has bad pagination: {exc}.") from None
    return LogsPage(tuple(rows), pagination, skipped)


# -- GET /v2/billing/transactions --------------------------------------------------------------------
@dataclass(frozen=True)
class Charge:
    """One ledger entry. `amount` is always positive: `direction` (CHARGE / TOPUP) carries the sign."""

    created_at: datetime
    direction: str
    type: str
    amount_usd: float
    amount_credits: int
    model: str | None
    reference_id: str | None


@dataclass(frozen=True)
class LedgerPage:
    charges: tuple[Charge, ...]
    next_cursor: str | None
    has_more: bool
    skipped: int = 0

    @property
    def can_continue(self) -> bool:
        """Paging is only by cursor: 'more' without a cursor cannot be followed."""
        return self.has_more and self.next_cursor is not None


def _charge(raw: Any) -> Charge:
    if not isinstance(raw, dict):
        raise UnusableField("entry is not an object")
    usd, credits = _money(raw.get("amount"), "amount")
    return Charge(
        created_at=timestamp(raw.get("created_at"), "created_at"),
        direction=shown_text(raw.get("direction"), MAX_WORD, "direction"),
        type=shown_text(raw.get("type"), MAX_WORD, "type"),
        amount_usd=usd,
        amount_credits=credits,
        model=opt_shown_text(raw.get("model"), MAX_NAME),
        reference_id=exact_id(raw.get("reference_id"), "reference_id"),
    )


def parse_ledger(data: Any) -> LedgerPage:
    """A page of `GET /v2/billing/transactions`."""
    obj = _root(data, "ledger")
    charges: list[Charge] = []
    skipped = 0
    for raw in _list(obj, "data", "ledger"):
        try:
            charges.append(_charge(raw))
        except UnusableField:
            skipped += 1
    page = obj.get("pagination")
    if not isinstance(page, dict) or not isinstance(page.get("has_more"), bool):
        raise MalformedResponseError("The ledger answer has no usable pagination.")
    try:
        cursor = exact_id(page.get("next_cursor"), "next_cursor", MAX_CURSOR)
    except UnusableField:
        raise MalformedResponseError("The ledger answer has an unusable cursor.") from None
    return LedgerPage(tuple(charges), cursor, page["has_more"], skipped)


# -- GET /models/metrics -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Percentiles:
    p50: float
    p75: float
    p90: float
    p99: float


@dataclass(frozen=True)
class ModelLatency:
    alias: str
    endpoint: str | None
    duration_ms: Percentiles | None


@dataclass(frozen=True)
class Metrics:
    """Live latency per model. A model absent from `models` means "no data", never "fast"."""

    window_seconds: int | None
    generated_at: datetime | None
    models: Mapping[str, ModelLatency] = field(default_factory=dict)

    def for_model(self, alias: str) -> ModelLatency | None:
        return self.models.get(alias)


def _percentiles(raw: Any) -> Percentiles | None:
    if not isinstance(raw, dict):
        return None
    try:
        values = [nonneg_number(raw.get(k), k) for k in ("p50", "p75", "p90", "p99")]
    except UnusableField:
        return None
    return Percentiles(*values)


def parse_metrics(data: Any) -> Metrics:
    """`GET /models/metrics`. Entries without a usable alias are skipped; bad percentiles mean no data."""
    obj = _root(data, "metrics")
    models: dict[str, ModelLatency] = {}
    for raw in _list(obj, "models", "metrics"):
        if not isinstance(raw, dict):
            continue
        try:
            alias = exact_id(raw.get("alias"), "alias", MAX_NAME)
        except UnusableField:
            continue
        if alias is None or alias in models:
            continue
        metrics = raw.get("metrics")
        duration = _percentiles(metrics.get("duration_ms")) if isinstance(metrics, dict) else None
        models[alias] = ModelLatency(alias, opt_shown_text(raw.get("endpoint"), MAX_NAME), duration)
    window = obj.get("window_seconds")
    try:
        window_seconds: int | None = nonneg_int(window, "window_seconds")
    except UnusableField:
        window_seconds = None
    try:
        generated_at: datetime | None = timestamp(obj.get("generated_at"), "generated_at")
    except UnusableField:
        generated_at = None
    return Metrics(window_seconds, generated_at, models)


# -- costs on create/poll answers ------------------------------------------------------------------
def _header(headers: Mapping[str, str], name: str, limit: int = 64) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict is case-sensitive; requests' headers are not
        value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == name), None)
    return value if isinstance(value, str) and len(value) <= limit else None


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    raw = _header(headers, name)
    try:
        return nonneg_number(float(raw), name) if raw is not None else None
    except (ValueError, UnusableField):
        return None


def parse_cost_headers(headers: Mapping[str, str]) -> tuple[float | None, int | None]:
    """(usd, credits) from `x-aimlapi-usd-spent` / `x-aimlapi-credits-used`; None where absent or unusable."""
    usd = _header_number(headers, "x-aimlapi-usd-spent")
    credits = _header_number(headers, "x-aimlapi-credits-used")
    return usd, (round(credits) if credits is not None and credits <= 2**63 else None)


@dataclass(frozen=True)
class Trace:
    """What a create's answer says about itself: the echoed client request id (None when the API dropped
    or did not echo it), the inference id (the generation id, for an async job) and the cost headers."""

    client_request_id: str | None
    inference_id: str | None
    usd_spent: float | None
    credits_used: int | None


def parse_trace(headers: Mapping[str, str]) -> Trace:
    echoed = _header(headers, "x-client-request-id", 128)
    if echoed is not None and not CLIENT_REQUEST_ID.fullmatch(echoed):
        echoed = None
    raw_inference = _header(headers, "x-inference-id", MAX_ID)
    try:
        inference = exact_id(raw_inference, "x-inference-id")
    except UnusableField:
        inference = None
    usd, credits = parse_cost_headers(headers)
    return Trace(echoed, inference, usd, credits)


def usd_spent(data: Any) -> float | None:
    """`meta.usage.usd_spent` of a poll (or create) answer, when it is a finite non-negative number."""
    meta = data.get("meta") if isinstance(data, dict) else None
    usage = meta.get("usage") if isinstance(meta, dict) else None
    try:
        return nonneg_number(usage.get("usd_spent"), "usd_spent") if isinstance(usage, dict) else None
    except UnusableField:
        return None
