"""Start and stop: launch to a usable window, and window close to process exit, against a bare PySide6 window.

Baseline (measured in the same run, alternating with the app): a bare script that imports the Qt modules the app
loads in a session (QtCore, QtGui, QtWidgets, QtNetwork, QtDBus, QtMultimedia, QtMultimediaWidgets; the app itself
now loads Qt Multimedia only when a clip first plays), shows a QMainWindow of the app's default size and closes it
once usable. The app: `python -m pixdesk` with PIXDESK_EXIT_WHEN_SHOWN (it closes its window once ready: history
shown, unfinished jobs resumed, the demo simulator up), in fresh data/config folders, no keychain, offscreen Qt;
live mode (a key, the base URL on a closed loopback port), demo mode (no key), and live mode with 5000 finished
jobs in its history.

Both processes write CLOCK_MONOTONIC times (system-wide on Linux) to a report file: when the window became usable
and when its close began; this process notes the launch (just before fork) and the exit (when wait4 returns),
and takes peak RSS from wait4's rusage of that very child. Medians of ROUNDS rounds, after one warm-up round
(which also compiles the bytecode both use, as an installed app would have it).
A second baseline, the floor window, is the bare window plus every Qt class the app had made by its first frame
(listed by the app's start-up report during the warm-up) and one line of text: PySide6 builds a class, and a
Python enum for each of its enum types, when it is first used, so that is what any window showing the app's
widgets pays before a line of PixDesk runs. The app is also given as a ratio to it.
Targets (issue 11): start <= 1.3x the bare window; exit within 0.3 s of the window closing (no job in flight).
Exits nonzero only when a launch fails, never on a missed target.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROUNDS = int(os.environ.get("PIXDESK_BENCH_ROUNDS", "7"))
HISTORY_ROWS = 5000
LAUNCH_TIMEOUT = 120.0
START_TARGET = 1.3  # x the bare window
STOP_TARGET = 0.3  # seconds from the window's close to the process's exit

USABLE = (
    "usable = the window is shown, its first frame painted (Qt paints while it handles the window's first "
    "expose event), and a 0 ms timer queued then has fired (one event-loop turn done); the same for both"
)

# The baseline: the same Qt modules, a QMainWindow, the same 'usable' rule as pixdesk.ui.app.when_usable.
BARE_WINDOW = r"""
import json, os, sys, time
from PySide6 import QtCore, QtDBus, QtGui, QtMultimedia, QtMultimediaWidgets, QtNetwork, QtWidgets  # noqa: F401
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

def report(event):
    with open(os.environ["PIXDESK_STARTUP_REPORT"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"event": event, "monotonic": time.monotonic()}) + "\n")

# The floor window: the same, plus every Qt class the app had made by its first frame (PySide6 makes a class,
# and a Python enum for each of its enum types, when it is first used) and one line of text to paint.
floor = os.environ.get("PIXDESK_FLOOR_CLASSES")
if floor:
    import importlib
    with open(floor, encoding="utf-8") as fh:
        for module_name, names in json.load(fh).items():
            module = importlib.import_module(module_name)
            for name in names:
                getattr(module, name)

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1380, 820)
if floor:
    from PySide6.QtWidgets import QLabel
    window.setCentralWidget(QLabel("Drop a picture here, describe the motion, and press Generate."))

def usable():
    report("usable")
    report("closing")
    window.close()

class FirstExpose(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Expose:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, usable)
        return False

window.show()
first = FirstExpose()
window.windowHandle().installEventFilter(first)
sys.exit(app.exec())
"""


@dataclass
class Run:
    start: float  # s from launch to a usable window
    ready: float  # s from launch to a ready window (the app: history shown, jobs resumed; the bare one: usable)
    stop: float  # s from the window's close to the process's exit
    peak_mb: float  # the child's peak RSS
    qt_classes: dict[str, list[str]] | None = None  # the app: the Qt classes made by its first frame


def closed_port() -> int:
    """A loopback port nobody listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(command: list[str], env: dict[str, str], home: Path, pycache: Path) -> Run:
    report = home / "startup.jsonl"
    report.unlink(missing_ok=True)
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    full_env = {
        **inherited,
        **env,
        # Bytecode as an installed app has it (compiled once, in the warm-up round), kept out of the source tree.
        "PYTHONPYCACHEPREFIX": str(pycache),
        "QT_QPA_PLATFORM": "offscreen",
        "PIXDESK_EXIT_WHEN_SHOWN": "1",
        "PIXDESK_STARTUP_REPORT": str(report),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    errors = home / "stderr.txt"
    with open(errors, "w") as err:
        launched = time.monotonic()
        proc = subprocess.Popen(command, env=full_env, cwd=home, stdout=subprocess.DEVNULL, stderr=err)
        watchdog = threading.Timer(LAUNCH_TIMEOUT, proc.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            exited = time.monotonic()
        finally:
            watchdog.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    events = {}
    qt_classes = None
    if report.exists():
        for line in report.read_text().splitlines():
            record = json.loads(line)
            events[record["event"]] = record["monotonic"]
            qt_classes = record.get("qt_classes", qt_classes)
    if proc.returncode != 0 or "usable" not in events or "closing" not in events:
        tail = errors.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{command} failed (exit {proc.returncode}, events {sorted(events)}):\n{tail}")
    ready = events.get("ready", events["usable"])
    return Run(
        events["usable"] - launched, ready - launched, exited - events["closing"], usage.ru_maxrss / 1024, qt_classes
    )


def seed_history(home: Path, rows: int, backend: str) -> None:
    """`rows` finished (completed, charged) live jobs with thumbnails, through the public JobStore API."""
    os.environ.update(XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    from bench.common import SAMPLES
    from pixdesk.api.images import prepare_image
    from pixdesk.api.request import GenerationRequest
    from pixdesk.config import database_path
    from pixdesk.jobs import Job, JobState, JobStore

    thumb = prepare_image(SAMPLES / "portrait.png", 128).thumbnail
    store = JobStore(database_path())
    now = time.time()
    try:
        for i in range(rows):
            created = now - 3600 - i * 60
            store.save(
                Job(
                    request=GenerationRequest(image=str(SAMPLES / "portrait.png"), prompt=f"history job {i}"),
                    state=JobState.COMPLETED,
                    backend=backend,
                    created_at=created,
                    finished_at=created + 80,
                    server_id=f"gen-{i}:pixverse/v5/image-to-video",
                    credits=780000.0,
                    estimated_usd=0.39,
                    usd_spent=0.39,
                    charged_usd=0.39,
                    file_path=str(home / "videos" / f"clip-{i}.mp4"),
                    thumbnail=thumb,
                )
            )
    finally:
        store.close()


class Case:
    """One kind of launch; every run gets fresh folders (a copy of `template`, when given)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], template: Path | None = None) -> None:
        self.name, self.command, self.env, self.template = name, command, env, template
        self.runs: list[Run] = []

    def once(self, scratch: Path) -> Run:
        home = Path(tempfile.mkdtemp(prefix=f"{self.name.replace(' ', '-')}-", dir=scratch))
        if self.template is not None:
            shutil.copytree(self.template, home, dirs_exist_ok=True)
        try:
            return launch(self.command, self.env, home, scratch / "pycache")
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in self.runs)


def main() -> int:
    scratch = Path(tempfile.mkdtemp(prefix="pixdesk-bench-startup-"))
    try:
        bare_script = scratch / "bare_window.py"
        bare_script.write_text(BARE_WINDOW)
        live_env = {"AIMLAPI_KEY": "sk-bench", "AIMLAPI_BASE_URL": f"http://127.0.0.1:{closed_port()}"}
        demo_env = {"AIMLAPI_KEY": "", "AIMLAPI_BASE_URL": ""}
        template = scratch / "history"
        seed_history(template, HISTORY_ROWS, live_env["AIMLAPI_BASE_URL"])
        app = [sys.executable, "-m", "pixdesk"]
        bare = Case("bare window", [sys.executable, str(bare_script)], {})
        cases = [
            Case("live", app, live_env),
            Case("demo", app, demo_env),
            Case(f"live {HISTORY_ROWS} rows", app, live_env, template),
        ]
        made: dict[str, set[str]] = {}
        for case in (bare, *cases):  # warm-up: file caches, compiled bytecode; what the app's first frames made
            for module, names in (case.once(scratch).qt_classes or {}).items():
                made.setdefault(module, set()).update(names)
        classes_file = scratch / "qt_classes.json"
        classes_file.write_text(json.dumps({m: sorted(n) for m, n in made.items()}))
        floor = Case("floor window", [sys.executable, str(bare_script)], {"PIXDESK_FLOOR_CLASSES": str(classes_file)})
        floor.once(scratch)
        for _ in range(ROUNDS):  # alternate: the baselines before each launch of the app
            for case in cases:
                bare.runs.append(bare.once(scratch))
                floor.runs.append(floor.once(scratch))
                case.runs.append(case.once(scratch))
    except RuntimeError as exc:
        print(f"bench_startup: a launch failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    b_start, b_stop, b_mem = bare.median("start"), bare.median("stop"), bare.median("peak_mb")
    print(f"bench_startup: medians of {ROUNDS} rounds (baseline: a bare PySide6 QMainWindow, same Qt modules)")
    print(f"  {USABLE}")
    print("  stop = from the window's close (time taken in the process) to its exit (wait4 in the parent)")
    print(f"{'':28}{'bare window':>12}{'app':>10}{'ratio':>9}")

    def rows(title: str, attribute: str, scale: float, baseline: float | None) -> None:
        """The bare window's figure (if any), then each case's, with its ratio to the baseline."""
        print(f"{title:28}" + (f"{baseline * scale:>12.0f}" if baseline is not None else f"{'':>12}"))
        for case in cases:
            value = case.median(attribute)
            ratio = f"{value / max(baseline, 1e-3):>8.2f}x" if baseline is not None else ""
            print(f"{'  ' + case.name:28}{'':>12}{value * scale:>10.0f}{ratio}")

    rows("start ms", "start", 1000, b_start)
    f_start = floor.median("start")
    made = sum(len(n) for n in made.values())
    print(f"{'  floor window':28}{'':>12}{f_start * 1000:>10.0f}{f_start / b_start:>8.2f}x")
    print(
        f"    floor window = the bare window plus the {made} Qt classes the app's first frame made (PySide6 builds "
        "each class, and a Python enum per enum type, on first use) and one line of text"
    )
    for case in cases:
        print(f"{'  ' + case.name + ' / floor':28}{'':>12}{'':>10}{case.median('start') / f_start:>8.2f}x")
    rows("ready ms (history, jobs)", "ready", 1000, None)
    rows("stop ms (close -> exit)", "stop", 1000, b_stop)
    rows("peak RSS MB", "peak_mb", 1, b_mem)
    worst_start = max(c.median("start") for c in cases) / b_start
    worst_stop = max(c.median("stop") for c in cases)
    print(
        f"targets: start <= {START_TARGET}x -> {'met' if worst_start <= START_TARGET else 'NOT met'} "
        f"(worst {worst_start:.2f}x; the floor window alone is {f_start / b_start:.2f}x); "
        f"exit within {STOP_TARGET * 1000:.0f} ms of close -> "
        f"{'met' if worst_stop <= STOP_TARGET else 'NOT met'} (worst {worst_stop * 1000:.0f} ms)"
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
