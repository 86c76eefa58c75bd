"""A local stand-in for the AI/ML API: same paths, auth, validation, statuses and error JSON.

It serves real MP4s it renders itself, so the whole app (and every test) runs offline. Faults can be
injected to exercise the client's retry rules; counters tell a test what the server really received.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from tempfile import mkdtemp
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pixdesk.api.catalogue import MODELS, ModelSpec
from pixdesk.api.client import CLIENT_REQUEST_ID
from pixdesk.simulator import billing
from pixdesk.simulator.billing import CREDITS_PER_USD, CatalogueEntry, Pricing, QueryError
from pixdesk.simulator.durations import Durations, quantile
from pixdesk.simulator.persist import GenerationFiles
from pixdesk.simulator.render import RenderSpec, render_video
from pixdesk.simulator.validate import FILES_PREFIX, own_file_name, validate_body

CREATE_PATHS = {"/v2/video/generations", "/v2/generate/video/pixverse/generation"}
BILLING_PATH = "/v2/billing"
MODELS_PATH = "/v1/models"
METRICS_PATH = "/models/metrics"
LOGS_PATH = "/v2/logs"
LEDGER_PATH = "/v2/billing/transactions"
DEMO_BALANCE_USD = 25.0
# A lip-sync clip may be 50 MB (pixdesk.api.media_inputs), two thirds more as base64: the body must fit it.
MAX_BODY = 96 * 1024 * 1024
STREAM_WRITE_TIMEOUT = 5.0
# The listen backlog: socketserver's default of 5 resets or stalls connections as soon as a few dozen clients
# (a batch of jobs, a benchmark) connect at once; the real service takes them all.
LISTEN_BACKLOG = 256
QUEUE_SHARE = 0.2  # of a drawn total time, the part spent "queued"; the rest is "generating"
BACKGROUND_SAMPLES = 400
SHUTDOWN_POLL = 0.1  # how often the accept loop checks for `stop()`: socketserver's 0.5 s made each stop take that

log = logging.getLogger(__name__)
Endpoint = str  # "create" | "poll" | "billing" | "models" | "metrics" | "logs" | "ledger" | "download" | "any"


@dataclass
class Fault:
    """One injected misbehaviour, used up after `count` matching requests.

    kinds: "status" (answer `status`, with `retry_after`; `message` replaces the usual error text and
    `echo_key` appends the request's Authorization header value to it, as a careless server might),
    "drop" (close without answering, before acting), "drop_after_accept" (create the job, then close
    without answering), "malformed" (200 with broken JSON), "html" (200 with an HTML page; on
    `download` it stands in for the video), "html_error" (`status` with an HTML page), "huge" (200 with
    a 3 MB body), "hang" (wait `seconds` before answering), "cut" (send only `after_bytes` of a
    download, then close), "truncate" (download: 200 without Content-Length, only the first
    `after_bytes` bytes, then a clean close), "rewrite" (merge `patch` into a status answer: hostile
    fields), "drip" (headers at once, then the body one byte every `seconds`: on `download` the real
    file, elsewhere a JSON status), "endless" (200 with a body that never ends, a chunk every `seconds`
    or as fast as the client reads: on `download` MP4-looking bytes without Content-Length, elsewhere a
    JSON start and endless padding). Drip and endless stop when the client hangs up or the simulator stops.
    """

    kind: str
    endpoint: Endpoint = "any"
    count: int = 1
    status: int = 503
    retry_after: float | None = None
    seconds: float = 0.0
    after_bytes: int = 0
    patch: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    echo_key: bool = False


@dataclass
class Generation:
    id: str
    body: dict[str, Any]
    created: float
    credits: int
    queue_seconds: float
    generate_seconds: float
    fail_message: str | None = None
    render: Future[Path] | None = None
    polls: int = 0
    charged: bool = False
    client_request_id: str | None = None
    charged_at: float | None = None  # simulator clock: when "completed" was first answered (the charge)
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))


@dataclass
class RefusedCreate:
    """A create the server answered with an error after reading the key: a failed usage-log row."""

    created: float
    model: str
    request_id: str
    client_request_id: str | None


@dataclass
class SimulatorStats:
    requests: list[tuple[str, str, float]] = field(default_factory=list)
    not_modified: int = 0  # 304 answers to `GET /v1/models` with a matching If-None-Match

    def count(self, endpoint: str) -> int:
        return sum(1 for _, e, _ in self.requests if e == endpoint)

    def times(self, endpoint: str) -> list[float]:
        """When (on the simulator's clock) each request to `endpoint` arrived."""
        return [t for _, e, t in self.requests if e == endpoint]


class _Server(ThreadingHTTPServer):
    """A threading HTTP server with a listen backlog large enough for many clients connecting at once."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True  # a client holding a connection open never keeps the process alive


class Simulator:
    """Start with `start()` (or as a context manager); `url` is then `http://127.0.0.1:<port>`."""

    def __init__(
        self,
        *,
        port: int = 0,
        api_key: str | None = None,
        queue_seconds: float = 1.0,
        generate_seconds: float = 3.0,
        faults: list[Fault] | None = None,
        fail_generations: int = 0,
        render_sync: bool = False,
        clock: Callable[[], float] = time.monotonic,
        balance_usd: float = DEMO_BALANCE_USD,
        workdir: Path | None = None,
        render_workers: int = 2,
        state_dir: Path | None = None,
        catalogue: list[CatalogueEntry] | None = None,
        logs_lag_seconds: float = 2.0,
        ledger_lag_seconds: float = 2.0,
        logs_rate_limit: int = 200,
        logs_rate_window: float = 60.0,
        metrics_window_seconds: int = 300,
        durations: Durations | None = None,
        timing_seed: int | None = None,
        background_samples: int = BACKGROUND_SAMPLES,
    ) -> None:
        """`state_dir` (demo mode: under the data folder) makes generations and their videos survive a
        restart; its clock is then wall time, since a generation's age must carry across processes.

        `catalogue` is the server's model list and price table (`billing.default_catalogue()`: each model of the
        family its own per-second rates by resolution, lip-sync a fixed price per job); what a create costs
        follows it. The lags model the §1b pipelines that report
        late (a log row `logs_lag_seconds` after its request, a charge `ledger_lag_seconds` after completion).

        `durations` makes each generation's total time a draw from that distribution (a fifth of it queued,
        the rest generating) instead of the fixed `queue_seconds` + `generate_seconds`, and makes
        `/models/metrics` answer from the start, as the real one does from everybody's traffic:
        `background_samples` draws stand in for the other users. `timing_seed` makes both repeatable.
        """
        self.port = port
        self.api_key = api_key
        self.queue_seconds = queue_seconds
        self.generate_seconds = generate_seconds
        self.faults: list[Fault] = list(faults or [])
        self.fail_generations = fail_generations
        self.render_sync = render_sync
        self.clock = clock
        self.balance_usd = balance_usd
        self.state: GenerationFiles | None = None
        if state_dir is not None:
            self.clock = time.time
            workdir = workdir or state_dir / "videos"
            workdir.mkdir(parents=True, exist_ok=True)
            self.state = GenerationFiles(state_dir / "generations")
        self.workdir = workdir or Path(mkdtemp(prefix="pixdesk-sim-"))
        self.generations: dict[str, Generation] = {}
        self.stats = SimulatorStats()
        self._lock = threading.Lock()
        self._renders: dict[str, Future[Path]] = {}
        self._pool = ThreadPoolExecutor(max_workers=render_workers, thread_name_prefix="sim-render")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()  # ends drip/endless streams and hangs when the simulator stops
        self.catalogue: list[CatalogueEntry] = catalogue if catalogue is not None else billing.default_catalogue()
        self.logs_lag_seconds = logs_lag_seconds
        self.ledger_lag_seconds = ledger_lag_seconds
        self.logs_rate_limit = logs_rate_limit
        self.logs_rate_window = logs_rate_window
        self.metrics_window_seconds = metrics_window_seconds
        self.refused: list[RefusedCreate] = []
        self._logs_calls: deque[float] = deque()
        self._issued_cursors: set[str] = set()
        # The simulator's clock may be monotonic or fake; dates in logs and the ledger are wall time.
        self._wall_offset = 0.0 if self.clock is time.time else time.time() - self.clock()
        self.durations = durations
        # Two streams, so the jobs' draws do not depend on how much background traffic was drawn.
        seeded = timing_seed is not None
        self._timing_rng = random.Random(f"jobs:{timing_seed}" if seeded else None)
        background_rng = random.Random(f"background:{timing_seed}" if seeded else None)
        self._background_ms: tuple[float, ...] = (
            _background(durations, background_samples, background_rng) if durations is not None else ()
        )

    # -- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "simulator not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Simulator:
        self.stopping.clear()
        if self.state is not None and not self.generations:
            self._reload()
        handler = type("BoundHandler", (_Handler,), {"sim": self})
        self._server = _Server(("127.0.0.1", self.port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL}, name="simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- faults and counters ---------------------------------------------------------------------
    def inject(self, kind: str, endpoint: Endpoint = "any", count: int = 1, **kwargs: Any) -> None:
        with self._lock:
            self.faults.append(Fault(kind, endpoint, count, **kwargs))

    def take_fault(self, endpoint: Endpoint) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.count > 0 and fault.endpoint in (endpoint, "any"):
                    fault.count -= 1
                    return fault
        return None

    @property
    def create_requests(self) -> int:
        return self.stats.count("create")

    # -- the model -------------------------------------------------------------------------------
    def validate(self, body: Any, spec: ModelSpec | None = None) -> list[str]:
        """Every problem with a create body, as the API words it (each names its field); empty when valid.

        Each model's body is checked against every field of its schema (see `validate.validate_body`); this
        simulator's own URLs count as images, and its download URLs as clips to lip-sync."""
        return validate_body(body, self._own_url())

    def _own_url(self) -> str | None:
        return self.url if self._server is not None else None

    # -- prices and bookkeeping -----------------------------------------------------------------
    def entry_for(self, model: str) -> CatalogueEntry | None:
        """The catalogue entry whose id or alias is `model`."""
        return next((e for e in self.catalogue if e.matches(model)), None)

    def set_pricing(self, model: str, pricing: Pricing) -> None:
        """Change a model's price (the catalogue's ETag changes with it); later creates are charged by it."""
        entry = self.entry_for(model)
        if entry is None:
            entry = CatalogueEntry(model, [], pricing)
            self.catalogue.append(entry)
        entry.pricing = pricing

    def price_credits(self, body: dict[str, Any]) -> int:
        entry = self.entry_for(str(body.get("model", "")))
        pricing = entry.pricing if entry is not None else billing.default_pricing()
        return billing.to_credits(pricing.cost_usd(body))

    def wall(self, t: float) -> float:
        """Wall time (epoch seconds) of a moment on the simulator's clock."""
        return t + self._wall_offset

    def outcome(self, gen: Generation) -> str:
        """What the server knows of a generation without a poll: "running", "completed" or "failed"."""
        if self.clock() - gen.created < gen.queue_seconds + gen.generate_seconds:
            return "running"
        if gen.fail_message:
            return "failed"
        if gen.render is None or not gen.render.done():
            return "running"
        return "failed" if gen.render.exception() is not None else "completed"

    def log_rows(self) -> list[tuple[float, dict[str, Any]]]:
        """(wall time, row) for each usage-log row visible now (`logs_lag_seconds` after its request), newest first."""
        now = self.clock()
        with self._lock:
            gens = list(self.generations.values())
            refused = list(self.refused)
        rows: list[tuple[float, dict[str, Any]]] = []
        for gen in gens:
            if now < gen.created + self.logs_lag_seconds:
                continue
            failed = self.outcome(gen) == "failed"
            credits = 0 if failed else gen.credits
            rows.append(
                (
                    gen.created,
                    self._log_row(
                        gen.created, gen.model, failed, credits, gen.request_id, gen.id, gen.client_request_id
                    ),
                )
            )
        for ref in refused:
            if now >= ref.created + self.logs_lag_seconds:
                rows.append(
                    (
                        ref.created,
                        self._log_row(ref.created, ref.model, True, 0, ref.request_id, None, ref.client_request_id),
                    )
                )
        rows.sort(key=lambda r: r[0], reverse=True)
        return [(self.wall(t), r) for t, r in rows]

    def _log_row(
        self,
        created: float,
        model: str,
        failed: bool,
        credits: int,
        request_id: str,
        inference_id: str | None,
        client_request_id: str | None,
    ) -> dict[str, Any]:
        return {
            "created": billing.iso(self.wall(created)),
            "status": "failed" if failed else "succeeded",
            "origin": "api",
            "model": model,
            "cost": {"usd": billing.usd_of(credits), "credits": credits},
            "tokens": {"input": 0, "output": 0, "total": 0},
            "request_id": request_id,
            "inference_id": inference_id,
            "client_request_id": client_request_id,
        }

    def refuse(self, model: str, client_request_id: str | None) -> str:
        """Remember a create answered with an error (a failed log row); returns its request id."""
        refused = RefusedCreate(self.clock(), model, str(uuid.uuid4()), client_request_id)
        with self._lock:
            self.refused.append(refused)
        return refused.request_id

    def note_not_modified(self) -> None:
        with self._lock:
            self.stats.not_modified += 1

    def ledger_entries(self) -> list[tuple[float, dict[str, Any]]]:
        """(wall time, entry) for each charge posted by now: a completed generation, `ledger_lag_seconds` late."""
        now = self.clock()
        with self._lock:
            charged = [g for g in self.generations.values() if g.charged and g.charged_at is not None]
        return [
            (
                self.wall(g.charged_at),
                {
                    "created_at": billing.iso(self.wall(g.charged_at)),
                    "direction": "CHARGE",
                    "type": "MODEL_USAGE",
                    "amount": {"usd": billing.usd_of(g.credits), "credits": g.credits},
                    "model": g.model,
                    "reference_id": g.id,
                },
            )
            for g in charged
            if g.charged_at is not None and now >= g.charged_at + self.ledger_lag_seconds
        ]

    def metrics(self, aliases: list[str]) -> dict[str, Any]:
        """Latency of successful generations that completed inside the window; a model without any is absent.

        With `durations`, every catalogue model also carries the background traffic (constant: a window that
        slides over steady traffic), so the percentiles are the distribution's from the first request on."""
        now = self.clock()
        with self._lock:
            gens = list(self.generations.values())
        durations: dict[str, list[float]] = {}
        for gen in gens:
            done_at = gen.created + gen.queue_seconds + gen.generate_seconds
            if now - done_at <= self.metrics_window_seconds and self.outcome(gen) == "completed":
                durations.setdefault(gen.model, []).append((gen.queue_seconds + gen.generate_seconds) * 1000)
        models = []
        names = aliases or [e.id for e in self.catalogue]
        for name in names:
            entry = self.entry_for(name)
            samples = [d for m, ds in durations.items() if (entry.matches(m) if entry else m == name) for d in ds]
            if entry is not None:
                samples.extend(self._background_ms)
            if samples:
                models.append(
                    {
                        "alias": name,
                        "endpoint": billing.VIDEO_ENDPOINT,
                        "metrics": {"duration_ms": billing.duration_metrics(samples)},
                    }
                )
        return {
            "window_seconds": self.metrics_window_seconds,
            "generated_at": billing.iso(self.wall(now)),
            "models": models,
        }

    def logs_rate_limited(self) -> float | None:
        """Count one `/v2/logs` call; over the limit, the seconds until the oldest call leaves the window."""
        now = self.clock()
        with self._lock:
            while self._logs_calls and now - self._logs_calls[0] >= self.logs_rate_window:
                self._logs_calls.popleft()
            if len(self._logs_calls) >= self.logs_rate_limit:
                return max(0.0, self._logs_calls[0] + self.logs_rate_window - now)
            self._logs_calls.append(now)
        return None

    def ledger_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        with self._lock:
            issued = set(self._issued_cursors)
        parsed = billing.parse_ledger_query(query, issued)
        answer, cursor = billing.page_ledger(self.ledger_entries(), parsed)
        if cursor is not None:
            with self._lock:
                self._issued_cursors.add(cursor)
        return answer

    def create(self, body: dict[str, Any], spec: ModelSpec, client_request_id: str | None = None) -> Generation:
        gen_id = f"{uuid.uuid4()}:{spec.model_id}"
        credits = self.price_credits(body)
        with self._lock:
            fail = None
            if self.fail_generations > 0:
                self.fail_generations -= 1
                fail = "The content could not be generated: the image did not pass moderation (simulated)."
        queue_seconds, generate_seconds = self._draw_times()
        gen = Generation(gen_id, body, self.clock(), credits, queue_seconds, generate_seconds, fail)
        if fail is None:
            gen.render = self._render(body)
        gen.client_request_id = client_request_id
        with self._lock:
            self.generations[gen_id] = gen
        self._remember(gen)
        return gen

    def _draw_times(self) -> tuple[float, float]:
        """(queued, generating) seconds for a new generation: fixed, or split from one draw of `durations`."""
        if self.durations is None:
            return self.queue_seconds, self.generate_seconds
        with self._lock:  # request threads share one generator; its state is not thread-safe
            total = max(0.0, self.durations.sample(self._timing_rng))
        return total * QUEUE_SHARE, total * (1 - QUEUE_SHARE)

    def generation_seconds(self, gen_id: str) -> float:
        """How long generation `gen_id` takes from create to done (its queued plus generating time, as drawn).

        Raises KeyError for an id the simulator does not know."""
        with self._lock:
            gen = self.generations[gen_id]
        return gen.queue_seconds + gen.generate_seconds

    def _remember(self, gen: Generation) -> None:
        if self.state is None:
            return
        record = {
            "id": gen.id,
            "body": gen.body,
            "created": gen.created,
            "credits": gen.credits,
            "queue_seconds": gen.queue_seconds,
            "generate_seconds": gen.generate_seconds,
            "fail_message": gen.fail_message,
            "charged": gen.charged,
            "client_request_id": gen.client_request_id,
            "charged_at": gen.charged_at,
            "request_id": gen.request_id,
        }
        try:
            self.state.save(record)
        except OSError as exc:  # the demo goes on; only a restart would forget this one
            log.warning("the demo simulator could not remember generation %s: %s", gen.id, exc)

    def _reload(self) -> None:
        """Pick up the generations of an earlier run; a video not rendered yet is rendered again."""
        assert self.state is not None
        for record in self.state.load():
            try:
                gen = Generation(
                    str(record["id"]),
                    dict(record["body"]),
                    float(record["created"]),
                    int(record["credits"]),
                    float(record["queue_seconds"]),
                    float(record["generate_seconds"]),
                    record.get("fail_message"),
                    charged=bool(record.get("charged")),
                    client_request_id=record.get("client_request_id"),
                    charged_at=None if record.get("charged_at") is None else float(record["charged_at"]),
                    request_id=str(record.get("request_id") or uuid.uuid4()),
                )
                if gen.fail_message is None:
                    gen.render = self._render(gen.body)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("the demo simulator skipped a damaged generation record: %s", exc)
                continue
            self.generations[gen.id] = gen
            if gen.charged:  # the balance is not stored: it is the starting balance less the charges
                self.balance_usd -= billing.usd_of(gen.credits)

    def _render(self, body: dict[str, Any]) -> Future[Path]:
        video_url, video_file = body.get("video_url"), None
        name = own_file_name(video_url) if isinstance(video_url, str) else None
        if name is not None:  # a clip this simulator rendered: read from disk, known by its name whatever the port
            video_url, video_file = f"{FILES_PREFIX}{name}", str(self.workdir / name)
        spec = RenderSpec.from_body(body, video_file=video_file, video_url=video_url)
        key = spec.cache_key()
        with self._lock:
            existing = self._renders.get(key)
            if existing is not None and not (existing.done() and existing.exception()):
                return existing
            dest = self.workdir / f"{key}.mp4"
            if dest.is_file() and dest.stat().st_size > 0:  # rendered by an earlier run (written atomically)
                done: Future[Path] = Future()
                done.set_result(dest)
                self._renders[key] = done
                return done
            if self.render_sync:
                future: Future[Path] = Future()
                try:
                    future.set_result(render_video(spec, dest))
                except Exception as exc:  # pragma: no cover - reported through the status
                    future.set_exception(exc)
            else:
                try:
                    future = self._pool.submit(render_video, spec, dest)
                except RuntimeError as exc:  # stopping: the generation fails instead of the request thread
                    future = Future()
                    future.set_exception(exc)
            self._renders[key] = future
            return future

    def status_of(self, gen: Generation) -> dict[str, Any]:
        elapsed = self.clock() - gen.created
        gen.polls += 1
        answer: dict[str, Any] = {"id": gen.id, "status": "queued", "video": None, "error": None, "meta": None}
        if elapsed < gen.queue_seconds:
            return answer
        answer["status"] = "generating"
        if elapsed < gen.queue_seconds + gen.generate_seconds:
            return answer
        free = {"usage": {"credits_used": 0, "usd_spent": 0}}  # the docs: failed generations are not charged
        if gen.fail_message:
            answer["status"] = "error"
            answer["error"] = {"name": "GenerationError", "message": gen.fail_message}
            answer["meta"] = free
            return answer
        assert gen.render is not None
        if not gen.render.done():
            return answer
        if gen.render.exception() is not None:
            answer["status"] = "error"
            answer["error"] = {"name": "RenderError", "message": f"Simulator render failed: {gen.render.exception()}"}
            answer["meta"] = free
            return answer
        path = gen.render.result()
        with self._lock:
            if not gen.charged:
                gen.charged = True
                gen.charged_at = self.clock()
                self.balance_usd -= gen.credits / CREDITS_PER_USD
                self._remember(gen)
        answer.update(
            status="completed",
            video={
                "url": f"{self.url}{FILES_PREFIX}{path.name}",
                "content_type": "video/mp4",
                "file_name": path.name,
                "file_size": path.stat().st_size,
            },
            meta={"usage": {"credits_used": gen.credits, "usd_spent": billing.usd_of(gen.credits)}},
        )
        return answer


def _background(durations: Durations, count: int, rng: random.Random) -> tuple[float, ...]:
    """`count` durations in ms of other users' jobs: one random draw in each of `count` equally likely slices
    of the distribution (stratified), so the percentiles published from them are the distribution's own; plain
    draws would be off by 5-15% at p90 (and far more at the median of a two-humped one) from one seed to another.
    """
    return tuple(quantile(durations, (i + rng.random()) / count) * 1000 for i in range(count))


def _cost_headers(credits: int) -> dict[str, str]:
    return {"x-aimlapi-credits-used": str(credits), "x-aimlapi-usd-spent": billing.money(billing.usd_of(credits))}


def _error_body(status: int, message: str, path: str, request_id: str | None = None) -> dict[str, Any]:
    return {
        "message": message,
        "path": path,
        "requestId": request_id or str(uuid.uuid4()),
        "statusCode": status,
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


class _Handler(BaseHTTPRequestHandler):
    sim: Simulator
    server_version = "PixDeskSimulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the CLI own stderr
        return

    # -- plumbing --------------------------------------------------------------------------------
    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self._send_raw(status, payload, "application/json", headers)

    def _send_raw(self, status: int, payload: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _error(
        self, status: int, message: str, headers: dict[str, str] | None = None, request_id: str | None = None
    ) -> None:
        self._send_json(status, _error_body(status, message, urlsplit(self.path).path, request_id), headers)

    def _refuse_create(self, status: int, message: str, body: Any, client_request_id: str | None) -> None:
        """Answer a create with an error after the key was read: the usage logs list it as a failed request."""
        model = body.get("model") if isinstance(body, dict) else None
        request_id = self.sim.refuse(model if isinstance(model, str) else "", client_request_id)
        self._error(status, message, request_id=request_id)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(2)

    def _stream(
        self,
        status: int,
        ctype: str,
        parts: list[bytes],
        length: int | None,
        seconds: float,
        *,
        drip: bool = False,
        endless: bool = False,
    ) -> None:
        """Send headers, then `parts` (one byte at a time with `drip`; the last part over and over with
        `endless`), pausing `seconds` between writes. Ends when done, when the client hangs up or when
        the simulator stops; never blocks `Simulator.stop()`."""
        self.close_connection = True
        try:
            # A client that stops reading without hanging up would block a write for ever: give up instead.
            self.connection.settimeout(STREAM_WRITE_TIMEOUT)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.flush()
            pieces: Iterator[bytes]
            if drip:
                pieces = (bytes([b]) for b in b"".join(parts))
            elif endless:
                pieces = itertools.chain(parts, itertools.repeat(parts[-1]))
            else:
                pieces = iter(parts)
            for piece in pieces:
                if self.sim.stopping.is_set():
                    break
                self.wfile.write(piece)
                self.wfile.flush()
                if seconds and self.sim.stopping.wait(seconds):
                    break
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            pass  # the client hung up (as it should, on a stream like this)
        finally:
            self._drop()

    def _endpoint(self, method: str, path: str) -> Endpoint:
        if path in CREATE_PATHS:
            return "create" if method == "POST" else "poll"
        if path == BILLING_PATH:
            return "billing"
        if path.startswith(FILES_PREFIX):
            return "download"
        return {MODELS_PATH: "models", METRICS_PATH: "metrics", LOGS_PATH: "logs", LEDGER_PATH: "ledger"}.get(
            path, "other"
        )

    def _apply_fault(self, endpoint: Endpoint) -> Fault | None:
        """Handle a fault that replaces the answer; return one that the endpoint must handle itself."""
        fault = self.sim.take_fault(endpoint)
        if fault is None:
            return None
        if fault.kind == "hang":
            self.sim.stopping.wait(fault.seconds)
            return None
        if fault.kind == "drop":
            self._drop()
            return fault
        if fault.kind == "status":
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
            messages = {
                429: "Too many requests, please slow down.",
                500: "Internal server error",
                502: "Bad gateway",
                503: "Service temporarily unavailable",
                504: "Gateway timeout",
                401: "Unauthorized",
                403: "Insufficient credits",
            }
            message = fault.message if fault.message is not None else messages.get(fault.status, "Simulated error")
            if fault.echo_key:
                message += f" (received Authorization: {self.headers.get('Authorization', '')})"
            self._error(fault.status, message, headers)
            return fault
        if fault.kind == "malformed":
            self._send_raw(200, b'{"id": "abc", "status": ', "application/json")
            return fault
        if fault.kind in ("html", "html_error"):
            page = b"<html><head><style>h1{}</style></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
            self._send_raw(200 if fault.kind == "html" else fault.status, page, "text/html")
            return fault
        if fault.kind == "huge":
            self._send_raw(
                200, b'{"id": "x", "status": "queued", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}', "application/json"
            )
            return fault
        if endpoint != "download" and fault.kind == "drip":
            payload = json.dumps({"id": "drip", "status": "queued", "video": None, "error": None}).encode()
            self._stream(200, "application/json", [payload], len(payload), fault.seconds, drip=True)
            return fault
        if endpoint != "download" and fault.kind == "endless":
            pad = b" " * 1024 if fault.seconds else b" " * 65536
            self._stream(
                200,
                "application/json",
                [b'{"id": "endless", "status": "queued", "pad": ', pad],
                None,
                fault.seconds,
                endless=True,
            )
            return fault
        return fault  # drop_after_accept, cut, truncate, rewrite, drip and endless downloads: the endpoint's

    def _authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            self._error(401, "Unauthorized: missing API key. Pass it as 'Authorization: Bearer <key>'.")
            return False
        if self.sim.api_key is not None and auth[7:].strip() != self.sim.api_key:
            self._error(401, "Unauthorized: the API key is invalid.")
            return False
        return True

    # -- verbs -----------------------------------------------------------------------------------
    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        endpoint = self._endpoint("POST", path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, MAX_BODY + 1)) if length else b""
        self.sim.stats.requests.append(("POST", endpoint, self.sim.clock()))
        if endpoint != "create":
            self._error(404, f"Cannot POST {path}")
            return
        fault = self._apply_fault(endpoint)
        if fault is not None and fault.kind not in ("drop_after_accept", "cut"):
            return
        if not self._authorised():
            return
        if length > MAX_BODY:
            self._error(413, "Request entity too large")
            return
        client_request_id = self.headers.get("X-Client-Request-Id")
        if client_request_id is not None and not CLIENT_REQUEST_ID.fullmatch(client_request_id):
            client_request_id = None  # like the API: an invalid id is silently dropped, the request still runs
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            self._refuse_create(400, f"Body validation error! Invalid JSON: {exc}", None, client_request_id)
            return
        spec = MODELS.get(str(body.get("model"))) if isinstance(body, dict) else None
        problems = self.sim.validate(body, spec)
        if problems:
            self._refuse_create(400, "Body validation error! " + "; ".join(problems), body, client_request_id)
            return
        assert spec is not None
        if self.sim.balance_usd <= 0:
            self._refuse_create(403, "Insufficient credits. Top up your balance to continue.", body, client_request_id)
            return
        gen = self.sim.create(body, spec, client_request_id)
        if fault is not None and fault.kind == "drop_after_accept":
            self._drop()
            return
        echo = {"x-inference-id": gen.id, **_cost_headers(gen.credits)}
        if client_request_id:
            echo["x-client-request-id"] = client_request_id
        usage = {"credits_used": gen.credits, "usd_spent": billing.usd_of(gen.credits)}
        self._send_json(201, {"id": gen.id, "status": "queued", "meta": {"usage": usage}}, echo)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        endpoint = self._endpoint("GET", parts.path)
        self.sim.stats.requests.append(("GET", endpoint, self.sim.clock()))
        fault = self._apply_fault(endpoint)
        if fault is not None and fault.kind not in ("cut", "rewrite", "truncate", "drip", "endless"):
            return
        if fault is not None and endpoint != "download" and fault.kind in ("truncate", "drip", "endless"):
            return
        if endpoint == "download":
            self._serve_file(parts.path[len(FILES_PREFIX) :], fault)
            return
        if endpoint == "other":
            self._error(404, f"Cannot GET {parts.path}")
            return
        query = parse_qs(parts.query, keep_blank_values=True)
        if endpoint == "models":
            self._serve_models(query)
            return
        if endpoint == "metrics":
            unknown = sorted(set(query) - {"aliases"})
            if unknown:
                self._error(400, f"Unknown query parameter(s): {', '.join(unknown)}")
                return
            self._send_json(200, self.sim.metrics(query.get("aliases", [])))
            return
        if not self._authorised():
            return
        if endpoint == "billing":
            self._send_json(200, {"current_balance": round(self.sim.balance_usd, 4), "currency": "USD"})
            return
        if endpoint in ("logs", "ledger"):
            self._serve_books(endpoint, query)
            return
        ids = parse_qs(parts.query).get("generation_id") or []
        if not ids or not ids[0]:
            self._error(400, "Body validation error! generation_id: Required")
            return
        gen = self.sim.generations.get(ids[0])
        if gen is None:
            self._error(404, f"Generation {ids[0]} not found")
            return
        answer = self.sim.status_of(gen)
        usage = (answer.get("meta") or {}).get("usage") or {}
        cost = _cost_headers(int(usage["credits_used"])) if "credits_used" in usage else None
        if fault is not None and fault.kind == "rewrite":
            for key, value in fault.patch.items():
                if isinstance(value, dict) and isinstance(answer.get(key), dict):
                    answer[key] = {**answer[key], **value}
                else:
                    answer[key] = value
        self._send_json(200, answer, cost)

    def _serve_models(self, query: dict[str, list[str]]) -> None:
        """The public catalogue with an ETag over the body: a matching If-None-Match gets an empty 304."""
        payload = json.dumps(billing.models_answer(self.sim.catalogue, query)).encode()
        etag = billing.etag_of(payload)
        if billing.etag_matches(self.headers.get("If-None-Match"), etag):
            self.sim.note_not_modified()
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self._send_raw(200, payload, "application/json", {"ETag": etag})

    def _serve_books(self, endpoint: Endpoint, query: dict[str, list[str]]) -> None:
        """`/v2/logs` (rate limited, offset pages) and `/v2/billing/transactions` (cursor pages)."""
        try:
            if endpoint == "logs":
                wait = self.sim.logs_rate_limited()
                if wait is not None:
                    self._error(429, "Too many requests, please slow down.", {"Retry-After": str(math.ceil(wait) or 1)})
                    return
                parsed = billing.parse_logs_query(query, self.sim.wall(self.sim.clock()))
                rows = [r for t, r in self.sim.log_rows() if parsed.start <= t <= parsed.end]
                self._send_json(200, billing.page_logs(rows, parsed))
            else:
                self._send_json(200, self.sim.ledger_page(query))
        except QueryError as exc:
            self._error(400, f"Query validation error! {exc}")

    def _serve_file(self, name: str, fault: Fault | None) -> None:
        if "/" in name or name.startswith(".") or not name.endswith(".mp4"):
            self._error(404, "Not found")
            return
        path = self.sim.workdir / name
        if not path.is_file():
            self._error(404, "Not found")
            return
        data = path.read_bytes()
        if fault is not None and fault.kind == "endless":
            # What a broken host might send: an MP4 start, then bytes that never end (no Content-Length).
            head = data[:64] if data[4:8] == b"ftyp" else b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00"
            self._stream(200, "video/mp4", [head, b"\x00" * 65536], None, fault.seconds, endless=True)
            return
        if fault is not None and fault.kind == "truncate":
            self._stream(200, "video/mp4", [data[: fault.after_bytes]], None, 0.0)
            return
        if fault is not None and fault.kind == "drip":
            self._stream(200, "video/mp4", [data], len(data), fault.seconds, drip=True)
            return
        start = 0
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and rng[6:].split("-")[0].isdigit():
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self._send_raw(416, b"", "text/plain", {"Content-Range": f"bytes */{len(data)}"})
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if fault is not None and fault.kind == "cut":
            self.wfile.write(body[: fault.after_bytes])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(body)
