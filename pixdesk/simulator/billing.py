"""The simulator's money and bookkeeping: its price table, model catalogue, usage logs, ledger and latency.

The simulator is the server, so unlike the app it may own prices. Everything here is plain data and pure
functions; `server.py` keeps the state and answers HTTP with them. Shapes follow the §1b schemas.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

CREDITS_PER_USD = 2_000_000
MAX_WINDOW = timedelta(days=92)
LEDGER_TYPES = ("PAYMENT", "BONUS", "REFUND", "ADJUSTMENT", "MODEL_USAGE", "CREDITS_EXPIRED", "INIT")
LEDGER_DIRECTIONS = ("TOPUP", "CHARGE")
LOG_STATUSES = ("succeeded", "failed")
PERIOD = re.compile(r"([1-9][0-9]*)([hd])")
VIDEO_ENDPOINT = "/v2/video/generations"

PricingKind = Literal["fixed", "variants", "variable"]


class QueryError(ValueError):
    """A query the real service answers with 400; the message is what it would say."""


@dataclass
class Pricing:
    """One model's price, as the catalogue publishes it, plus what the simulator really charges.

    `fixed`: `units` [{name, measure, price, per}]; `variants`: `dimensions` and `variants`
    [{when, price, unit, per}]; `variable`: no quotable price, the charge uses `hidden_usd_per_second`.
    """

    kind: PricingKind
    units: list[dict[str, Any]] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    variants: list[dict[str, Any]] = field(default_factory=list)
    hidden_usd_per_second: float = 0.08
    currency: str = "USD"

    def public(self) -> dict[str, Any]:
        """The `pricing` object of `GET /v1/models?include=pricing`."""
        out: dict[str, Any] = {"kind": self.kind, "currency": self.currency}
        if self.kind == "fixed":
            out["units"] = [dict(u) for u in self.units]
        elif self.kind == "variants":
            out["dimensions"] = list(self.dimensions)
            out["variants"] = [{**v, "when": dict(v["when"])} for v in self.variants]
        return out

    def cost_usd(self, body: Mapping[str, Any]) -> float:
        """What a create with `body` is charged: price × units / per, units being seconds for a per-second rate."""
        seconds = int(body.get("duration", 5) or 5)
        if self.kind == "fixed":
            return sum(_rate(u["price"], u["per"], u.get("measure"), seconds) for u in self.units)
        if self.kind == "variants":
            for variant in self.variants:
                when = variant["when"]
                defaults = {"resolution": "720p", "duration": 5}
                if all(body.get(k, defaults.get(k)) == v for k, v in when.items()):
                    return _rate(variant["price"], variant["per"], variant.get("unit"), seconds)
            return (
                0.0
                if not self.variants
                else max(_rate(v["price"], v["per"], v.get("unit"), seconds) for v in self.variants)
            )
        return self.hidden_usd_per_second * seconds


def _rate(price: float, per: float, measure: str | None, seconds: int) -> float:
    units = seconds if measure == "second" else 1
    return float(price) * units / float(per)


def variants_pricing(per_second: Mapping[str, float]) -> Pricing:
    """A per-second rate for each resolution (the default shape for PixVerse)."""
    return Pricing(
        "variants",
        dimensions=["resolution"],
        variants=[{"when": {"resolution": r}, "price": p, "unit": "second", "per": 1} for r, p in per_second.items()],
    )


def fixed_pricing(price: float, per: float = 1, measure: str = "second", name: str = "video") -> Pricing:
    return Pricing("fixed", units=[{"name": name, "measure": measure, "price": price, "per": per}])


def variable_pricing(hidden_usd_per_second: float = 0.08) -> Pricing:
    return Pricing("variable", hidden_usd_per_second=hidden_usd_per_second)


DEFAULT_RATES = {"360p": 0.06, "540p": 0.06, "720p": 0.08, "1080p": 0.16}  # USD per second of video


def default_pricing() -> Pricing:
    return variants_pricing(DEFAULT_RATES)


def to_credits(usd: float) -> int:
    return round(usd * CREDITS_PER_USD)


def usd_of(credits: int) -> float:
    return credits / CREDITS_PER_USD


def money(usd: float) -> str:
    """A header value for an amount in USD, without float noise ("0.4", "0")."""
    text = f"{usd:.8f}".rstrip("0").rstrip(".")
    return text or "0"


# -- the model catalogue -----------------------------------------------------------------------------
@dataclass
class CatalogueEntry:
    """One model of `GET /v1/models`; `pricing` is what create is charged by, so tests can switch its kind."""

    id: str
    aliases: list[str]
    pricing: Pricing
    type: str = "video"
    name: str = ""
    tags: list[str] = field(default_factory=lambda: ["playground:video"])

    def matches(self, name: str) -> bool:
        return name == self.id or name in self.aliases

    def public(self, include: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "aliases": list(self.aliases),
            "type": self.type,
            "info": {
                "name": self.name or self.id,
                "developer": "PixVerse",
                "description": "PixVerse video generation (simulated).",
                "url": "",
            },
            "tags": list(self.tags),
        }
        if include & {"pricing", "all"}:
            out["pricing"] = self.pricing.public()
        inputs, capabilities = _MODALITIES.get(self.id.rsplit("/", 1)[-1], _MODALITIES["image-to-video"])
        if include & {"modalities", "all"}:
            out["modalities"] = {"input": list(inputs), "output": ["video"]}
        if include & {"capabilities", "all"}:
            out["capabilities"] = list(capabilities)
        return out


FAMILY = (
    "pixverse/v5/image-to-video",
    "pixverse/v5/text-to-video",
    "pixverse/v5/transition",
    "pixverse/v5.5/image-to-video",
    "pixverse/v5.5/text-to-video",
    "pixverse/lip-sync",
)
# USD per second of video by resolution, each model its own: text-to-video a little cheaper than animating a
# picture, a transition (two pictures) a little dearer, v5.5 dearer still. `pixverse/v5/image-to-video` keeps
# DEFAULT_RATES.
FAMILY_RATES: dict[str, dict[str, float]] = {
    "pixverse/v5/image-to-video": DEFAULT_RATES,
    "pixverse/v5/text-to-video": {"360p": 0.05, "540p": 0.05, "720p": 0.07, "1080p": 0.14},
    "pixverse/v5/transition": {"360p": 0.07, "540p": 0.07, "720p": 0.09, "1080p": 0.18},
    "pixverse/v5.5/image-to-video": {"360p": 0.08, "540p": 0.08, "720p": 0.11, "1080p": 0.22},
    "pixverse/v5.5/text-to-video": {"360p": 0.075, "540p": 0.075, "720p": 0.1, "1080p": 0.2},
}
LIP_SYNC_USD = 0.25  # a fixed price per lip-sync generation, whatever the clip's length
# What each model takes and does, for `include=modalities` / `include=capabilities`.
_MODALITIES = {
    "image-to-video": (["text", "image"], ["image_to_video"]),
    "text-to-video": (["text"], ["text_to_video"]),
    "transition": (["text", "image"], ["image_to_video", "transition"]),
    "lip-sync": (["video", "audio", "text"], ["video_to_video", "lip_sync"]),
}


def family_pricing(model: str) -> Pricing:
    """The simulator's price of a model of the family: per-second rates by resolution (the §1b `variants`
    shape), except lip-sync, which is a `fixed` price per generation. Lip-sync is priced per job, not per second
    of the clip, because a quote must be exact before the job is sent and a client does not reliably know a
    clip's length (a web URL it never downloads); the clip's length is bounded by the service anyway."""
    if model.endswith("/lip-sync"):
        return fixed_pricing(LIP_SYNC_USD, per=1, measure="generation", name="lip-sync")
    return variants_pricing(FAMILY_RATES.get(model, DEFAULT_RATES))


def default_catalogue(models: Iterable[str] = FAMILY) -> list[CatalogueEntry]:
    """The family of §1c, each with a short alias ("pixverse-v5-image-to-video") and its own price."""
    return [
        CatalogueEntry(m, [m.replace("/", "-")], family_pricing(m), name=m.split("/", 1)[-1].replace("/", " "))
        for m in models
    ]


def models_answer(catalogue: Sequence[CatalogueEntry], query: Mapping[str, list[str]]) -> dict[str, Any]:
    """`GET /v1/models`: filtered by `id` (id or alias, comma or repeated = OR) and `type`, expanded by `include`."""
    include = {p.strip() for v in query.get("include", []) for p in v.split(",") if p.strip()}
    if query.get("details", [""])[0] in ("true", "1"):
        include.add("all")
    ids = {p.strip() for v in query.get("id", []) for p in v.split(",") if p.strip()}
    types = set(query.get("type", []))
    data = [
        e.public(include)
        for e in catalogue
        if (not ids or any(e.matches(i) for i in ids)) and (not types or e.type in types)
    ]
    return {"object": "list", "data": data}


def etag_of(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


# -- time ------------------------------------------------------------------------------------------
def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str, name: str, *, need_offset: bool = False) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise QueryError(f"{name}: Invalid ISO-8601 date-time {text!r}") from None
    if moment.tzinfo is None:
        if need_offset:
            raise QueryError(f"{name}: Expected an ISO-8601 date-time with an offset")
        moment = moment.replace(tzinfo=UTC)
    return moment


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise QueryError(f"{name}: Expected a single value")
    return values[0]


def _int(query: Mapping[str, list[str]], name: str, default: int, low: int, high: int | None) -> int:
    text = _one(query, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise QueryError(f"{name}: Expected an integer") from None
    if value < low or (high is not None and value > high):
        raise QueryError(f"{name}: Number must be between {low} and {high}" if high else f"{name}: Must be >= {low}")
    return value


# -- usage logs --------------------------------------------------------------------------------------
@dataclass
class LogQuery:
    start: float
    end: float
    models: set[str]
    statuses: set[str]
    limit: int
    offset: int


def parse_logs_query(query: Mapping[str, list[str]], now_wall: float) -> LogQuery:
    """The `GET /v2/logs` parameters, checked as the service does (a bad one is a 400, never ignored)."""
    period, start, end = _one(query, "period"), _one(query, "start"), _one(query, "end")
    if period is not None and (start is not None or end is not None):
        raise QueryError("Provide either period or both start and end, never both")
    if (start is None) != (end is None):
        raise QueryError("start and end must be used together")
    if start is not None and end is not None:
        begin, finish = parse_iso(start, "start"), parse_iso(end, "end")
        if finish < begin:
            raise QueryError("end: Must not be earlier than start")
        if finish - begin > MAX_WINDOW:
            raise QueryError("The window must not exceed 92 days")
        lo, hi = begin.timestamp(), finish.timestamp()
    else:
        match = PERIOD.fullmatch(period or "24h")
        if match is None:
            raise QueryError(f"period: Expected a positive integer followed by h or d, received {period!r}")
        span = timedelta(hours=int(match[1])) if match[2] == "h" else timedelta(days=int(match[1]))
        if span > MAX_WINDOW:
            raise QueryError("The window must not exceed 92 days")
        lo, hi = now_wall - span.total_seconds(), now_wall
    statuses = set(query.get("status", []))
    for status in statuses:
        if status not in LOG_STATUSES:
            raise QueryError(f"status: Invalid enum value. Expected 'succeeded' | 'failed', received {status!r}")
    models = set(query.get("model", []))
    if len(models) > 50:
        raise QueryError("model: At most 50 values")
    return LogQuery(lo, hi, models, statuses, _int(query, "limit", 50, 1, 100), _int(query, "offset", 0, 0, None))


def page_logs(rows: Sequence[dict[str, Any]], q: LogQuery) -> dict[str, Any]:
    """Rows (already newest first, already filtered by window) → one page with offset pagination."""
    kept = [
        r for r in rows if (not q.models or r["model"] in q.models) and (not q.statuses or r["status"] in q.statuses)
    ]
    page = kept[q.offset : q.offset + q.limit]
    return {
        "data": page,
        "pagination": {
            "limit": q.limit,
            "offset": q.offset,
            "total": len(kept),
            "has_more": q.offset + len(page) < len(kept),
        },
    }


# -- the ledger -------------------------------------------------------------------------------------
@dataclass
class LedgerQuery:
    start: float | None
    end: float | None
    direction: str | None
    type: str | None
    limit: int
    after: tuple[float, str] | None


def encode_cursor(position: tuple[float, str]) -> str:
    raw = json.dumps({"v": 1, "t": position[0], "r": position[1]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return float(data["t"]), str(data["r"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise QueryError("cursor: Invalid cursor") from None


def parse_ledger_query(query: Mapping[str, list[str]], issued: set[str]) -> LedgerQuery:
    """The `GET /v2/billing/transactions` parameters; a cursor is accepted only in the exact form issued."""
    frm, to = _one(query, "from"), _one(query, "to")
    lo = parse_iso(frm, "from", need_offset=True).timestamp() if frm is not None else None
    hi = parse_iso(to, "to", need_offset=True).timestamp() if to is not None else None
    if lo is not None and hi is not None and hi <= lo:
        raise QueryError("to: Must be later than from")
    direction, kind = _one(query, "direction"), _one(query, "type")
    if direction is not None and direction not in LEDGER_DIRECTIONS:
        raise QueryError(f"direction: Invalid enum value. Expected 'TOPUP' | 'CHARGE', received {direction!r}")
    if kind is not None and kind not in LEDGER_TYPES:
        raise QueryError(f"type: Invalid enum value, received {kind!r}")
    cursor = _one(query, "cursor")
    after = None
    if cursor is not None:
        if cursor not in issued:
            raise QueryError("cursor: Invalid cursor")
        after = decode_cursor(cursor)
    return LedgerQuery(lo, hi, direction, kind, _int(query, "limit", 50, 1, 100), after)


def page_ledger(entries: Sequence[tuple[float, dict[str, Any]]], q: LedgerQuery) -> tuple[dict[str, Any], str | None]:
    """(wall time, entry) pairs → one page newest first, keyset-paged so new charges never shift a page.

    Returns the answer and the cursor it issued (the caller remembers it, to accept it back verbatim)."""
    kept = sorted(
        (
            (t, e)
            for t, e in entries
            if (q.start is None or t >= q.start)
            and (q.end is None or t < q.end)
            and (q.direction is None or e["direction"] == q.direction)
            and (q.type is None or e["type"] == q.type)
        ),
        key=lambda te: (te[0], str(te[1]["reference_id"])),
        reverse=True,
    )
    if q.after is not None:
        after = q.after
        kept = [(t, e) for t, e in kept if (t, str(e["reference_id"])) < after]
    page, rest = kept[: q.limit], kept[q.limit :]
    cursor = encode_cursor((page[-1][0], str(page[-1][1]["reference_id"]))) if rest and page else None
    return {"data": [e for _, e in page], "pagination": {"next_cursor": cursor, "has_more": bool(rest)}}, cursor


# -- latency ----------------------------------------------------------------------------------------
def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so few samples still give sane numbers."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def duration_metrics(durations_ms: Sequence[float]) -> dict[str, float]:
    return {f"p{p}": round(percentile(durations_ms, p), 1) for p in (50, 75, 90, 99)}


__all__ = [
    "CREDITS_PER_USD",
    "CatalogueEntry",
    "Pricing",
    "QueryError",
    "default_catalogue",
    "default_pricing",
    "family_pricing",
    "fixed_pricing",
    "variable_pricing",
    "variants_pricing",
]
