"""Shared bench helpers: a simulator in its own process, so CPU figures are the client's alone."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "resources" / "samples"


@contextmanager
def simulator_process(queue_seconds: float, generate_seconds: float, durations: str | None = None) -> Iterator[str]:
    """`pixdesk simulator` in its own process; yields its URL. `durations` (a `parse_durations` spec) draws each
    job's time instead of the fixed queue + generate seconds (it needs the CLI's `--durations` option)."""
    command = [
        sys.executable,
        "-m",
        "pixdesk",
        "simulator",
        "--queue-seconds",
        str(queue_seconds),
        "--generate-seconds",
        str(generate_seconds),
    ]
    if durations is not None:
        command += ["--durations", durations]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        # The real service renders on its own machines: keep the simulator from starving the client's CPU.
        preexec_fn=lambda: os.nice(19),
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):  # it failed to start: say so, not a confusing error at the first request
            raise RuntimeError(f"the simulator did not start (exit code {proc.poll()}); its first line: {url!r}")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.cpu0, self.wall0 = cpu_seconds(), time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = cpu_seconds() - self.cpu0
        self.wall = time.monotonic() - self.wall0
