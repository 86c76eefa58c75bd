"""The ledger tells which finished jobs were charged, and how much (DESIGN §1b).

Against the real simulator on loopback with a real ApiClient; simulated time moves by a fake clock, never by
sleeping. What the simulator will not do (split charges, foreign rows, endless paging) comes from a small
scripted HTTP server, still read through the real client.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pixdesk.api.client import ApiClient
from pixdesk.api.errors import (
    AuthenticationError,
    ConnectionFailed,
    InsufficientCreditsError,
    MalformedResponseError,
    PixDeskError,
)
from pixdesk.api.request import GenerationRequest
from pixdesk.jobs.ledger import MAX_PAGES, jobs_awaiting_charge, reconcile
from pixdesk.jobs.models import Job, JobState
from pixdesk.jobs.spend import DEMO_BACKEND
from pixdesk.simulator import Fault, Simulator
from tests.conftest import TEST_KEY, png_bytes

MODEL = "pixverse/v5/image-to-video"
IMAGE = "data:image/png;base64," + base64.b64encode(png_bytes((64, 48))).decode()
LAG = 10.0


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
def lsim(clock: Clock) -> Iterator[Simulator]:
    with Simulator(
        queue_seconds=1.0, generate_seconds=2.0, render_sync=True, clock=clock, ledger_lag_seconds=LAG
    ) as server:
        yield server


@pytest.fixture
def api(lsim: Simulator) -> Iterator[ApiClient]:
    client = ApiClient(lsim.url, TEST_KEY)
    yield client
    client.close()


def request() -> GenerationRequest:
    return GenerationRequest(image="picture.png", prompt="a calm lake", resolution="360p", model=MODEL)


def now(sim: Simulator, clock: Clock) -> float:
    """Wall time as the simulator dates its ledger: what the app's `time.time()` would say."""
    return sim.wall(clock())


def run_job(sim: Simulator, api: ApiClient, clock: Clock, *, fail: bool = False) -> Job:
    """Create one generation, let it end, poll it once (the moment a charge posts), as the engine would."""
    if fail:
        sim.fail_generations = 1
    req = request()
    created = api.create(req.to_body(IMAGE))
    job = Job(request=req, backend=sim.url, created_at=now(sim, clock), server_id=created.id)
    clock.advance(sim.queue_seconds + sim.generate_seconds + 0.1)
    answer = api.status(created.id)
    job.state = JobState.COMPLETED if answer.status == "completed" else JobState.FAILED
    job.finished_at = now(sim, clock)
    job.usd_spent = answer.usd_spent
    return job


def ledger_calls(sim: Simulator) -> int:
    return sim.stats.count("ledger")


# -- which jobs are asked about ------------------------------------------------------------------
def test_only_live_completed_uncharged_recent_jobs_await_a_charge() -> None:
    def job(**fields: Any) -> Job:
        base = Job(request=request(), backend="https://api.aimlapi.com", server_id="gen-1", finished_at=1000.0)
        return replace(base, **{"state": JobState.COMPLETED, **fields})

    waiting = job()
    others = [
        job(backend=DEMO_BACKEND),
        job(state=JobState.FAILED),
        job(state=JobState.GENERATING, finished_at=None),
        job(state=JobState.CANCELLED),
        job(server_id=None),
        job(charged_usd=0.3),
        job(finished_at=1000.0 - 7 * 24 * 3600),  # a week old: given up
    ]
    assert jobs_awaiting_charge([*others, waiting], now=1000.0 + 60) == [waiting]
    assert jobs_awaiting_charge([waiting], now=1000.0 + 3600, give_up_after=1800) == []
    unfinished = job(finished_at=None, created_at=900.0)  # no end recorded: its creation counts
    assert jobs_awaiting_charge([unfinished], now=1000.0) == [unfinished]


def test_demo_and_unfinished_jobs_are_not_asked_about(lsim: Simulator, api: ApiClient, clock: Clock) -> None:
    done = run_job(lsim, api, clock)
    clock.advance(LAG)
    demo = replace(done, id="demo-copy", backend=DEMO_BACKEND)
    running = replace(done, id="running-copy", state=JobState.GENERATING)
    failed = replace(done, id="failed-copy", state=JobState.FAILED)
    assert jobs_awaiting_charge([demo, running, failed], now(lsim, clock)) == []
    assert reconcile(api, [demo, running, failed], now(lsim, clock)) == {}
    assert reconcile(api, [], now(lsim, clock)) == {}
    assert ledger_calls(lsim) == 0  # nothing worth asking: no request at all


# -- against the simulator's ledger ------------------------------------------------------------------
def test_a_charge_is_reconciled_only_after_the_ledger_lag(lsim: Simulator, api: ApiClient, clock: Clock) -> None:
    job = run_job(lsim, api, clock)
    assert job.state is JobState.COMPLETED and job.usd_spent == pytest.approx(0.3)  # 5 s at 360p, $0.06/s
    clock.advance(LAG - 1)
    assert jobs_awaiting_charge([job], now(lsim, clock)) == [job]
    assert reconcile(api, [job], now(lsim, clock)) == {}  # not yet: the charge has not posted
    clock.advance(1)
    charged = reconcile(api, jobs_awaiting_charge([job], now(lsim, clock)), now(lsim, clock))
    assert charged == {job.id: pytest.approx(job.usd_spent)}
    assert charged[job.id] == pytest.approx(lsim.price_credits(request().to_body(IMAGE)) / 2_000_000)


def test_a_failed_generation_never_gets_a_charge(lsim: Simulator, api: ApiClient, clock: Clock) -> None:
    failed = run_job(lsim, api, clock, fail=True)
    good = run_job(lsim, api, clock)
    assert failed.state is JobState.FAILED and good.state is JobState.COMPLETED
    clock.advance(LAG + 3600)
    assert jobs_awaiting_charge([failed, good], now(lsim, clock)) == [good]
    # even asked about as if it had completed, the ledger has nothing for it
    pretend = replace(failed, state=JobState.COMPLETED)
    assert reconcile(api, [pretend, good], now(lsim, clock)) == {good.id: pytest.approx(0.3)}


def test_pages_by_cursor_when_jobs_outnumber_a_page(lsim: Simulator, api: ApiClient, clock: Clock) -> None:
    jobs = [run_job(lsim, api, clock) for _ in range(5)]
    clock.advance(LAG)
    charged = reconcile(api, jobs, now(lsim, clock), limit=2)
    assert charged == {j.id: pytest.approx(0.3) for j in jobs}
    assert ledger_calls(lsim) == 3  # 2 + 2 + 1, the later pages by cursor (the simulator refuses others)


def test_paging_stops_once_every_job_is_found(lsim: Simulator, api: ApiClient, clock: Clock) -> None:
    jobs = []
    for _ in range(5):
        jobs.append(run_job(lsim, api, clock))
        clock.advance(600)  # charges far apart, so no row further down can be part of an earlier one's
    newest = jobs[-1]
    assert reconcile(api, [newest], now(lsim, clock), limit=1) == {newest.id: pytest.approx(0.3)}
    assert ledger_calls(lsim) == 2  # its own row, then one older row to be sure no split part is left
    assert reconcile(api, jobs[-2:], now(lsim, clock), limit=2) == {j.id: pytest.approx(0.3) for j in jobs[-2:]}
    assert ledger_calls(lsim) == 2 + 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("status", endpoint="ledger", status=401), AuthenticationError),
        (Fault("status", endpoint="ledger", status=403), InsufficientCreditsError),
        (Fault("drop", endpoint="ledger"), ConnectionFailed),
        (Fault("malformed", endpoint="ledger"), MalformedResponseError),
        (Fault("html", endpoint="ledger"), MalformedResponseError),
    ],
)
def test_errors_reach_the_caller(
    lsim: Simulator, api: ApiClient, clock: Clock, fault: Fault, error: type[PixDeskError]
) -> None:
    job = run_job(lsim, api, clock)
    clock.advance(LAG)
    lsim.faults.append(fault)
    with pytest.raises(error):
        reconcile(api, [job], now(lsim, clock))
    assert reconcile(api, [job], now(lsim, clock)) == {job.id: pytest.approx(0.3)}  # the caller tries later


def test_a_refused_key_raises_authentication_error(lsim: Simulator, clock: Clock) -> None:
    good, wrong = ApiClient(lsim.url, TEST_KEY), ApiClient(lsim.url, "sk-not-the-right-one")
    try:
        job = run_job(lsim, good, clock)
        lsim.api_key = TEST_KEY
        clock.advance(LAG)
        with pytest.raises(AuthenticationError):
            reconcile(wrong, [job], now(lsim, clock))
        assert reconcile(good, [job], now(lsim, clock)) == {job.id: pytest.approx(0.3)}
    finally:
        good.close()
        wrong.close()


# -- a scripted server: what the simulator will not do ----------------------------------------------
class ScriptedLedger:
    """An HTTP server answering `GET /v2/billing/transactions` from `answer(query)`; records each query."""

    def __init__(self, answer: Callable[[dict[str, list[str]]], Any]) -> None:
        self.queries: list[dict[str, list[str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
                outer.queries.append(query)
                body = answer(query)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[dict[str, list[str]]], Any]], tuple[ScriptedLedger, ApiClient]]]:
    opened: list[tuple[ScriptedLedger, ApiClient]] = []

    def start(answer: Callable[[dict[str, list[str]]], Any]) -> tuple[ScriptedLedger, ApiClient]:
        server = ScriptedLedger(answer)
        opened.append((server, ApiClient(server.url, TEST_KEY)))
        return opened[-1]

    yield start
    for server, client in opened:
        client.close()
        server.close()


T0 = 1_786_000_000.0  # 2026-08-06T07:06:40Z, when the job finished


def live_job(server_id: str = "gen-1", finished_at: float = T0) -> Job:
    return Job(
        request=request(),
        backend="https://api.aimlapi.com",
        state=JobState.COMPLETED,
        server_id=server_id,
        created_at=finished_at - 30,
        finished_at=finished_at,
    )


def row(ref: str | None, usd: Any, *, at: str = "2026-08-06T07:06:45.000Z", **fields: Any) -> dict[str, Any]:
    return {
        "created_at": at,
        "direction": "CHARGE",
        "type": "MODEL_USAGE",
        "amount": {"usd": usd, "credits": 0},
        "model": MODEL,
        "reference_id": ref,
        **fields,
    }


def page(rows: list[dict[str, Any]], cursor: str | None = None) -> dict[str, Any]:
    return {"data": rows, "pagination": {"next_cursor": cursor, "has_more": cursor is not None}}


def test_the_query_asks_for_model_charges_in_a_window_by_cursor(scripted: Any) -> None:
    pages = {None: page([row("other", 1.0)], "c1=="), "c1==": page([row("gen-1", 0.4)])}
    server, client = scripted(lambda q: pages[q.get("cursor", [None])[0]])
    job = live_job()
    assert reconcile(client, [job], T0 + 120) == {job.id: pytest.approx(0.4)}
    first, second = server.queries
    assert first == {
        "from": ["2026-08-06T06:06:40Z"],  # an hour before the job finished, ISO-8601 UTC
        "to": ["2026-08-06T07:13:40Z"],  # now, plus five minutes for a server clock ahead of ours
        "direction": ["CHARGE"],
        "type": ["MODEL_USAGE"],
        "limit": ["100"],
    }
    assert second == {**first, "cursor": ["c1=="]}  # verbatim, and never an offset


def test_split_charges_are_summed_and_foreign_rows_ignored(scripted: Any) -> None:
    rows = [
        row("gen-1", 0.25),
        row("gen-1", 0.15),  # the ledger split this charge in two
        row("gen-1", 9.0, model="someone/else"),  # not our model
        row("gen-1", 9.0, direction="TOPUP"),  # not a charge (a server ignoring the filter)
        row("gen-1", 9.0, type="REFUND"),
        row("gen-2", 1e400),  # not finite (JSON "Infinity"): the parser skips it
        row("gen-3", 0.5, model=None),  # model not resolved: the reference still ties it to us
        row(None, 7.0),
    ]
    _, client = scripted(lambda q: page(rows))
    jobs = [live_job("gen-1"), live_job("gen-2"), live_job("gen-3")]
    assert reconcile(client, jobs, T0 + 120) == {jobs[0].id: pytest.approx(0.4), jobs[2].id: pytest.approx(0.5)}


def test_a_row_repeated_on_a_later_page_is_counted_once(scripted: Any) -> None:
    pages = {None: page([row("gen-1", 0.4)], "c1"), "c1": page([row("gen-1", 0.4), row("x", 1.0)])}
    _, client = scripted(lambda q: pages[q.get("cursor", [None])[0]])
    job = live_job()
    assert reconcile(client, [job], T0 + 120) == {job.id: pytest.approx(0.4)}


@pytest.mark.allow_log(r"repeated a page cursor")
def test_more_forever_with_the_same_cursor_stops(scripted: Any) -> None:
    server, client = scripted(lambda q: page([row("other", 1.0)], "same"))
    assert reconcile(client, [live_job()], T0 + 120) == {}
    assert 2 <= len(server.queries) <= MAX_PAGES


@pytest.mark.allow_log(r"still had more after 20 pages")
def test_more_forever_with_fresh_cursors_stops_at_the_page_bound(scripted: Any) -> None:
    counter = iter(range(10_000))

    def fresh(query: dict[str, list[str]]) -> dict[str, Any]:
        n = next(counter)
        return page([row(f"other-{n}", 1.0)], f"c{n}")

    server, client = scripted(fresh)
    job = live_job()
    assert reconcile(client, [job], T0 + 120) == {}
    assert len(server.queries) == MAX_PAGES


@pytest.mark.parametrize(
    "body",
    [
        {"data": "nope", "pagination": {"next_cursor": None, "has_more": False}},
        {"data": []},
        {"data": [], "pagination": {"next_cursor": "bad\ncursor", "has_more": True}},
        [1, 2, 3],
        b"<html>not json</html>",
    ],
)
def test_a_malformed_page_raises(scripted: Any, body: Any) -> None:
    _, client = scripted(lambda q: body)
    with pytest.raises(MalformedResponseError):
        reconcile(client, [live_job()], T0 + 120)
