"""Find bundled resources (icons, samples) from a source checkout, an install, or a frozen bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "pixdesk" / "resources"
    try:
        import pixdesk.resources as package

        return Path(next(iter(package.__path__)))
    except (ImportError, StopIteration):  # pragma: no cover - a broken install
        return Path(__file__).resolve().parents[1] / "resources"


def icon_path(size: int | None = None) -> Path:
    folder = resources_dir() / "icons"
    return folder / (f"pixdesk-{size}.png" if size else "pixdesk.svg")


def samples_dir() -> Path:
    return resources_dir() / "samples"
