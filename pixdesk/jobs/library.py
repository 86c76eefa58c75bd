"""Where finished videos live: one MP4 and one sidecar JSON per job, so every clip can be reproduced.

File names are ours (time + prompt slug + id), never the server's, so a hostile `file_name`
cannot write outside the library folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import unicodedata
from pathlib import Path
from typing import Any

from pixdesk import __version__
from pixdesk.jobs.models import Job


def slugify(text: str, limit: int = 40) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return slug[:limit].rstrip("-") or "clip"


def suggested_name(prompt: str, when: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%d_%H%M%S", time.localtime(when or time.time()))
    return f"{slugify(prompt)}_{stamp}.mp4"


class Library:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def video_path(self, job: Job) -> Path:
        stamp = time.strftime("%Y-%m-%d_%H%M%S", time.localtime(job.created_at))
        return self.folder / f"{stamp}_{slugify(job.request.prompt, 32)}_{job.id[:8]}.mp4"

    def sidecar_path(self, video: Path) -> Path:
        return video.with_suffix(".json")

    def sidecar(self, job: Job) -> dict[str, Any]:
        request = job.request.to_dict()
        image = request.pop("image")
        return {
            "app": f"pixdesk {__version__}",
            "model": request.pop("model"),
            "parameters": {k: v for k, v in request.items() if v is not None},
            "source_image": image if not image.startswith("data:") else "(inline image)",
            "generation_id": job.server_id,
            "created_at": _iso(job.created_at),
            "submitted_at": _iso(job.submitted_at),
            "finished_at": _iso(job.finished_at),
            "credits_used": job.credits,
            "file_size": job.video_size,
        }

    def write_sidecar(self, job: Job, video: Path) -> Path:
        path = self.sidecar_path(video)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.sidecar(job), indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        return path


def export_clip(source: Path, target: Path) -> Path:
    """Copy a clip out of the library through a temporary file beside the target, so a full or unwritable
    folder never leaves a half-written file there (the library copy is untouched). Raises OSError.
    A device or pipe as the target (/dev/stdout, a FIFO, /dev/full) is written into, never replaced: a rename
    would put a regular file in its place (as root, even in /dev)."""
    if target.exists() and not target.is_file():
        with source.open("rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return target
    tmp = target.with_name(f".{target.name}.pixdesk-part")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def _iso(value: float | None) -> str | None:
    if value is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(value))
