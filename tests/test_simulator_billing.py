"""The simulator speaks DESIGN §1b: cost headers, the priced catalogue, latency, usage logs and the ledger.

Everything runs against the real HTTP server with `requests`; time moves by a fake clock, never by sleeping.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pixdesk.simulator import Fault, Simulator
from pixdesk.simulator.billing import fixed_pricing, variable_pricing, variants_pricing
from tests.conftest import TEST_KEY, png_bytes

MODEL = "pixverse/v5/image-to-video"
ALIAS = "pixverse-v5-image-to-video"
AUTH = {"Authorization": f"Bearer {TEST_KEY}"}
IMAGE = "data:image/png;base64," + base64.b64encode(png_bytes((64, 48))).decode()
SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "api-schemas"
CREATE = "/v2/video/generations"


class Clock:
    """A fake clock the simulator reads; a test advances it instead of sleeping."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bsim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(
        queue_seconds=1.0, generate_seconds=2.0, render_sync=True, clock=clock, logs_lag_seconds=5.0,
        ledger_lag_seconds=10.0,
    ) as server:  # fmt: skip
        yield server


def body(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "prompt": "a calm lake", "image_url": IMAGE, "resolution": "360p", **extra}


def create(sim: Simulator, crid: str | None = None, **extra: Any) -> requests.Response:
    headers = {**AUTH, **({"X-Client-Request-Id": crid} if crid else {})}
    return requests.post(sim.url + CREATE, json=body(**extra), headers=headers, timeout=60)


def poll(sim: Simulator, gen_id: str) -> requests.Response:
    return requests.get(sim.url + CREATE, params={"generation_id": gen_id}, headers=AUTH, timeout=30)


def get(sim: Simulator, path: str, params: Any = None, auth: bool = True, **headers: str) -> requests.Response:
    return requests.get(sim.url + path, params=params, headers={**(AUTH if auth else {}), **headers}, timeout=30)


def finish(sim: Simulator, clock: Clock, gen_id: str) -> dict[str, Any]:
    """Let the generation finish and answer one poll (the moment the charge posts)."""
    clock.advance(sim.queue_seconds + sim.generate_seconds + 0.1)
    answer: dict[str, Any] = poll(sim, gen_id).json()
    return answer


# -- schema checks ----------------------------------------------------------------------------------
def response_schema(name: str, path: str) -> dict[str, Any]:
    """The 200 schema of one official §1b description (skips when ../shared/api-schemas is absent)."""
    file = SCHEMAS / name
    if not file.is_file():
        pytest.skip(f"official schemas not found at {SCHEMAS}")
    spec = json.loads(file.read_text(encoding="utf-8"))
    schema: dict[str, Any] = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def conforms(schema: dict[str, Any], value: Any, where: str = "$") -> None:
    """Required keys, types, enums and nullability, recursively: enough to catch a drifting shape."""
    if value is None:
        assert schema.get("nullable"), f"{where} is null but not nullable"
        return
    kind = schema.get("type")
    if kind:
        assert isinstance(value, TYPES[kind]), f"{where}: expected {kind}, got {value!r}"
        assert kind == "boolean" or not isinstance(value, bool), f"{where}: a boolean where {kind} belongs"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if kind == "object":
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                conforms(sub, value[key], f"{where}.{key}")
    if kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            conforms(schema["items"], item, f"{where}[{i}]")


# -- 1. cost and tracing headers --------------------------------------------------------------------
def test_create_and_poll_carry_cost_headers_and_usage(bsim: Simulator, clock: Clock) -> None:
    start = bsim.balance_usd
    created = create(bsim, "ours-1")
    assert created.status_code == 201
    gen_id = created.json()["id"]
    assert created.headers["x-inference-id"] == gen_id and created.headers["x-client-request-id"] == "ours-1"
    # default price: 360p at $0.06 per second, 5 s → $0.30 → 600,000 credits ($1 = 2,000,000)
    assert created.headers["x-aimlapi-credits-used"] == "600000" and created.headers["x-aimlapi-usd-spent"] == "0.3"
    assert created.json()["meta"]["usage"] == {"credits_used": 600_000, "usd_spent": 0.3}

    running = poll(bsim, gen_id)
    assert running.json()["status"] == "queued" and running.json()["meta"] is None
    assert "x-aimlapi-credits-used" not in running.headers

    clock.advance(3.5)
    done = poll(bsim, gen_id)
    assert done.json()["status"] == "completed"
    assert done.json()["meta"]["usage"] == {"credits_used": 600_000, "usd_spent": 0.3}
    assert done.headers["x-aimlapi-credits-used"] == "600000" and done.headers["x-aimlapi-usd-spent"] == "0.3"
    assert bsim.balance_usd == pytest.approx(start - 0.3)
    poll(bsim, gen_id)
    assert bsim.balance_usd == pytest.approx(start - 0.3)  # charged once


def test_a_failed_generation_costs_nothing(bsim: Simulator, clock: Clock) -> None:
    bsim.fail_generations = 1
    start = bsim.balance_usd
    gen_id = create(bsim).json()["id"]
    clock.advance(3.5)
    failed = poll(bsim, gen_id)
    assert failed.json()["status"] == "error"
    assert failed.json()["meta"]["usage"] == {"credits_used": 0, "usd_spent": 0}
    assert failed.headers["x-aimlapi-credits-used"] == "0" and failed.headers["x-aimlapi-usd-spent"] == "0"
    assert bsim.balance_usd == start


# -- 2. the priced catalogue ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pricing", "credits"),
    [
        (variants_pricing({"360p": 0.05, "720p": 0.1}), 800_000),  # 8 s × $0.05
        (fixed_pricing(0.5, per=1, measure="generation"), 1_000_000),  # $0.50 a video, whatever its length
        (fixed_pricing(0.3, per=2, measure="second"), 2_400_000),  # $0.30 per 2 s → 8 s = $1.20
        (variable_pricing(hidden_usd_per_second=0.07), 1_120_000),  # not quotable, still charged
    ],
    ids=["variants", "fixed-per-video", "fixed-per-2s", "variable"],
)
def test_pricing_kinds_are_published_and_charged(bsim: Simulator, pricing: Any, credits: int) -> None:
    bsim.set_pricing(MODEL, pricing)
    answer = get(bsim, "/v1/models", {"id": MODEL, "include": "pricing"}, auth=False)
    assert answer.status_code == 200
    conforms(response_schema("models.json", "/v1/models"), answer.json())
    [model] = answer.json()["data"]
    published = model["pricing"]
    assert published["kind"] == pricing.kind and published["currency"] == "USD"
    if pricing.kind == "fixed":
        assert all({"name", "measure", "price", "per"} <= set(u) for u in published["units"])
    elif pricing.kind == "variants":
        assert published["dimensions"] == ["resolution"]
        assert {"when": {"resolution": "360p"}, "price": 0.05, "unit": "second", "per": 1} in published["variants"]
    else:
        assert "units" not in published and "variants" not in published
    assert create(bsim, duration=8).headers["x-aimlapi-credits-used"] == str(credits)


def test_the_default_price_varies_by_resolution(bsim: Simulator) -> None:
    published = get(bsim, "/v1/models", {"id": MODEL, "include": "pricing"}, auth=False).json()["data"][0]["pricing"]
    assert published["kind"] == "variants"
    prices = {v["when"]["resolution"]: v["price"] for v in published["variants"]}
    assert set(prices) == {"360p", "540p", "720p", "1080p"} and prices["1080p"] > prices["360p"]
    assert create(bsim, resolution="1080p").headers["x-aimlapi-credits-used"] == str(round(prices["1080p"] * 5 * 2e6))


def test_a_model_is_found_by_its_alias_and_pricing_only_when_asked(bsim: Simulator) -> None:
    by_alias = get(bsim, "/v1/models", {"id": ALIAS, "include": "pricing"}, auth=False).json()["data"]
    assert [m["id"] for m in by_alias] == [MODEL] and ALIAS in by_alias[0]["aliases"]
    plain = get(bsim, "/v1/models", {"id": MODEL}, auth=False).json()["data"]
    assert "pricing" not in plain[0] and {"name", "developer"} <= set(plain[0]["info"])
    assert get(bsim, "/v1/models", {"id": "nobody/none"}, auth=False).json() == {"object": "list", "data": []}
    everything = get(bsim, "/v1/models", {"include": "pricing,capabilities"}, auth=False).json()["data"]
    assert len(everything) > 1 and all("pricing" in m and "capabilities" in m for m in everything)


def test_the_catalogue_answers_304_to_a_matching_etag(bsim: Simulator) -> None:
    params = {"id": MODEL, "include": "pricing"}
    first = get(bsim, "/v1/models", params, auth=False)
    etag = first.headers["ETag"]
    again = get(bsim, "/v1/models", params, auth=False, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert bsim.stats.not_modified == 1
    bsim.set_pricing(MODEL, fixed_pricing(0.42))
    changed = get(bsim, "/v1/models", params, auth=False, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.json()["data"][0]["pricing"]["units"][0]["price"] == 0.42
    assert bsim.stats.not_modified == 1


# -- 3. live latency --------------------------------------------------------------------------------
def test_metrics_absent_before_any_success_then_percentiles(bsim: Simulator, clock: Clock) -> None:
    empty = get(bsim, "/models/metrics", {"aliases": MODEL}, auth=False)
    assert empty.status_code == 200 and empty.json()["models"] == []
    conforms(response_schema("model-metrics.json", "/models/metrics"), empty.json())

    for queue in (1.0, 2.0, 3.0):
        bsim.queue_seconds = queue
        create(bsim)
    bsim.fail_generations = 1
    create(bsim)  # a failure is not measured
    clock.advance(10)
    answer = get(bsim, "/models/metrics", {"aliases": MODEL}, auth=False).json()
    conforms(response_schema("model-metrics.json", "/models/metrics"), answer)
    [model] = answer["models"]
    assert model["alias"] == MODEL and model["endpoint"] == "/v2/video/generations"
    ms = model["metrics"]["duration_ms"]
    assert ms["p50"] == pytest.approx(4000) and 4000 < ms["p75"] <= ms["p90"] <= ms["p99"] <= 5000

    clock.advance(bsim.metrics_window_seconds + 1)  # out of the sliding window
    assert get(bsim, "/models/metrics", {"aliases": MODEL}, auth=False).json()["models"] == []
    assert get(bsim, "/models/metrics", {"alias": MODEL}, auth=False).status_code == 400


# -- 4. usage logs ----------------------------------------------------------------------------------
def logs(sim: Simulator, **params: Any) -> requests.Response:
    return get(sim, "/v2/logs", {"period": "24h", **params})


def test_a_log_row_appears_only_after_the_lag(bsim: Simulator, clock: Clock) -> None:
    gen_id = create(bsim, "lagging-1").json()["id"]
    assert logs(bsim).json()["data"] == []
    clock.advance(bsim.logs_lag_seconds)
    answer = logs(bsim, model=MODEL)
    conforms(response_schema("logs-v2.json", "/v2/logs"), answer.json())
    [row] = answer.json()["data"]
    assert row["inference_id"] == gen_id and row["client_request_id"] == "lagging-1"
    assert row["status"] == "succeeded" and row["origin"] == "api" and row["model"] == MODEL
    assert row["cost"] == {"usd": 0.3, "credits": 600_000}
    assert answer.json()["pagination"] == {"limit": 50, "offset": 0, "total": 1, "has_more": False}
    assert get(bsim, "/v2/logs", {"period": "24h"}, auth=False).status_code == 401


def test_a_dropped_create_is_found_in_the_logs_by_client_request_id(bsim: Simulator, clock: Clock) -> None:
    bsim.faults.append(Fault("drop_after_accept", "create"))
    with pytest.raises(requests.ConnectionError):
        create(bsim, "lost-answer-7")
    clock.advance(bsim.logs_lag_seconds)
    rows = logs(bsim).json()["data"]
    [row] = [r for r in rows if r["client_request_id"] == "lost-answer-7"]
    assert row["inference_id"] in bsim.generations
    assert finish(bsim, clock, row["inference_id"])["status"] == "completed"  # the app can poll it


def test_log_status_filters_list_failures_at_no_cost(bsim: Simulator, clock: Clock) -> None:
    ok = create(bsim).json()["id"]
    clock.advance(0.1)
    bsim.fail_generations = 1
    bad = create(bsim).json()["id"]
    clock.advance(0.1)
    refused = requests.post(
        bsim.url + CREATE, json=body(duration=7), headers={**AUTH, "X-Client-Request-Id": "refused-1"}, timeout=30
    )
    assert refused.status_code == 400
    clock.advance(10)

    def ids(*statuses: str) -> list[str | None]:
        return [r["inference_id"] for r in logs(bsim, status=list(statuses)).json()["data"]]

    assert ids("succeeded") == [ok]
    assert ids("failed") == [None, bad]  # newest first: the refused create has no inference id
    assert ids("succeeded", "failed") == ids() == [None, bad, ok]
    failed_rows = logs(bsim, status="failed").json()["data"]
    assert all(r["cost"] == {"usd": 0, "credits": 0} for r in failed_rows)
    assert failed_rows[0]["client_request_id"] == "refused-1"
    assert failed_rows[0]["request_id"] == refused.json()["requestId"]
    assert logs(bsim, status="succeeded,failed").status_code == 400
    assert logs(bsim, model="other/model").json()["data"] == []


def test_logs_page_by_offset(bsim: Simulator, clock: Clock) -> None:
    made = [create(bsim, f"page-{i}").json()["id"] for i in range(5)]
    clock.advance(10)
    seen: list[str] = []
    offset = 0
    while True:
        page = logs(bsim, limit=2, offset=offset).json()
        seen += [r["inference_id"] for r in page["data"]]
        assert page["pagination"]["total"] == 5 and page["pagination"]["limit"] == 2
        if not page["pagination"]["has_more"]:
            break
        offset += 2
    assert sorted(seen) == sorted(made) and len(seen) == 5
    assert logs(bsim, limit=101).status_code == 400 and logs(bsim, offset=-1).status_code == 400


def test_logs_windows_are_checked(bsim: Simulator, clock: Clock) -> None:
    create(bsim)
    clock.advance(10)
    window = {"start": "2026-01-01T00:00:00Z", "end": "2026-04-03T00:00:01Z"}  # 92 days and a second
    too_long = get(bsim, "/v2/logs", window)
    assert too_long.status_code == 400 and "92 days" in too_long.json()["message"]
    assert get(bsim, "/v2/logs", {"start": "2026-01-01T00:00:00Z"}).status_code == 400
    assert get(bsim, "/v2/logs", {"period": "24h", **window}).status_code == 400
    assert get(bsim, "/v2/logs", {"period": "soon"}).status_code == 400
    assert get(bsim, "/v2/logs", {"start": "2020-01-01T00:00:00", "end": "2020-02-01T00:00:00"}).json()["data"] == []
    assert len(get(bsim, "/v2/logs", {"period": "1h"}).json()["data"]) == 1


def test_logs_are_rate_limited(clock: Clock) -> None:
    with Simulator(clock=clock, logs_rate_limit=3, logs_rate_window=60.0) as sim:
        assert [logs(sim).status_code for _ in range(3)] == [200, 200, 200]
        limited = logs(sim)
        assert limited.status_code == 429 and 0 < float(limited.headers["Retry-After"]) <= 60
        clock.advance(60)
        assert logs(sim).status_code == 200


# -- 5. the ledger ----------------------------------------------------------------------------------
def charges(sim: Simulator, **params: Any) -> requests.Response:
    return get(sim, "/v2/billing/transactions", {"direction": "CHARGE", "type": "MODEL_USAGE", **params})


def test_a_charge_posts_after_completion_and_the_lag(bsim: Simulator, clock: Clock) -> None:
    start = bsim.balance_usd
    gen_id = create(bsim).json()["id"]
    clock.advance(60)
    assert charges(bsim).json()["data"] == []  # done at the server, but nobody has seen it completed yet
    assert poll(bsim, gen_id).json()["status"] == "completed"
    clock.advance(bsim.ledger_lag_seconds - 1)
    assert charges(bsim).json() == {"data": [], "pagination": {"next_cursor": None, "has_more": False}}
    clock.advance(1)
    answer = charges(bsim)
    conforms(response_schema("billing-transactions-v2.json", "/v2/billing/transactions"), answer.json())
    [entry] = answer.json()["data"]
    assert entry["reference_id"] == gen_id and entry["model"] == MODEL
    assert entry["amount"] == {"usd": 0.3, "credits": 600_000}
    assert (entry["direction"], entry["type"]) == ("CHARGE", "MODEL_USAGE")
    balance = get(bsim, "/v2/billing").json()["current_balance"]
    assert balance == pytest.approx(start - entry["amount"]["usd"])
    assert charges(bsim, direction="TOPUP").json()["data"] == []
    assert get(bsim, "/v2/billing/transactions", auth=False).status_code == 401


def test_a_failed_generation_has_no_charge(bsim: Simulator, clock: Clock) -> None:
    bsim.fail_generations = 1
    gen_id = create(bsim).json()["id"]
    assert finish(bsim, clock, gen_id)["status"] == "error"
    clock.advance(bsim.ledger_lag_seconds + 60)
    assert charges(bsim).json()["data"] == []


def test_the_ledger_pages_by_cursor_only(bsim: Simulator, clock: Clock) -> None:
    made = []
    for _ in range(3):
        gen_id = create(bsim).json()["id"]
        finish(bsim, clock, gen_id)
        made.append(gen_id)
    clock.advance(bsim.ledger_lag_seconds)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = charges(bsim, limit=1, **({"cursor": cursor} if cursor else {})).json()
        seen += [e["reference_id"] for e in page["data"]]
        cursor = page["pagination"]["next_cursor"]
        assert page["pagination"]["has_more"] == (cursor is not None)
        if cursor is None:
            break
    assert seen == made[::-1]  # newest first
    assert charges(bsim, cursor="not-one-we-issued").status_code == 400
    assert charges(bsim, **{"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}).status_code == 400
    assert charges(bsim, direction="SIDEWAYS").status_code == 400


# -- 6. demo persistence ----------------------------------------------------------------------------
def test_costs_charges_and_trace_ids_survive_a_restart(tmp_path: Path) -> None:
    options: dict[str, Any] = {
        "queue_seconds": 0.0,
        "generate_seconds": 0.0,
        "render_sync": True,
        "logs_lag_seconds": 0.0,
        "ledger_lag_seconds": 0.0,
        "state_dir": tmp_path / "state",
    }
    with Simulator(**options) as first:
        gen_id = create(first, "kept-1").json()["id"]
        assert poll(first, gen_id).json()["status"] == "completed"
        ledger, rows, balance = charges(first).json()["data"], logs(first).json()["data"], first.balance_usd
    with Simulator(**options) as second:
        assert charges(second).json()["data"] == ledger
        assert logs(second).json()["data"] == rows and rows[0]["client_request_id"] == "kept-1"
        assert second.balance_usd == pytest.approx(balance)
        again = poll(second, gen_id)
        assert again.json()["meta"]["usage"]["credits_used"] == 600_000
        assert second.balance_usd == pytest.approx(balance)  # not charged twice
