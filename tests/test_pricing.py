"""Pricing: each kind parsed, matched by id or alias, estimates from the fixture's prices, the cache on disk."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixdesk.api.errors import ConnectionFailed, MalformedResponseError
from pixdesk.api.pricing import (
    CREDITS_PER_USD,
    PriceCache,
    PriceKind,
    PricingAnswer,
    current_pricing,
    estimate,
    find_model,
    parse_pricing,
    quote_json,
)
from tests.test_usage import SCHEMAS, json_values, needs_schemas, schema_example

MODEL = "pixverse/v5/image-to-video"

# The prices live here, in the fixture answers, never in the code under test.
VARIANTS = {
    "kind": "variants",
    "currency": "USD",
    "dimensions": ["resolution"],
    "variants": [
        {"when": {"resolution": "360p"}, "price": 0.2, "unit": "second", "per": 1},
        {"when": {"resolution": "720p"}, "price": 0.39, "unit": "second", "per": 1},
        {"when": {"resolution": "1080p"}, "price": 4.0, "unit": "second", "per": 10},
    ],
}
FIXED_PER_GENERATION = {"kind": "fixed", "units": [{"name": "video", "measure": "generation", "price": 1.5, "per": 1}]}
FIXED_PER_SECOND = {"kind": "fixed", "units": [{"name": "output", "measure": "second", "price": 3, "per": 10}]}


def entry(pricing: Any, model_id: str = "pixverse/v5-i2v", aliases: Any = (MODEL,)) -> dict[str, Any]:
    return {
        "id": model_id,
        "aliases": list(aliases),
        "type": "video",
        "info": {"name": "PixVerse v5", "developer": "PixVerse"},
        "tags": [],
        "pricing": pricing,
    }


def answer(*entries: Any) -> dict[str, Any]:
    return {"object": "list", "data": list(entries)}


def quote(pricing_block: Any, resolution: str = "720p", seconds: float = 5, count: int = 1):
    return estimate(
        find_model(answer(entry(pricing_block)), MODEL), resolution=resolution, duration_seconds=seconds, count=count
    )


# -- parsing and matching ----------------------------------------------------------------------------
@needs_schemas
def test_schema_example_entry_with_design_pricing_matches_by_alias():
    spec = json.loads((SCHEMAS / "models.json").read_text(encoding="utf-8"))
    schema = spec["paths"]["/v1/models"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    example = schema_example(schema)
    example["data"][0]["pricing"] = VARIANTS
    pricing = find_model(example, "gpt-4o")  # the example's alias
    assert pricing is not None and pricing.model_id == "openai/gpt-4o" and pricing.kind is PriceKind.VARIANTS
    assert find_model(example, MODEL) is None


def test_match_by_id_and_by_alias_and_not_by_prefix():
    both = answer(entry(FIXED_PER_GENERATION, "other", ["x"]), entry(VARIANTS, MODEL, []))
    by_id = find_model(both, MODEL)
    assert by_id is not None and by_id.kind is PriceKind.VARIANTS
    by_alias = find_model(answer(entry(VARIANTS)), MODEL)
    assert by_alias is not None and by_alias.model_id == "pixverse/v5-i2v" and by_alias.aliases == (MODEL,)
    assert find_model(answer(entry(VARIANTS)), "pixverse/v5") is None


def test_a_bad_neighbour_does_not_hide_our_price():
    pricing = find_model(
        answer("junk", {"id": 5}, entry({"kind": "fixed", "units": "x"}, "b", []), entry(VARIANTS)), MODEL
    )
    assert pricing is not None


@pytest.mark.parametrize("bad", [None, [], {"object": "list"}, {"data": "x"}])
def test_a_catalogue_answer_without_data_is_malformed(bad):
    with pytest.raises(MalformedResponseError):
        find_model(bad, MODEL)


@pytest.mark.parametrize(
    "pricing",
    [
        None,
        "cheap",
        {},
        {"kind": 3},
        {"kind": "fixed"},
        {"kind": "fixed", "units": []},
        {"kind": "fixed", "units": [{"measure": "second", "price": float("nan"), "per": 1}]},
        {"kind": "fixed", "units": [{"measure": "second", "price": -1, "per": 1}]},
        {"kind": "fixed", "units": [{"measure": "second", "price": "0.1", "per": 1}]},
        {"kind": "fixed", "units": [{"measure": "second", "price": 0.1, "per": 0}]},
        {"kind": "fixed", "units": [{"measure": "second", "price": True, "per": 1}]},
        {"kind": "variants", "variants": [{"price": 1, "unit": "second"}]},
        {"kind": "variants", "variants": [{"when": {"resolution": [1]}, "price": 1, "unit": "second"}]},
        {"kind": "variants", "variants": [{"when": {"resolution": "720p"}, "price": float("inf"), "unit": "s"}]},
        {"kind": "variants", "dimensions": "resolution", "variants": VARIANTS["variants"]},
    ],
)
def test_an_unusable_price_for_our_model_raises(pricing):
    with pytest.raises(MalformedResponseError):
        find_model(answer(entry(pricing)), MODEL)


def test_unknown_kind_is_tolerated_as_unquotable():
    pricing = find_model(answer(entry({"kind": "auction", "extra": {"x": 1}})), MODEL)
    assert pricing is not None and pricing.kind is PriceKind.VARIABLE and pricing.kind_word == "auction"
    assert estimate(pricing, resolution="720p", duration_seconds=5) is None


# -- estimates ---------------------------------------------------------------------------------------
def test_variants_per_second_counts_the_seconds():
    est = quote(VARIANTS, "720p", 5)
    assert est is not None and est.source == "live"
    assert est.usd == pytest.approx(0.39 * 5) and est.credits == round(0.39 * 5 * CREDITS_PER_USD)
    eight = quote(VARIANTS, "720p", 8)
    assert eight is not None and eight.usd == pytest.approx(0.39 * 8)


def test_per_divides_the_price():
    est = quote(VARIANTS, "1080p", 5)  # 4.0 per 10 seconds
    assert est is not None and est.usd == pytest.approx(4.0 * 5 / 10)
    fixed = quote(FIXED_PER_SECOND, "540p", 8)  # 3 per 10 seconds
    assert fixed is not None and fixed.usd == pytest.approx(3 * 8 / 10)


def test_fixed_per_generation_is_one_unit_and_count_multiplies():
    one = quote(FIXED_PER_GENERATION, seconds=8)
    three = quote(FIXED_PER_GENERATION, seconds=5, count=3)
    assert one is not None and one.usd == pytest.approx(1.5)
    assert three is not None and three.usd == pytest.approx(4.5) and three.credits == 3 * one.credits


def test_variants_match_numbers_and_words_alike_and_the_most_specific_wins():
    block = {
        "kind": "variants",
        "dimensions": ["resolution", "duration"],
        "variants": [
            {"when": {"resolution": "720P"}, "price": 0.5, "unit": "second", "per": 1},
            {"when": {"resolution": "720p", "duration": 8}, "price": 2, "unit": "generation", "per": 1},
            {"when": {"resolution": "720p", "duration": "5"}, "price": 1, "unit": "generation"},
        ],
    }
    assert quote(block, "720p", 8).usd == pytest.approx(2)  # type: ignore[union-attr]
    assert quote(block, "720p", 5).usd == pytest.approx(1)  # type: ignore[union-attr]


def test_no_matching_variant_or_variable_or_unknown_unit_is_none():
    assert quote(VARIANTS, "540p") is None
    assert quote({"kind": "variable"}) is None
    assert quote({"kind": "fixed", "units": [{"measure": "token", "price": 1, "per": 1000}]}) is None
    assert quote({**FIXED_PER_GENERATION, "currency": "EUR"}) is None
    assert estimate(None, resolution="720p", duration_seconds=5) is None


def test_an_absurd_rate_is_no_quote_not_a_crash():
    block = {"kind": "fixed", "units": [{"measure": "second", "price": 1e300, "per": 1e-300}]}
    assert quote(block) is None


def test_a_null_currency_is_usd_as_documented():
    assert quote({**FIXED_PER_GENERATION, "currency": None}) is not None


def test_quote_json_shapes():
    est = quote(FIXED_PER_GENERATION)
    assert quote_json(est) == {"usd": 1.5, "credits": 3_000_000, "source": "live"}
    assert quote_json(None) == {"usd": None, "credits": None, "source": "unknown"}


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "kind": st.one_of(st.sampled_from(["fixed", "variants", "variable"]), json_values),
                "currency": json_values,
                "units": st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "measure": st.sampled_from(["second", "generation", "x"]),
                            "price": json_values,
                            "per": json_values,
                        },
                    ),
                    max_size=3,
                )
                | json_values,
                "variants": st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "when": st.one_of(st.just({"resolution": "720p"}), json_values),
                            "price": json_values,
                            "unit": st.one_of(st.just("second"), json_values),
                            "per": json_values,
                        },
                    ),
                    max_size=3,
                )
                | json_values,
            },
        ),
    )
)
def test_hostile_pricing_never_crashes(block):
    try:
        pricing = parse_pricing(entry(block))
    except MalformedResponseError:
        return
    est = estimate(pricing, resolution="720p", duration_seconds=5)
    if est is not None:
        assert math.isfinite(est.usd) and est.usd >= 0 and est.credits >= 0


# -- the cache ----------------------------------------------------------------------------------------
def test_cache_round_trip_keeps_the_etag(tmp_path: Path):
    cache = PriceCache(tmp_path / "sub" / "prices.json")
    assert cache.get(MODEL) is None
    raw = answer(entry(VARIANTS))
    cache.put(MODEL, raw, '"v1"', fetched_at=1234.5)
    again = PriceCache(tmp_path / "sub" / "prices.json").get(MODEL)
    assert again is not None and again.answer == raw and again.etag == '"v1"' and again.fetched_at == 1234.5
    assert not list((tmp_path / "sub").glob("*.tmp"))  # the temporary file was renamed, not left behind


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b"\xff\xfe", b"[]", b'{"models": []}', b'{"models": {"' + MODEL.encode() + b'": {"etag": 5}}}'],
)
def test_a_corrupt_cache_is_an_empty_cache(tmp_path: Path, content: bytes):
    path = tmp_path / "prices.json"
    path.write_bytes(content)
    cache = PriceCache(path)
    assert cache.get(MODEL) is None
    cache.put(MODEL, answer(), None)  # and it can be written over
    assert cache.get(MODEL) is not None


class FakeSource:
    """Stands in for ApiClient.model_pricing (the client's own method is tested in test_usage.py)."""

    def __init__(self, *results: PricingAnswer | Exception) -> None:
        self.results = list(results)
        self.etags: list[str | None] = []

    def model_pricing(self, model_id: str, etag: str | None = None) -> PricingAnswer:
        self.etags.append(etag)
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def test_current_pricing_live_then_304_then_cached_on_network_failure(tmp_path: Path):
    cache = PriceCache(tmp_path / "prices.json")
    source = FakeSource(
        PricingAnswer(False, answer(entry(VARIANTS)), '"v1"'),
        PricingAnswer(True, None, '"v1"'),
        ConnectionFailed("down", may_have_reached_server=False),
        PricingAnswer(False, "<html>", None),
    )
    first = current_pricing(source, cache, MODEL)
    assert first is not None and first.source == "live"
    second = current_pricing(source, cache, MODEL)
    assert second is not None and second.source == "live" and second.kind is PriceKind.VARIANTS
    third = current_pricing(source, cache, MODEL)
    assert third is not None and third.source == "cached"
    est = estimate(third, resolution="720p", duration_seconds=5)
    assert est is not None and est.source == "cached"
    junk = current_pricing(source, cache, MODEL)  # a junk answer never replaces the cached one
    assert junk is not None and junk.source == "cached"
    assert source.etags == [None, '"v1"', '"v1"', '"v1"']


def test_current_pricing_without_cache_raises_on_failure(tmp_path: Path):
    with pytest.raises(ConnectionFailed):
        current_pricing(
            FakeSource(ConnectionFailed("down", may_have_reached_server=False)), PriceCache(tmp_path / "p.json"), MODEL
        )
