"""The price of a job before it is sent: fetched from the API's model catalogue (no key needed), kept on disk
with its ETag so it works offline, refreshed in the background. No price is written in PixDesk's code."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Protocol

from pixdesk.api.errors import PixDeskError
from pixdesk.api.pricing import Estimate, PriceCache, Pricing, PricingAnswer, current_pricing, estimate
from pixdesk.api.request import GenerationRequest

log = logging.getLogger(__name__)


class PricingClient(Protocol):
    def model_pricing(self, model_id: str, etag: str | None = None) -> PricingAnswer: ...


class PriceBook:
    """Thread-safe: `refresh` runs on a worker thread (it makes an HTTP request), `quote` anywhere."""

    def __init__(self, cache_path: Path) -> None:
        self.cache = PriceCache(cache_path)
        self._lock = threading.Lock()
        self._pricing: dict[str, Pricing | None] = {}

    def refresh(self, client: PricingClient, model_id: str) -> Pricing | None:
        """Fetch (revalidating the cached copy) or fall back to the cache; blocking: call it off the UI thread."""
        try:
            pricing = current_pricing(client, self.cache, model_id)
        except PixDeskError as exc:
            log.info("no price for %s: %s", model_id, getattr(exc, "message", exc))
            pricing = None
        with self._lock:
            self._pricing[model_id] = pricing
        return pricing

    def load_cached(self, model_id: str) -> Pricing | None:
        """What the disk cache says (no network): the price is shown at once, the refresh follows."""
        cached = self.cache.get(model_id)
        pricing = None
        if cached is not None:
            from pixdesk.api.pricing import find_model

            try:
                pricing = find_model(cached.answer, model_id, "cached")
            except PixDeskError:
                pricing = None
        with self._lock:
            self._pricing.setdefault(model_id, pricing)
        return pricing

    async def refresh_async(self, client: PricingClient, model_id: str) -> Pricing | None:
        import asyncio  # not at the top: the window's first frame needs the price book, not asyncio

        return await asyncio.get_running_loop().run_in_executor(None, self.refresh, client, model_id)

    def quote(self, request: GenerationRequest, count: int = 1, seconds: float | None = None) -> Estimate | None:
        """The estimate for `count` jobs like `request`, or None when the price is unknown or variable.
        `seconds` is the length for a model without a duration of its own (lip-sync: the clip's)."""
        with self._lock:
            pricing = self._pricing.get(request.model)
        resolution = str(request.effective("resolution") or "")
        duration = request.effective("duration")
        if duration is None:
            duration = seconds  # still None: quotable only by a price that does not count seconds
        if pricing is None or (duration is not None and (not isinstance(duration, int | float) or duration <= 0)):
            return None
        length = float(duration) if duration is not None else None
        return estimate(pricing, resolution=resolution, duration_seconds=length, count=max(1, count))
