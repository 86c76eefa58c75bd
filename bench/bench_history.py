"""Opening the window with a long history: time until the queue shows every job, 0 vs 5000 saved jobs.

Each saved job carries a real thumbnail; they are decoded only when their rows are painted.
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
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

import qasync

from bench.common import SAMPLES
from pixdesk.api.images import prepare_image
from pixdesk.api.request import GenerationRequest
from pixdesk.config import database_path, load_settings
from pixdesk.jobs import Job, JobState, JobStore
from pixdesk.runtime import Runtime
from pixdesk.ui.app import ensure_app
from pixdesk.ui.main_window import MainWindow

ROWS = 5000


def fill(count: int) -> None:
    store = JobStore(database_path())
    thumb = prepare_image(SAMPLES / "portrait.png", 128).thumbnail
    now = time.time()
    for i in range(count):
        store.save(
            Job(
                request=GenerationRequest(image=str(SAMPLES / "portrait.png"), prompt=f"history job {i}"),
                state=JobState.COMPLETED,
                created_at=now - i,
                backend="demo",
                thumbnail=thumb,
                credits=630000.0,
            )
        )
    store.close()


async def open_window(expected: int) -> float:
    runtime = Runtime(load_settings(), demo=True)
    started = time.perf_counter()
    window = MainWindow(runtime)
    window.show()
    while not window.is_ready() or window.model.rowCount() < expected:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    window.close()
    await window.wait_closed()
    runtime.close()
    return elapsed


def measure(count: int, loop: asyncio.AbstractEventLoop) -> float:
    home = Path(tempfile.mkdtemp(prefix="pixdesk-bench-history-"))
    os.environ.update(XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    fill(count)
    return min(loop.run_until_complete(open_window(count)) for _ in range(3))


def main() -> None:
    app = ensure_app()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    empty = measure(0, loop)
    full = measure(ROWS, loop)
    print("bench_history: window ready with its queue filled (best of 3)")
    print(f"{'':22}{'0 jobs (baseline)':>20}{f'{ROWS} jobs':>12}{'ratio':>9}")
    print(f"{'seconds to ready':22}{empty:>20.3f}{full:>12.3f}{full / empty:>8.2f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
