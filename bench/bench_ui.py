"""UI responsiveness: how late a 5 ms QTimer fires while 20 jobs run end to end in the real window.

The jobs include preparing a large (6000×4000) image and downloading every video; the simulator
runs in its own process. Baseline: the same probe in the same window, idle, for the same time.
Target: no stall over 50 ms.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
home = Path(tempfile.mkdtemp(prefix="pixdesk-bench-ui-"))
os.environ.update(
    XDG_DATA_HOME=str(home / "data"),
    XDG_CONFIG_HOME=str(home / "config"),
    PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
)

import qasync  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402

from bench.common import SAMPLES, simulator_process  # noqa: E402
from pixdesk.api.request import GenerationRequest  # noqa: E402
from pixdesk.config import load_settings  # noqa: E402
from pixdesk.jobs import JobState  # noqa: E402
from pixdesk.jobs.timing import PollPolicy  # noqa: E402
from pixdesk.runtime import Runtime  # noqa: E402
from pixdesk.ui.app import ensure_app  # noqa: E402
from pixdesk.ui.main_window import MainWindow  # noqa: E402

JOBS = 20
INTERVAL_MS = 5


class StallProbe:
    def __init__(self) -> None:
        self.late: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        self._last = 0.0

    def start(self) -> None:
        self.late.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late.append(max(0.0, (now - self._last) * 1000 - INTERVAL_MS))
        self._last = now

    def summary(self) -> tuple[float, float]:
        data = sorted(self.late) or [0.0]
        return data[-1], data[min(len(data) - 1, int(len(data) * 0.99))]


def big_image() -> Path:
    path = home / "big photo.png"
    Image.effect_noise((6000, 4000), 60).convert("RGB").save(path, compress_level=1)
    return path


async def run(window: MainWindow, probe: StallProbe, image: Path) -> tuple[float, float, float, float]:
    await asyncio.sleep(3.0)  # past start-up (history, balance)
    probe.start()
    await asyncio.sleep(12.0)
    probe.stop()
    idle = probe.summary()
    probe.start()
    started = time.monotonic()
    for i in range(JOBS):
        source = image if i % 4 == 0 else SAMPLES / ("portrait.png" if i % 2 else "sunset-mountains.jpg")
        window.generate(GenerationRequest(image=str(source), prompt=f"bench job {i}", resolution="360p", seed=i))
    while len(window.model.jobs()) < JOBS or any(not j.is_final for j in window.model.jobs()):
        await asyncio.sleep(0.1)
    probe.stop()
    busy = probe.summary()
    states = {j.state for j in window.model.jobs()}
    assert states == {JobState.COMPLETED}, states
    print(f"  20 jobs finished in {time.monotonic() - started:.1f} s")
    return idle[0], idle[1], busy[0], busy[1]


def main() -> None:
    app = ensure_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    image = big_image()
    with simulator_process(queue_seconds=2.0, generate_seconds=6.0) as url:
        os.environ["AIMLAPI_BASE_URL"] = url
        os.environ["AIMLAPI_KEY"] = "bench-key"
        runtime = Runtime(load_settings())
        window = MainWindow(
            runtime, engine_options={"max_in_flight": JOBS, "poll_policy": PollPolicy(first=1.0, ceiling=2.0)}
        )
        window.show()
        probe = StallProbe()
        idle_max, idle_p99, busy_max, busy_p99 = loop.run_until_complete(run(window, probe, image))
        window.close()
        loop.run_until_complete(window.wait_closed())
        runtime.close()
    print(f"bench_ui: 5 ms timer lateness while {JOBS} jobs run (1 in 4 with a 6000x4000 image)")
    print(f"{'':22}{'idle (baseline)':>18}{'20 jobs':>12}{'ratio':>9}")
    print(f"{'max stall ms':22}{idle_max:>18.1f}{busy_max:>12.1f}{busy_max / max(idle_max, 0.1):>8.1f}x")
    print(f"{'p99 stall ms':22}{idle_p99:>18.1f}{busy_p99:>12.1f}{busy_p99 / max(idle_p99, 0.1):>8.1f}x")
    print(f"target: max stall under 50 ms -> {'met' if busy_max < 50 else 'NOT met'}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
