"""The simulator's timing (issue 11): each generation's time drawn from a distribution, `/models/metrics`
publishing that distribution from the first request on, and a server that takes many clients at once."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from pixdesk.api.client import ApiClient
from pixdesk.simulator import Simulator
from pixdesk.simulator.durations import BIMODAL, TYPICAL, WIDE, Durations, Fixed, LogNormal, quantile
from tests.conftest import TEST_KEY, png_bytes
from tests.helpers import FakeClock

MODEL = "pixverse/v5/image-to-video"
BODY: dict[str, Any] = {
    "model": MODEL,
    "prompt": "waves",
    "image_url": "data:image/png;base64," + base64.b64encode(png_bytes((64, 48))).decode(),
    "resolution": "360p",
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One video folder for the module's simulators: the clip every test creates is rendered once."""
    return tmp_path_factory.mktemp("videos")


def metrics_of(sim: Simulator, alias: str = MODEL) -> dict[str, Any]:
    """The raw `/models/metrics` answer for one alias (keyless, as the API serves it)."""
    resp = requests.get(f"{sim.url}/models/metrics", params={"aliases": alias}, timeout=10)
    resp.raise_for_status()
    answer: dict[str, Any] = resp.json()
    return answer


def ks_distance(values: list[float], dist: Durations) -> float:
    """Kolmogorov-Smirnov distance between the values' empirical cdf and the distribution's."""
    ordered = sorted(values)
    n = len(ordered)
    return max(max(abs((i + 1) / n - dist.cdf(x)), abs(i / n - dist.cdf(x))) for i, x in enumerate(ordered))


# -- drawn times ---------------------------------------------------------------------------------
def test_drawn_times_follow_the_distribution(videos: Path):
    dist = LogNormal(75.0, 0.18)
    clock = FakeClock()
    with Simulator(durations=dist, timing_seed=11, render_sync=True, workdir=videos, clock=clock.now) as sim:
        client = ApiClient(sim.url, TEST_KEY)
        ids = [client.create(BODY).id for _ in range(300)]
        client.close()
        times = [sim.generation_seconds(i) for i in ids]
    # n = 300: the 1% critical value of the KS statistic is 1.63 / sqrt(300) = 0.094.
    assert ks_distance(times, dist) < 0.094
    assert len(set(times)) == len(times)  # drawn, not one fixed time


def test_a_seed_repeats_the_draws_and_another_seed_does_not(videos: Path):
    def draws(seed: int) -> list[float]:
        sim = Simulator(durations=TYPICAL, timing_seed=seed, render_sync=True, workdir=videos, clock=FakeClock().now)
        with sim:
            client = ApiClient(sim.url, TEST_KEY)
            ids = [client.create(BODY).id for _ in range(5)]
            client.close()
            return [sim.generation_seconds(i) for i in ids]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)


def test_a_fifth_of_the_drawn_time_is_queued_the_rest_generating(videos: Path):
    clock = FakeClock()
    with Simulator(
        durations=LogNormal(60.0, 0.3), timing_seed=5, render_sync=True, workdir=videos, clock=clock.now
    ) as sim:
        client = ApiClient(sim.url, TEST_KEY)
        start = clock.t
        gen_id = client.create(BODY).id
        total = sim.generation_seconds(gen_id)
        seen = []
        for at in (0.0, 0.2 * total - 0.01, 0.2 * total + 0.01, total - 0.01, total + 0.01):
            clock.t = start + at
            seen.append(client.status(gen_id).status)
        client.close()
    assert seen == ["queued", "queued", "generating", "generating", "completed"]


def test_without_durations_every_generation_takes_the_fixed_time(videos: Path):
    with Simulator(
        queue_seconds=1.5, generate_seconds=4.0, render_sync=True, workdir=videos, clock=FakeClock().now
    ) as sim:
        client = ApiClient(sim.url, TEST_KEY)
        ids = [client.create(BODY).id for _ in range(3)]
        client.close()
        assert [sim.generation_seconds(i) for i in ids] == [5.5, 5.5, 5.5]
        with pytest.raises(KeyError):
            sim.generation_seconds("no-such-generation")


def test_a_restarted_simulator_keeps_each_generations_drawn_time(tmp_path: Path):
    with Simulator(state_dir=tmp_path, durations=WIDE, timing_seed=2, render_sync=True) as first:
        client = ApiClient(first.url, TEST_KEY)
        ids = [client.create(BODY).id for _ in range(4)]
        client.close()
        drawn = [first.generation_seconds(i) for i in ids]
    # Another distribution (or none) after the restart must not change the jobs already running.
    with Simulator(state_dir=tmp_path, durations=Fixed(1.0), render_sync=True) as second:
        assert [second.generation_seconds(i) for i in ids] == drawn
    with Simulator(state_dir=tmp_path, render_sync=True) as third:
        assert [third.generation_seconds(i) for i in ids] == drawn


# -- live latency --------------------------------------------------------------------------------
@pytest.mark.parametrize("dist", [TYPICAL, WIDE, BIMODAL], ids=str)
def test_metrics_match_the_distribution_right_after_start(dist: Durations):
    with Simulator(durations=dist, timing_seed=1) as sim:
        answer = metrics_of(sim)
    [entry] = answer["models"]
    assert entry["alias"] == MODEL
    assert entry["endpoint"] == "/v2/video/generations"
    got = entry["metrics"]["duration_ms"]
    for name, p, tolerance in (("p50", 0.5, 0.03), ("p75", 0.75, 0.03), ("p90", 0.9, 0.03), ("p99", 0.99, 0.08)):
        want = quantile(dist, p) * 1000
        assert got[name] == pytest.approx(want, rel=tolerance), name


def test_metrics_answer_for_aliases_and_every_catalogue_model():
    with Simulator(durations=TYPICAL, timing_seed=1) as sim:
        by_alias = metrics_of(sim, "pixverse-v5-image-to-video")["models"]
        everything = requests.get(f"{sim.url}/models/metrics", timeout=10).json()["models"]
        unknown = metrics_of(sim, "no-such/model")["models"]
        catalogue = [e.id for e in sim.catalogue]
    assert [m["alias"] for m in by_alias] == ["pixverse-v5-image-to-video"]
    assert [m["alias"] for m in everything] == catalogue
    assert unknown == []  # nobody runs a model the service does not have


def test_without_durations_a_model_with_nothing_completed_is_absent(videos: Path):
    with Simulator(render_sync=True, workdir=videos, clock=FakeClock().now) as sim:
        answer = metrics_of(sim)
    assert answer["models"] == []
    assert answer["window_seconds"] == 300


def test_completed_generations_join_the_background_traffic(videos: Path):
    clock = FakeClock()
    dist = LogNormal(30.0, 0.2)
    with Simulator(
        durations=dist, timing_seed=9, background_samples=0, render_sync=True, workdir=videos, clock=clock.now
    ) as sim:
        assert metrics_of(sim)["models"] == []  # no other users: like the old behaviour
        client = ApiClient(sim.url, TEST_KEY)
        gen_id = client.create(BODY).id
        total = sim.generation_seconds(gen_id)
        clock.t += total + 0.01
        assert client.status(gen_id).status == "completed"
        client.close()
        [entry] = metrics_of(sim)["models"]
    assert entry["metrics"]["duration_ms"]["p50"] == pytest.approx(total * 1000, abs=0.1)


# -- many clients at once ------------------------------------------------------------------------
CLIENTS = 50
POLLS = 10


def test_fifty_clients_at_once_are_all_served(sim: Simulator):
    """Each client has its own session and connection; all start together. With socketserver's default
    listen backlog (5), connections are reset or time out; every request must get its answer."""
    barrier = threading.Barrier(CLIENTS)
    errors: list[BaseException] = []
    answered: list[int] = []

    def one() -> None:
        client = ApiClient(sim.url, TEST_KEY)
        try:
            barrier.wait(timeout=30)
            gen_id = client.create(BODY).id
            for _ in range(POLLS):
                client.status(gen_id)
            answered.append(1 + POLLS)
        except BaseException as exc:  # the test reports them all
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=one, name=f"client-{i}") for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [f"{type(e).__name__}: {e}" for e in errors] == []
    assert sum(answered) == CLIENTS * (1 + POLLS)
    assert sim.stats.count("create") == CLIENTS
    assert sim.stats.count("poll") == CLIENTS * POLLS
