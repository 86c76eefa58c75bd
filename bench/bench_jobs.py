"""20 concurrent jobs against the simulator: PixDesk's engine vs the API docs' plain polling loop.

The baseline is the published example: POST, then GET every 10 s (fixed sleep) until done, one thread per
job, then a plain download. It gets what any careful script has (timeouts, an error when a request fails)
and one retry rule: a request is sent again only when the connection to the server could not be made, i.e.
when it surely never arrived; anything else ends the run with the error instead of skewing the figures.
Both run in this process against the same simulator (in its own process), so CPU seconds are the client's
own. Prints per-job figures and ratios.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SAMPLES, Stopwatch, simulator_process
from pixdesk.api.client import ApiClient
from pixdesk.api.request import GenerationRequest
from pixdesk.jobs import JobEngine, JobState, JobStore, Library

JOBS = 20
QUEUE_S, GENERATE_S = 4.0, 13.0
KEY = "bench-key"
BASELINE_TIMEOUT = (10.0, 60.0)  # connect, read: the docs' examples set none, so a stalled request hung the run


def baseline_session() -> requests.Session:
    """A plain session that retries a request only when connecting failed (it never reached the server).

    urllib3 counts a refused or timed-out connect as a connect error, which it may retry for any verb, POST
    included; a reset or a timeout after the request went out is a read error, and with `read=0` it is raised.
    """
    retry = Retry(total=None, connect=3, read=0, redirect=0, status=0, other=0, backoff_factor=0.5)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def count_requests(session: requests.Session, counter: list[int]) -> None:
    session.hooks["response"].append(lambda r, *a, **k: counter.append(1))


def run_engine(url: str, folder: Path) -> tuple[Stopwatch, int, float]:
    counter: list[int] = []
    client = ApiClient(url, KEY)
    count_requests(client.session, counter)
    engine = JobEngine(client, JobStore(folder / "jobs.sqlite3"), Library(folder / "videos"), max_in_flight=JOBS)
    count_requests(engine.services.download_session, counter)
    done_at: dict[str, float] = {}
    engine.job_listeners.append(lambda j: j.state is JobState.COMPLETED and done_at.setdefault(j.id, time.monotonic()))

    async def go() -> None:
        start = time.monotonic()
        for i in range(JOBS):
            await engine.submit(
                GenerationRequest(image=str(SAMPLES / "portrait.png"), prompt=f"bench {i}", resolution="360p", seed=i)
            )
        await engine.wait_all()
        await engine.close()
        assert all(j.state is JobState.COMPLETED for j in engine.jobs.values())
        done_at["_start"] = start

    with Stopwatch() as sw:
        asyncio.run(go())
    start = done_at.pop("_start")
    latency = sum(t - start for t in done_at.values()) / len(done_at) - (QUEUE_S + GENERATE_S)
    return sw, len(counter), latency


def run_plain_loop(url: str, folder: Path) -> tuple[Stopwatch, int, float]:
    counter: list[int] = []
    image = "data:image/png;base64," + base64.b64encode((SAMPLES / "portrait.png").read_bytes()).decode()
    finished: list[float] = []
    errors: list[BaseException] = []
    start = time.monotonic()

    def one(i: int) -> None:
        try:
            run_one(i)
        except BaseException as exc:  # reported after the run, so one lost job cannot hide in an average
            errors.append(exc)

    def run_one(i: int) -> None:
        session = baseline_session()
        count_requests(session, counter)
        headers = {"Authorization": f"Bearer {KEY}"}
        body = {
            "model": "pixverse/v5/image-to-video",
            "prompt": f"bench {i}",
            "image_url": image,
            "resolution": "360p",
            "seed": 1000 + i,
        }
        created = session.post(f"{url}/v2/video/generations", json=body, headers=headers, timeout=BASELINE_TIMEOUT)
        created.raise_for_status()
        gen_id = created.json()["id"]
        while True:
            polled = session.get(
                f"{url}/v2/video/generations",
                params={"generation_id": gen_id},
                headers=headers,
                timeout=BASELINE_TIMEOUT,
            )
            polled.raise_for_status()
            data = polled.json()
            if data["status"] in ("waiting", "active", "queued", "generating"):
                time.sleep(10)
                continue
            break
        if data["status"] not in ("completed", "succeeded"):
            raise RuntimeError(f"job {i} ended {data['status']}: {data.get('error')}")
        video = session.get(data["video"]["url"], timeout=BASELINE_TIMEOUT)
        video.raise_for_status()
        (folder / f"{i}.mp4").write_bytes(video.content)
        session.close()
        finished.append(time.monotonic())

    with Stopwatch() as sw:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(JOBS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise RuntimeError(f"the baseline lost {len(errors)} of {JOBS} jobs; the first: {errors[0]!r}") from errors[0]
    latency = sum(t - start for t in finished) / len(finished) - (QUEUE_S + GENERATE_S)
    return sw, len(counter), latency


def main() -> None:
    os.environ.setdefault("XDG_DATA_HOME", tempfile.mkdtemp())
    with simulator_process(QUEUE_S, GENERATE_S) as url, tempfile.TemporaryDirectory() as tmp:
        base_sw, base_requests, base_latency = run_plain_loop(url, Path(tmp))
    with simulator_process(QUEUE_S, GENERATE_S) as url, tempfile.TemporaryDirectory() as tmp:
        ours_sw, ours_requests, ours_latency = run_engine(url, Path(tmp))
    print(f"bench_jobs: {JOBS} concurrent jobs, simulator queue {QUEUE_S:g} s + generate {GENERATE_S:g} s")
    print(f"{'':28}{'baseline (docs loop)':>22}{'pixdesk engine':>18}{'ratio':>9}")
    rows = [
        ("client CPU s per job", base_sw.cpu / JOBS, ours_sw.cpu / JOBS),
        ("HTTP requests per job", base_requests / JOBS, ours_requests / JOBS),
        ("s late after server done", base_latency, ours_latency),
        ("wall s for all jobs", base_sw.wall, ours_sw.wall),
    ]
    for name, base, ours in rows:
        ratio = ours / base if base else float("nan")
        print(f"{name:28}{base:>22.3f}{ours:>18.3f}{ratio:>8.2f}x")
    print("(the engine also prepares images, keeps a SQLite record, verifies and resumes downloads, writes sidecars)")


if __name__ == "__main__":
    main()
