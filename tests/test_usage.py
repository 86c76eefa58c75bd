"""Usage logs, ledger, metrics and cost headers: schema examples parse, hostile answers end in typed errors."""

from __future__ import annotations

import copy
import json
import math
import threading
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixdesk.api.client import ApiClient
from pixdesk.api.errors import ApiError, AuthenticationError, BadRequestError, MalformedResponseError
from pixdesk.api.pricing import find_model
from pixdesk.api.usage import (
    LedgerPage,
    LogsPage,
    Metrics,
    Trace,
    parse_cost_headers,
    parse_ledger,
    parse_logs,
    parse_metrics,
    parse_trace,
    usd_spent,
)
from tests.conftest import TEST_KEY

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "api-schemas"
needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"official schemas not present at {SCHEMAS}")


def schema_example(schema: dict[str, Any]) -> Any:
    """An example answer built from a schema's own `example` values (properties first, then `example`)."""
    if schema.get("type") == "object" and "properties" in schema:
        return {k: schema_example(v) for k, v in schema["properties"].items()}
    if schema.get("type") == "array" and "example" not in schema:
        return [schema_example(schema.get("items", {}))]
    return copy.deepcopy(schema.get("example"))


def answer_example(name: str, path: str) -> Any:
    spec = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    op = spec["paths"][path]["get"]
    return schema_example(op["responses"]["200"]["content"]["application/json"]["schema"])


def visible_only(text: str | None) -> bool:
    return text is None or all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["\x1b[31mred\x1b[0m", "a\u202eb", "x" * 5000, "\x00", "", "2026-07-02T03:04:05.000Z"]),
)
hostile_number = st.one_of(
    st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([-1, "1", True, None, 1e300])
)
money = st.fixed_dictionaries({}, optional={"usd": hostile_number, "credits": hostile_number})


def _row(example: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    optional = {k: st.one_of(st.just(v), hostile_text, json_values) for k, v in example.items()}
    optional["cost"] = st.one_of(st.just(example.get("cost")), money, json_values)
    optional["amount"] = st.one_of(st.just(example.get("amount")), money, json_values)
    return st.fixed_dictionaries({}, optional=optional)


LOG_ROW = {
    "created": "2026-07-02T03:04:05.000Z",
    "status": "succeeded",
    "origin": "api",
    "model": "pixverse/v5/image-to-video",
    "cost": {"usd": 0.25, "credits": 500000},
    "tokens": {"input": 0, "output": 0, "total": 0},
    "request_id": "req-1",
    "inference_id": "8ac1:pixverse/v5/image-to-video",
    "client_request_id": "pixdesk-job-1",
}
CHARGE = {
    "created_at": "2026-08-17T10:00:00.000Z",
    "direction": "CHARGE",
    "type": "MODEL_USAGE",
    "amount": {"usd": 1.56, "credits": 3120000},
    "model": "pixverse/v5/image-to-video",
    "reference_id": "V1StGXR8Z5jdHi6BmyT8k",
}


def logs_answer(*rows: Any, **pagination: Any) -> dict[str, Any]:
    page = {"limit": 50, "offset": 0, "total": len(rows), "has_more": False, **pagination}
    return {"data": list(rows), "pagination": page}


# -- schema examples ----------------------------------------------------------------------------------
@needs_schemas
def test_logs_schema_example_parses():
    page = parse_logs(answer_example("logs-v2.json", "/v2/logs"))
    assert isinstance(page, LogsPage) and page.skipped == 0
    (row,) = page.rows
    assert row.created == datetime(2026, 7, 2, 3, 4, 5, tzinfo=UTC)
    assert (row.status, row.origin, row.model) == ("succeeded", "api", "openai/gpt-5")
    assert (row.cost_usd, row.cost_credits) == (0.25, 500000)
    assert (row.request_id, row.inference_id, row.client_request_id) == ("req-1", "inf-1", "customer-42")
    assert (page.pagination.limit, page.pagination.total, page.pagination.has_more) == (50, 1, False)
    assert page.find_client_request("customer-42") is row
    assert page.find_client_request("someone-else") is None


@needs_schemas
def test_ledger_schema_example_parses():
    page = parse_ledger(answer_example("billing-transactions-v2.json", "/v2/billing/transactions"))
    assert isinstance(page, LedgerPage)
    (charge,) = page.charges
    assert (charge.direction, charge.type, charge.model) == ("CHARGE", "MODEL_USAGE", "openai/gpt-5")
    assert (charge.amount_usd, charge.amount_credits) == (1.56, 3120000)
    assert charge.reference_id == "V1StGXR8Z5jdHi6BmyT8k"
    assert charge.created_at == datetime(2026, 8, 17, 10, tzinfo=UTC)
    assert page.has_more and page.next_cursor == "eyJ2IjoxLCJjIjoiMjAyNi0wOC0xN1QxMDowMDowMC4wMDBaIn0"
    assert page.can_continue


@needs_schemas
def test_metrics_schema_example_parses():
    metrics = parse_metrics(answer_example("model-metrics.json", "/models/metrics"))
    assert isinstance(metrics, Metrics) and metrics.window_seconds == 300
    latency = metrics.for_model("openai/gpt-5")
    assert latency is not None and latency.duration_ms is not None
    assert (latency.duration_ms.p50, latency.duration_ms.p99) == (1830, 9100)
    assert metrics.for_model("pixverse/v5/image-to-video") is None  # absent = no data, not "fast"


# -- logs ---------------------------------------------------------------------------------------------
def test_failed_rows_cost_zero_and_unknown_words_are_kept():
    failed = {**LOG_ROW, "status": "failed", "cost": {"usd": 0, "credits": 0}, "origin": "batch-runner"}
    page = parse_logs(logs_answer(LOG_ROW, failed, {**LOG_ROW, "status": "throttled", "extra": [1]}))
    assert [r.status for r in page.rows] == ["succeeded", "failed", "throttled"]
    assert page.rows[1].cost_usd == 0 and page.rows[1].origin == "batch-runner"


def test_a_bad_row_is_skipped_and_counted_not_fatal():
    bad = [
        {**LOG_ROW, "cost": {"usd": float("nan"), "credits": 1}},
        {**LOG_ROW, "cost": {"usd": -1, "credits": 1}},
        {**LOG_ROW, "cost": {"usd": "0.25", "credits": 1}},
        {**LOG_ROW, "cost": {"usd": 0.1, "credits": 1.5}},
        {**LOG_ROW, "created": "yesterday"},
        {**LOG_ROW, "inference_id": "abc\ndef"},
        {k: v for k, v in LOG_ROW.items() if k != "cost"},
        "not a row",
    ]
    page = parse_logs(logs_answer(*bad, LOG_ROW))
    assert page.skipped == len(bad) and len(page.rows) == 1


def test_shown_strings_are_cleaned_and_bounded_ids_kept_exact():
    row = {**LOG_ROW, "model": "\x1b[31m" + "m" * 5000, "status": "ok\u202e", "origin": None}
    (parsed,) = parse_logs(logs_answer(row)).rows
    assert parsed.model is not None and len(parsed.model) <= 200 and visible_only(parsed.model)
    assert parsed.status == "ok" and parsed.origin is None
    assert parsed.inference_id == "8ac1:pixverse/v5/image-to-video"


def test_a_client_request_id_the_api_would_drop_is_not_ours():
    (parsed,) = parse_logs(logs_answer({**LOG_ROW, "client_request_id": "has space"})).rows
    assert parsed.client_request_id is None
    (parsed,) = parse_logs(logs_answer({**LOG_ROW, "client_request_id": None})).rows
    assert parsed.client_request_id is None


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        "html",
        {"data": "rows", "pagination": {"limit": 1, "offset": 0, "total": 0, "has_more": False}},
        {"data": []},
        {"data": [], "pagination": {"limit": 1, "offset": 0, "total": 0, "has_more": "no"}},
        {"data": [], "pagination": {"limit": -1, "offset": 0, "total": 0, "has_more": False}},
        {"data": [], "pagination": {"limit": 1, "offset": 0, "total": float("inf"), "has_more": False}},
    ],
)
def test_a_malformed_logs_page_raises(answer):
    with pytest.raises(MalformedResponseError):
        parse_logs(answer)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "data": st.one_of(st.lists(_row(LOG_ROW), max_size=4), json_values),
                "pagination": st.one_of(
                    json_values,
                    st.fixed_dictionaries(
                        {},
                        optional={k: hostile_number for k in ("limit", "offset", "total")}
                        | {"has_more": st.one_of(st.booleans(), json_values)},
                    ),
                ),
            },
        ),
    )
)
def test_parse_logs_never_crashes(data):
    try:
        page = parse_logs(data)
    except MalformedResponseError:
        return
    for row in page.rows:
        assert math.isfinite(row.cost_usd) and row.cost_usd >= 0 and row.cost_credits >= 0
        assert row.created.tzinfo is not None
        for shown in (row.status, row.origin, row.model, row.request_id):
            assert visible_only(shown) and (shown is None or len(shown) <= 200)
        assert row.client_request_id is None or len(row.client_request_id) <= 128


# -- ledger -------------------------------------------------------------------------------------------
def test_ledger_last_page_and_null_fields():
    topup = {**CHARGE, "direction": "TOPUP", "type": "PAYMENT", "model": None, "reference_id": None}
    page = parse_ledger(
        {
            "data": [CHARGE, topup, {**CHARGE, "type": "NEW_KIND"}],
            "pagination": {"next_cursor": None, "has_more": False},
        }
    )
    assert [c.type for c in page.charges] == ["MODEL_USAGE", "PAYMENT", "NEW_KIND"]
    assert page.charges[1].model is None and page.charges[1].reference_id is None
    assert not page.can_continue


def test_more_without_a_cursor_cannot_continue():
    page = parse_ledger({"data": [], "pagination": {"next_cursor": None, "has_more": True}})
    assert page.has_more and not page.can_continue


@pytest.mark.parametrize(
    "pagination",
    [None, {"has_more": False}, {"next_cursor": "a\x00b", "has_more": True}, {"next_cursor": 5, "has_more": True}],
)
def test_ledger_with_unusable_pagination_raises(pagination):
    answer: dict[str, Any] = {"data": []}
    if pagination is not None:
        answer["pagination"] = pagination
    if pagination == {"has_more": False}:
        assert parse_ledger(answer).next_cursor is None  # a missing cursor is null: the last page
        return
    with pytest.raises(MalformedResponseError):
        parse_ledger(answer)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                "data": st.one_of(st.lists(_row(CHARGE), max_size=4), json_values),
                "pagination": st.one_of(
                    json_values,
                    st.fixed_dictionaries(
                        {}, optional={"next_cursor": hostile_text, "has_more": st.one_of(st.booleans(), json_values)}
                    ),
                ),
            },
        ),
    )
)
def test_parse_ledger_never_crashes(data):
    try:
        page = parse_ledger(data)
    except MalformedResponseError:
        return
    for charge in page.charges:
        assert math.isfinite(charge.amount_usd) and charge.amount_usd >= 0 and charge.amount_credits >= 0
        for shown in (charge.direction, charge.type, charge.model):
            assert visible_only(shown)


# -- metrics ------------------------------------------------------------------------------------------
def test_metrics_with_bad_percentiles_mean_no_duration_data():
    answer = {
        "window_seconds": 300,
        "generated_at": "2026-08-19T12:00:05.000Z",
        "models": [
            {"alias": "a", "endpoint": "/v2/video/generations", "metrics": {"duration_ms": {"p50": float("nan")}}},
            {"alias": "b", "endpoint": "x", "metrics": {"ttft_ms": {"p50": 1, "p75": 2, "p90": 3, "p99": 4}}},
            {"alias": 7, "metrics": {}},
            "junk",
        ],
    }
    metrics = parse_metrics(answer)
    assert set(metrics.models) == {"a", "b"}
    assert metrics.models["a"].duration_ms is None and metrics.models["b"].duration_ms is None


@pytest.mark.parametrize("answer", [None, [], {"models": "x"}, {"window_seconds": 5}])
def test_malformed_metrics_raise(answer):
    with pytest.raises(MalformedResponseError):
        parse_metrics(answer)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_parse_metrics_never_crashes(data):
    try:
        metrics = parse_metrics(
            {
                "window_seconds": 1,
                "generated_at": "x",
                "models": [data, {"alias": "m", "metrics": {"duration_ms": data}}],
            }
        )
    except MalformedResponseError:
        return
    latency = metrics.for_model("m")
    assert latency is not None
    if latency.duration_ms is not None:
        assert all(math.isfinite(v) and v >= 0 for v in vars(latency.duration_ms).values())


# -- cost headers, trace, meta.usage ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-aimlapi-usd-spent": "1.95", "x-aimlapi-credits-used": "3900000"}, (1.95, 3900000)),
        ({"X-AIMLAPI-USD-SPENT": "0", "X-Aimlapi-Credits-Used": "0"}, (0.0, 0)),
        ({}, (None, None)),
        ({"x-aimlapi-usd-spent": "nan", "x-aimlapi-credits-used": "-5"}, (None, None)),
        ({"x-aimlapi-usd-spent": "inf", "x-aimlapi-credits-used": "lots"}, (None, None)),
        ({"x-aimlapi-usd-spent": "1" * 500, "x-aimlapi-credits-used": "1e400"}, (None, None)),
    ],
)
def test_parse_cost_headers(headers, expected):
    assert parse_cost_headers(headers) == expected


def test_trace_keeps_exact_ids_and_drops_unusable_ones():
    trace = parse_trace(
        {
            "x-client-request-id": "job-1",
            "x-inference-id": "8ac1:pixverse/v5/image-to-video",
            "x-aimlapi-usd-spent": "2",
        }
    )
    assert (trace.client_request_id, trace.inference_id, trace.usd_spent, trace.credits_used) == (
        "job-1",
        "8ac1:pixverse/v5/image-to-video",
        2.0,
        None,
    )
    odd = parse_trace({"x-client-request-id": "not ours!", "x-inference-id": "a\tb"})
    assert odd.client_request_id is None and odd.inference_id is None


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"meta": {"usage": {"credits_used": 2000000, "usd_spent": 1.0}}}, 1.0),
        ({"meta": {"usage": {"credits_used": 2000000}}}, None),
        ({"meta": {"usage": {"usd_spent": float("nan")}}}, None),
        ({"meta": {"usage": {"usd_spent": -2}}}, None),
        ({"meta": {"usage": {"usd_spent": "1"}}}, None),
        ({"meta": {"usage": {"usd_spent": True}}}, None),
        ({"meta": None}, None),
        ("text", None),
    ],
)
def test_usd_spent(answer, expected):
    assert usd_spent(answer) == expected


# -- the client's §1b methods, against a tiny real HTTP server on loopback ----------------------------
# (Not the shared simulator: its §1b endpoints are being written elsewhere, and these tests assert the
# exact requests the client sends.)


class Recorded:
    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = parts.query
        self.params = parse_qsl(parts.query, keep_blank_values=True)
        self.headers = headers
        self.body = body


class Scripted(ThreadingHTTPServer):
    """Answers each path with a scripted (status, headers, body) and records every request it got."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, list[tuple[int, dict[str, str], Any]]] = {}
        self.requests: list[Recorded] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def script(self, path: str, *answers: tuple[int, dict[str, str], Any]) -> None:
        self.routes[path] = list(answers)


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
        answers = self.server.routes.get(urlsplit(self.path).path) or [(404, {}, {"message": "no route"})]
        status, headers, payload = answers.pop(0) if len(answers) > 1 else answers[0]
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if status != 304:
            self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer


@pytest.fixture
def server() -> Iterator[Scripted]:
    srv = Scripted()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture
def api(server: Scripted) -> Iterator[ApiClient]:
    client = ApiClient(server.url, TEST_KEY)
    yield client
    client.close()


def _has_header(recorded: Recorded, name: str) -> bool:
    return any(k.lower() == name.lower() for k in recorded.headers)


def _header_value(recorded: Recorded, name: str) -> str | None:
    return next((v for k, v in recorded.headers.items() if k.lower() == name.lower()), None)


PRICES = {
    "object": "list",
    "data": [
        {
            "id": "pixverse/v5/image-to-video",
            "aliases": [],
            "type": "video",
            "info": {"name": "PixVerse", "developer": "PixVerse"},
            "tags": [],
            "pricing": {"kind": "fixed", "units": [{"name": "video", "measure": "generation", "price": 1, "per": 1}]},
        }
    ],
}


def test_model_pricing_is_keyless_and_304_means_not_modified(server: Scripted, api: ApiClient):
    server.script("/v1/models", (200, {"ETag": '"v1"'}, PRICES), (304, {"ETag": '"v1"'}, b""))
    first = api.model_pricing("pixverse/v5/image-to-video")
    assert not first.not_modified and first.etag == '"v1"'
    assert find_model(first.answer, "pixverse/v5/image-to-video") is not None
    second = api.model_pricing("pixverse/v5/image-to-video", etag=first.etag)
    assert second.not_modified and second.answer is None and second.etag == '"v1"'
    one, two = server.requests
    assert one.params == [("id", "pixverse/v5/image-to-video"), ("include", "pricing")]
    assert not _has_header(one, "If-None-Match") and _header_value(two, "If-None-Match") == '"v1"'
    assert not any(_has_header(r, "Authorization") for r in server.requests)


def test_a_304_without_our_etag_is_not_an_answer(server: Scripted, api: ApiClient):
    server.script("/v1/models", (304, {}, b""))
    with pytest.raises(ApiError) as info:
        api.model_pricing("m")
    assert info.value.status == 304


def test_an_unusable_etag_is_neither_kept_nor_sent(server: Scripted, api: ApiClient):
    server.script("/v1/models", (200, {"ETag": "x" * 600}, PRICES))
    assert api.model_pricing("m").etag is None
    api.model_pricing("m", etag="bad\x01etag")
    assert not _has_header(server.requests[-1], "If-None-Match")


def test_logs_repeat_status_and_send_the_key(server: Scripted, api: ApiClient):
    server.script("/v2/logs", (200, {}, logs_answer(LOG_ROW)))
    page = api.logs(
        period="24h", model="pixverse/v5/image-to-video", statuses=["succeeded", "failed"], limit=100, offset=200
    )
    assert page.find_client_request("pixdesk-job-1") is not None
    (req,) = server.requests
    assert req.params == [
        ("period", "24h"),
        ("model", "pixverse/v5/image-to-video"),
        ("status", "succeeded"),
        ("status", "failed"),
        ("limit", "100"),
        ("offset", "200"),
    ]
    assert "%2C" not in req.query and "," not in req.query
    assert _header_value(req, "Authorization") == f"Bearer {TEST_KEY}"


def test_logs_window_by_start_and_end(server: Scripted, api: ApiClient):
    server.script("/v2/logs", (200, {}, logs_answer()))
    api.logs(start=datetime(2026, 8, 1, tzinfo=UTC), end="2026-08-02T00:00:00Z", statuses="failed")
    assert server.requests[0].params == [
        ("start", "2026-08-01T00:00:00Z"),
        ("end", "2026-08-02T00:00:00Z"),
        ("status", "failed"),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"period": "24h", "start": "2026-08-01T00:00:00Z", "end": "2026-08-02T00:00:00Z"},
        {"start": "2026-08-01T00:00:00Z"},
        {"period": "1w"},
        {"period": "24h", "statuses": ["succeeded,failed"]},
        {"period": "24h", "limit": 0},
        {"period": "24h", "offset": -1},
    ],
)
def test_logs_refuse_requests_the_api_would_reject(api: ApiClient, server: Scripted, kwargs):
    with pytest.raises(ValueError):
        api.logs(**kwargs)
    assert not server.requests


def test_logs_errors_and_junk_are_typed(server: Scripted, api: ApiClient):
    server.script("/v2/logs", (401, {}, {"message": "bad key"}), (400, {}, {"message": "no"}), (200, {}, b"<html>"))
    with pytest.raises(AuthenticationError):
        api.logs(period="24h")
    with pytest.raises(BadRequestError):
        api.logs(period="24h")
    with pytest.raises(MalformedResponseError):
        api.logs(period="24h")


def test_transactions_query_and_cursor_paging(server: Scripted, api: ApiClient):
    server.script(
        "/v2/billing/transactions",
        (200, {}, {"data": [CHARGE], "pagination": {"next_cursor": "c+/=1", "has_more": True}}),
        (200, {}, {"data": [], "pagination": {"next_cursor": None, "has_more": False}}),
    )
    first = api.transactions(
        from_="2026-08-01T00:00:00Z",
        to=datetime(2026, 8, 18, tzinfo=UTC),
        direction="CHARGE",
        type_="MODEL_USAGE",
        limit=50,
    )
    assert first.can_continue and first.charges[0].reference_id == "V1StGXR8Z5jdHi6BmyT8k"
    last = api.transactions(direction="CHARGE", cursor=first.next_cursor)
    assert not last.can_continue
    one, two = server.requests
    assert one.params == [
        ("from", "2026-08-01T00:00:00Z"),
        ("to", "2026-08-18T00:00:00Z"),
        ("direction", "CHARGE"),
        ("type", "MODEL_USAGE"),
        ("limit", "50"),
    ]
    assert two.params == [("direction", "CHARGE"), ("cursor", "c+/=1")]  # the cursor arrives verbatim
    assert _header_value(one, "Authorization") == f"Bearer {TEST_KEY}"


def test_model_metrics_is_keyless(server: Scripted, api: ApiClient):
    server.script(
        "/models/metrics",
        (200, {}, {"window_seconds": 300, "generated_at": "2026-08-19T12:00:05.000Z", "models": []}),
    )
    metrics = api.model_metrics()
    assert metrics.for_model("pixverse/v5/image-to-video") is None
    (req,) = server.requests
    assert req.params == [("aliases", "pixverse/v5/image-to-video")]
    assert not _has_header(req, "Authorization")


def test_create_traced_returns_the_headers(server: Scripted, api: ApiClient):
    gen_id = "8ac1:pixverse/v5/image-to-video"
    server.script(
        "/v2/video/generations",
        (
            200,
            {
                "x-client-request-id": "job-42",
                "x-inference-id": gen_id,
                "x-aimlapi-credits-used": "3900000",
                "x-aimlapi-usd-spent": "1.95",
            },
            {"id": gen_id, "status": "queued", "meta": {"usage": {"credits_used": 3900000}}},
        ),
    )
    status, trace = api.create_traced({"model": "pixverse/v5/image-to-video", "prompt": "p"}, "job-42")
    assert status.id == gen_id and status.status == "queued"
    assert trace == Trace("job-42", gen_id, 1.95, 3900000)
    (req,) = server.requests
    assert _header_value(req, "X-Client-Request-Id") == "job-42"
    assert _header_value(req, "Authorization") == f"Bearer {TEST_KEY}"
    assert json.loads(req.body) == {"model": "pixverse/v5/image-to-video", "prompt": "p"}


def test_create_traced_without_headers_and_with_a_bad_id(server: Scripted, api: ApiClient):
    server.script("/v2/video/generations", (200, {}, {"id": "g1", "status": "queued"}))
    _, trace = api.create_traced({"model": "m", "prompt": "p"}, "job-1")
    assert trace == Trace(None, None, None, None)
    with pytest.raises(ValueError):
        api.create_traced({"model": "m", "prompt": "p"}, "has space")
    assert len(server.requests) == 1
