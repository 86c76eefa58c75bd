"""The price of a job before it is made (DESIGN §1b), from `GET /v1/models?id=<model>&include=pricing`.

No price is written in this code: prices change, and the API publishes them (they are what is
charged). An estimate is only given when the published price covers the job exactly; anything else
(a `variable` price, an unknown kind or unit, no matching variant, a currency other than USD) gives
None, which callers show as "unknown" and which `--max-usd` refuses. A malformed pricing entry for our
model raises MalformedResponseError rather than guessing: a wrong quote is worse than none.

`PriceCache` keeps the last answer with its ETag, so the price is known offline ("cached") and a
refresh costs a 304 when nothing changed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol

from pixdesk.api.errors import MalformedResponseError, PixDeskError
from pixdesk.api.text import clean_text
from pixdesk.api.usage import UnusableField, exact_id, nonneg_number, shown_text

log = logging.getLogger(__name__)

CREDITS_PER_USD = 2_000_000
MAX_ENTRIES = 1000
MAX_RATES = 200
MAX_CACHE_BYTES = 4 * 1024 * 1024

Source = Literal["live", "cached", "unknown"]

# How many units one job is, by the unit a price is quoted in. A unit not listed here cannot be quoted.
_PER_SECOND = frozenset({"second", "seconds", "sec", "s", "video_second", "output_second"})
_PER_JOB = frozenset({"generation", "generations", "request", "requests", "video", "videos", "call", "job", "item"})


class PriceKind(StrEnum):
    FIXED = "fixed"
    VARIANTS = "variants"
    VARIABLE = "variable"  # also what an unknown kind is read as: no quotable price


@dataclass(frozen=True)
class Rate:
    """A `fixed` price unit: `price` USD per `per` `measure`s."""

    name: str
    measure: str
    price: float
    per: float


@dataclass(frozen=True)
class Variant:
    """A `variants` rate: applies when every request parameter in `when` has that value."""

    when: tuple[tuple[str, str], ...]
    price: float
    unit: str
    per: float


@dataclass(frozen=True)
class Pricing:
    model_id: str
    aliases: tuple[str, ...]
    kind: PriceKind
    kind_word: str  # the kind as the server said it (shown when it is one we do not know)
    currency: str
    units: tuple[Rate, ...] = ()
    dimensions: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = ()
    source: Source = "live"


@dataclass(frozen=True)
class Estimate:
    usd: float
    credits: int
    source: Source


@dataclass(frozen=True)
class PricingAnswer:
    """What `ApiClient.model_pricing` got: the raw answer and its ETag, or "not modified" (a 304)."""

    not_modified: bool
    answer: Any = None
    etag: str | None = None


def _word(value: Any, what: str) -> str:
    return shown_text(value, 40, what).lower()


def _per(value: Any, what: str) -> float:
    per = 1.0 if value is None else nonneg_number(value, what)  # an absent `per` is one unit
    if per <= 0:
        raise UnusableField(f"{what} is zero")
    return per


def _rates(raw: Any) -> tuple[Rate, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_RATES:
        raise UnusableField("a fixed price has no units")
    rates = []
    for unit in raw:
        if not isinstance(unit, dict):
            raise UnusableField("a unit is not an object")
        measure = _word(unit.get("measure", unit.get("unit")), "measure")
        name = clean_text(unit["name"], 60) if isinstance(unit.get("name"), str) else measure
        rates.append(
            Rate(name or measure, measure, nonneg_number(unit.get("price"), "price"), _per(unit.get("per"), "per"))
        )
    return tuple(rates)


def _condition_value(value: Any) -> str:
    """A `when` value as compared with ours: "720p" and 5 (or "5", 5.0) alike."""
    if isinstance(value, bool):
        raise UnusableField("a condition is a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise UnusableField("a condition is not finite")
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str) and len(value) <= 60:
        return value.strip().lower()
    raise UnusableField("a condition is not a value")


def _variants(raw: Any) -> tuple[Variant, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_RATES:
        raise UnusableField("a variants price has no variants")
    variants = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("when"), dict) or len(item["when"]) > 20:
            raise UnusableField("a variant has no conditions")
        when = tuple(sorted((str(k)[:60], _condition_value(v)) for k, v in item["when"].items()))
        variants.append(
            Variant(
                when,
                nonneg_number(item.get("price"), "price"),
                _word(item.get("unit", item.get("measure")), "unit"),
                _per(item.get("per"), "per"),
            )
        )
    return tuple(variants)


def parse_pricing(entry: Any, source: Source = "live") -> Pricing:
    """One model entry of the catalogue answer. Raises MalformedResponseError when its price is unusable."""
    if not isinstance(entry, dict):
        raise MalformedResponseError("The model catalogue entry is not an object.")
    try:
        model_id = exact_id(entry.get("id"), "id", 200)
        if model_id is None:
            raise UnusableField("the model has no id")
        aliases = _aliases(entry.get("aliases"))
        pricing = entry.get("pricing")
        if not isinstance(pricing, dict):
            raise UnusableField("the model has no pricing")
        kind_word = _word(pricing.get("kind"), "kind")
        currency = pricing.get("currency")
        currency = "USD" if currency is None else shown_text(currency, 10, "currency").upper()  # prices are USD
        if kind_word == PriceKind.FIXED:
            return Pricing(
                model_id,
                aliases,
                PriceKind.FIXED,
                kind_word,
                currency,
                units=_rates(pricing.get("units")),
                source=source,
            )
        if kind_word == PriceKind.VARIANTS:
            dims = pricing.get("dimensions", [])
            if not isinstance(dims, list) or not all(isinstance(d, str) for d in dims):
                raise UnusableField("dimensions are not names")
            return Pricing(
                model_id,
                aliases,
                PriceKind.VARIANTS,
                kind_word,
                currency,
                dimensions=tuple(clean_text(d, 60) for d in dims[:20]),
                variants=_variants(pricing.get("variants")),
                source=source,
            )
        # `variable`, or a kind this version does not know: tolerated, but not quotable.
        return Pricing(model_id, aliases, PriceKind.VARIABLE, kind_word, currency, source=source)
    except UnusableField as exc:
        raise MalformedResponseError(f"The price list is unusable: {exc}.") from None


def _aliases(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    aliases = []
    for alias in raw[:100]:
        with contextlib.suppress(UnusableField):
            if (value := exact_id(alias, "alias", 200)) is not None:
                aliases.append(value)
    return tuple(aliases)


def _names(entry: dict[str, Any]) -> set[str]:
    names = {entry["id"]} if isinstance(entry.get("id"), str) else set()
    aliases = entry.get("aliases")
    if isinstance(aliases, list):
        names.update(a for a in aliases[:100] if isinstance(a, str))
    return names


def find_model(answer: Any, model_id: str, source: Source = "live") -> Pricing | None:
    """Our model's pricing in a catalogue answer, matched by `id` or any of its `aliases`; None when absent.

    Other models' entries are not checked (a bad neighbour must not hide our price); ours is.
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        raise MalformedResponseError("The model catalogue answer has no 'data' list.")
    entries = [e for e in answer["data"][:MAX_ENTRIES] if isinstance(e, dict)]
    match = next((e for e in entries if e.get("id") == model_id), None)
    if match is None:
        match = next((e for e in entries if model_id in _names(e)), None)
    return None if match is None else parse_pricing(match, source)


def _units(unit: str, duration_seconds: float | None) -> float | None:
    """How many units a job is; None when the unit is unknown or counts seconds and no length is known."""
    if unit in _PER_SECOND:
        return duration_seconds
    if unit in _PER_JOB:
        return 1.0
    return None


def estimate(
    pricing: Pricing | None, *, resolution: str, duration_seconds: float | None, count: int = 1
) -> Estimate | None:
    """The price of `count` jobs, or None when it cannot be quoted exactly.

    cost = price × units / per, where a per-second rate counts the clip's seconds and a per-generation
    rate counts 1. Among variants matching the job, the most specific wins; a tie takes the dearest
    (an estimate guards a budget: better high than low). `duration_seconds=None`: the length is not known
    (lip-sync over a clip), so only a price that does not count seconds (nor depend on them) can be quoted.
    """
    if count < 1 or (duration_seconds is not None and (not math.isfinite(duration_seconds) or duration_seconds <= 0)):
        raise ValueError("an estimate needs count >= 1 and a positive duration")
    if pricing is None or pricing.currency != "USD":
        return None
    usd: float | None
    if pricing.kind is PriceKind.FIXED:
        usd = 0.0
        for rate in pricing.units:
            units = _units(rate.measure, duration_seconds)
            if units is None:
                return None
            usd += rate.price * units / rate.per
    elif pricing.kind is PriceKind.VARIANTS:
        params = {"resolution": resolution.strip().lower()}
        if duration_seconds is not None:
            params["duration"] = _condition_value(duration_seconds)
        usd = _variant_cost(pricing, params, duration_seconds)
    else:
        return None
    if usd is None or not math.isfinite(usd * count * CREDITS_PER_USD):  # absurd rates overflow: no quote
        return None
    credits = round(usd * count * CREDITS_PER_USD)
    return Estimate(credits / CREDITS_PER_USD, credits, pricing.source)


def _variant_cost(pricing: Pricing, params: Mapping[str, str], duration_seconds: float | None) -> float | None:
    best: tuple[int, float] | None = None
    for variant in pricing.variants:
        if not all(params.get(k) == v for k, v in variant.when):
            continue
        units = _units(variant.unit, duration_seconds)
        if units is None:
            continue
        candidate = (len(variant.when), variant.price * units / variant.per)
        if best is None or candidate > best:
            best = candidate
    return None if best is None else best[1]


def quote_json(est: Estimate | None) -> dict[str, Any]:
    """`{"usd", "credits", "source"}` as `pixdesk price --json` prints it; an unknown price has nulls."""
    if est is None:
        return {"usd": None, "credits": None, "source": "unknown"}
    return {"usd": est.usd, "credits": est.credits, "source": est.source}


# -- the cache ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CachedAnswer:
    answer: Any
    etag: str | None
    fetched_at: float


class PriceCache:
    """The last catalogue answer per model, its ETag and when it was fetched, in one small JSON file.

    Writes are atomic (a temporary file renamed over the old one), so a crash leaves the old cache or the
    new one; a file that cannot be read or parsed is an empty cache (prices are fetched again).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        try:
            if self.path.stat().st_size > MAX_CACHE_BYTES:
                return {}
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            log.info("price cache %s unreadable (%s): starting empty", self.path, type(exc).__name__)
            return {}
        entries = data.get("models") if isinstance(data, dict) else None
        return entries if isinstance(entries, dict) else {}

    def get(self, model_id: str) -> CachedAnswer | None:
        raw = self._load().get(model_id)
        if not isinstance(raw, dict) or "answer" not in raw:
            return None
        etag = raw.get("etag")
        fetched = raw.get("fetched_at")
        if (etag is not None and not isinstance(etag, str)) or isinstance(fetched, bool):
            return None
        if not isinstance(fetched, int | float) or not math.isfinite(fetched):
            return None
        return CachedAnswer(raw["answer"], etag, float(fetched))

    def put(self, model_id: str, answer: Any, etag: str | None, fetched_at: float | None = None) -> None:
        entries = self._load()
        entries[model_id] = {
            "answer": answer,
            "etag": etag,
            "fetched_at": time.time() if fetched_at is None else fetched_at,
        }
        self._write({"version": 1, "models": entries})

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, allow_nan=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class _PricingSource(Protocol):
    def model_pricing(self, model_id: str, etag: str | None = None) -> PricingAnswer: ...


def current_pricing(client: _PricingSource, cache: PriceCache, model_id: str) -> Pricing | None:
    """Our model's pricing: fetched (with the cached ETag), else from the cache; None when not listed.

    A 304 confirms the cached answer is current, so its source is "live". When the network or the server
    fails, or answers junk, the cached answer is used and its source is "cached"; with no cache the error
    is raised (the caller shows "unknown"). Only a usable answer replaces the cached one; a cache that
    cannot be written is not an error: the price is still known for this run.
    """
    cached = cache.get(model_id)
    try:
        fetched = client.model_pricing(model_id, cached.etag if cached else None)
        if fetched.not_modified and cached is not None:
            answer, etag = cached.answer, fetched.etag or cached.etag
        else:
            answer, etag = fetched.answer, fetched.etag
        pricing = find_model(answer, model_id, "live")
    except PixDeskError:  # network, server, or a malformed answer: the last good one still stands
        if cached is None:
            raise
        return _from_cache(cached, model_id)
    try:
        cache.put(model_id, answer, etag)
    except (OSError, ValueError) as exc:
        log.info("price cache %s not written: %s", cache.path, type(exc).__name__)
    return pricing


def _from_cache(cached: CachedAnswer, model_id: str) -> Pricing | None:
    try:
        return find_model(cached.answer, model_id, "cached")
    except MalformedResponseError:
        return None
