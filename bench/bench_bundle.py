"""The bundle: its size, and cold start to a shown window, frozen vs the source run, in the same run.

Builds nothing: run `make bundle` first (dist/pixdesk). Targets: under 250 MB; start within 1.5x.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FROZEN = ROOT / "dist" / "pixdesk" / "pixdesk"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def time_to_window(command: list[str]) -> float:
    home = tempfile.mkdtemp(prefix="pixdesk-start-")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "PIXDESK_EXIT_WHEN_SHOWN": "1",
        "XDG_DATA_HOME": f"{home}/data",
        "XDG_CONFIG_HOME": f"{home}/config",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=home)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("window shown"):
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"{command[0]} never showed its window")
    proc.wait(60)
    return elapsed


def main() -> None:
    if not FROZEN.exists():
        sys.exit("bench_bundle: no dist/pixdesk — run `make bundle` first")
    size = folder_size(FROZEN.parent)
    source = [sys.executable, "-m", "pixdesk", "--demo"]
    frozen = [str(FROZEN), "--demo"]
    time_to_window(source)  # warm the file cache once for each, so both runs are equally 'cold' processes
    time_to_window(frozen)
    src = statistics.median(time_to_window(source) for _ in range(3))
    frz = statistics.median(time_to_window(frozen) for _ in range(3))
    print("bench_bundle: dist/pixdesk")
    print(f"{'':30}{'source run':>12}{'frozen':>10}{'ratio':>8}")
    print(f"{'start to shown window (s)':30}{src:>12.2f}{frz:>10.2f}{frz / src:>7.2f}x")
    print(f"{'bundle size unpacked (MB)':30}{'':>12}{size / 1e6:>10.0f}")
    print(
        f"targets: size < 250 MB -> {'met' if size < 250e6 else 'NOT met'}; "
        f"start within 1.5x -> {'met' if frz / src <= 1.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
