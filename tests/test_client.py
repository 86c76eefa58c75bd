"""Every error mapping, driven through the real client against the real simulator."""

from __future__ import annotations

import base64
import socket

import pytest

from pixdesk.api.client import ApiClient, Timeouts, parse_retry_after
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
from pixdesk.api.request import GenerationRequest
from pixdesk.simulator import Simulator
from tests.conftest import TEST_KEY, png_bytes

IMAGE = "data:image/png;base64," + base64.b64encode(png_bytes()).decode()


def body(**extra: object) -> dict:
    return GenerationRequest(image="x", prompt="A wave", resolution="360p", **extra).to_body(IMAGE)  # type: ignore[arg-type]


def test_create_then_poll_on_both_paths(sim: Simulator, client: ApiClient):
    created = client.create(body())
    assert created.status == "queued" and ":" in created.id and "/" in created.id
    assert created.credits_used and created.credits_used > 0
    status = client.status(created.id)  # the id has ':' and '/': it must be URL-encoded to be found
    assert status.id == created.id and status.status in ("queued", "generating", "completed")
    legacy = ApiClient(sim.url, TEST_KEY)
    legacy.model = legacy.model.__class__(
        **{**legacy.model.__dict__, "create_path": legacy.model.legacy_path, "poll_path": legacy.model.legacy_path}
    )
    assert legacy.status(legacy.create(body()).id).status in ("queued", "generating", "completed")


def test_billing_reports_a_balance(client: ApiClient):
    balance = client.balance()
    assert balance.currency == "USD" and balance.amount > 0


def test_user_agent_names_pixdesk(sim: Simulator, client: ApiClient):
    assert client.session.headers["User-Agent"].startswith("pixdesk/")


def test_400_carries_the_servers_detail(client: ApiClient):
    bad = body()
    bad["resolution"] = "1080p"
    bad["duration"] = 8
    with pytest.raises(BadRequestError) as info:
        client.create(bad)
    assert info.value.status == 400
    assert "Body validation error!" in info.value.message and "1080p" in info.value.message
    assert info.value.request_id


def test_null_fields_are_rejected_by_the_server_like_the_real_one(client: ApiClient):
    bad = body()
    bad["seed"] = None
    with pytest.raises(BadRequestError, match="received null"):
        client.create(bad)


def test_401_without_a_valid_key(sim: Simulator):
    sim.api_key = "the-right-key"
    with pytest.raises(AuthenticationError) as info:
        ApiClient(sim.url, "wrong-key").balance()
    assert info.value.status == 401 and info.value.request_id
    assert "wrong-key" not in str(info.value) and "wrong-key" not in repr(info.value)


def test_403_when_out_of_credits(sim: Simulator, client: ApiClient):
    sim.balance_usd = 0
    with pytest.raises(InsufficientCreditsError) as info:
        client.create(body())
    assert info.value.status == 403 and "credits" in info.value.message.lower()


def test_404_for_an_unknown_generation(client: ApiClient):
    with pytest.raises(NotFoundError) as info:
        client.status("nope:pixverse/v5/image-to-video")
    assert info.value.status == 404


def test_429_carries_retry_after(sim: Simulator, client: ApiClient):
    sim.inject("status", "billing", status=429, retry_after=17)
    with pytest.raises(RateLimitError) as info:
        client.balance()
    assert info.value.status == 429 and info.value.retry_after == 17


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_become_server_errors(sim: Simulator, client: ApiClient, status: int):
    sim.inject("status", "billing", status=status)
    with pytest.raises(ServerError) as info:
        client.balance()
    assert info.value.status == status and info.value.request_id


def test_non_json_error_body_is_shown_as_text(sim: Simulator, client: ApiClient):
    sim.inject("html_error", "billing", status=502)
    with pytest.raises(ServerError) as info:
        client.balance()
    assert info.value.status == 502
    assert "502 Bad Gateway" in info.value.message and "<h1>" not in info.value.message


@pytest.mark.parametrize("kind", ["malformed", "html", "huge"])
def test_a_200_that_is_not_our_json_is_malformed(sim: Simulator, client: ApiClient, kind: str):
    created = client.create(body())
    sim.inject(kind, "poll")
    with pytest.raises(MalformedResponseError):
        client.status(created.id)


def test_refused_connection_never_reached_the_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionFailed) as info:
        ApiClient(f"http://127.0.0.1:{port}", TEST_KEY).create(body())
    assert info.value.may_have_reached_server is False
    assert "refused" in info.value.message


def test_dropped_connection_may_have_reached_the_server(sim: Simulator, client: ApiClient):
    sim.inject("drop_after_accept", "create")
    with pytest.raises(ConnectionFailed) as info:
        client.create(body())
    assert info.value.may_have_reached_server is True
    assert len(sim.generations) == 1  # the server did create it: this is why we never resend


def test_read_timeout_may_have_reached_the_server(sim: Simulator):
    sim.inject("hang", "create", seconds=1.5)
    api = ApiClient(sim.url, TEST_KEY, timeouts=Timeouts(connect=2, read=0.3))
    with pytest.raises(RequestTimeout) as info:
        api.create(body())
    assert info.value.may_have_reached_server is True


def test_the_overall_deadline_bounds_every_wait():
    assert Timeouts(10, 60).total == 90  # positional (connect, read) still works, with a total
    assert Timeouts(connect=10, read=60, total=5).as_tuple() == (5, 5)


def test_a_call_that_is_slow_overall_times_out_although_each_read_is_quick(sim: Simulator):
    sim.inject("drip", "billing", seconds=0.1)
    api = ApiClient(sim.url, TEST_KEY, timeouts=Timeouts(connect=2, read=2, total=0.5))
    with pytest.raises(RequestTimeout, match=r"within 0\.5 s") as info:
        api.balance()
    assert info.value.may_have_reached_server is True
    assert api.balance().currency == "USD"


def test_the_key_never_shows_in_reprs_or_errors(sim: Simulator):
    api = ApiClient(sim.url, TEST_KEY)
    assert TEST_KEY not in repr(api)
    sim.api_key = "other"
    with pytest.raises(ApiError) as info:
        api.balance()
    assert TEST_KEY not in str(info.value) and TEST_KEY not in repr(info.value)
    sim.inject("status", "billing", status=401, echo_key=True)  # a server that repeats what it got
    with pytest.raises(AuthenticationError) as echoed:
        api.balance()
    assert TEST_KEY not in str(echoed.value) and TEST_KEY not in repr(echoed.value)
    assert "Bearer ***" in echoed.value.message


@pytest.mark.parametrize(("header", "seconds"), [("12", 12.0), ("0", 0.0), ("soon", None), (None, None)])
def test_retry_after_forms(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
