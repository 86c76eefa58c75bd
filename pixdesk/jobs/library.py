"""Where finished videos live: one MP4 and one sidecar JSON per job, so every clip can be reproduced.

File names are ours (time + prompt slug + id), never the server's, so a hostile `file_name`
cannot write outside the library folder.

A clip deleted from the library goes first into a trash folder under the data folder (moved, so it is
instant on the same disk and can be undone), one folder per running PixDesk, emptied when it closes; a
trash a crashed PixDesk left behind is emptied at the next start.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixdesk import __version__
from pixdesk.config import data_dir
from pixdesk.jobs.models import Job
from pixdesk.jobs.store import pid_exists

SESSION_PREFIX = "session-"
# A trash folder whose owner cannot be proven gone (another host, Windows) is emptied once it is this old.
STALE_TRASH_SECONDS = 7 * 24 * 3600.0


def slugify(text: str, limit: int = 40) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return slug[:limit].rstrip("-") or "clip"


def suggested_name(prompt: str, when: float | None = None) -> str:
    stamp = time.strftime("%Y-%m-%d_%H%M%S", time.localtime(when or time.time()))
    return f"{slugify(prompt)}_{stamp}.mp4"


@dataclass(frozen=True)
class DiscardedFiles:
    """A clip and its sidecar moved into the trash: what `Library.restore_files` puts back."""

    job_id: str
    video: Path  # where the clip was
    moved: tuple[tuple[Path, Path], ...]  # (where it is now, in the trash; where it was)


@dataclass(frozen=True)
class RestoredFiles:
    """Where the files went back to. `renamed`: a file had taken the old name meanwhile, so they came back
    under a free one (never over it). `video` is None when the clip itself was not in the trash."""

    video: Path | None
    paths: tuple[Path, ...]
    renamed: bool


class Library:
    """`trash` is the folder deleted clips wait in until the window closes (default: under the data folder)."""

    def __init__(self, folder: Path, trash: Path | None = None) -> None:
        self.folder = Path(folder)
        self.trash = Path(trash) if trash is not None else data_dir() / "trash"
        self.session = self.trash / f"{SESSION_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"

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
            **({"storyboard_parts": list(job.parts)} if job.parts else {}),
        }

    def write_sidecar(self, job: Job, video: Path) -> Path:
        path = self.sidecar_path(video)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.sidecar(job), indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        return path

    # -- deleting, with undo (blocking: call off the UI thread) ---------------------------------------------
    def discard_files(self, job: Job) -> DiscardedFiles:
        """Move the job's clip and its sidecar into this session's trash (a rename on the same disk: instant and
        undoable). Files already gone are skipped. Raises OSError when a file cannot be moved (nothing moved)."""
        if not job.file_path:
            raise ValueError("the job has no clip in the library")
        video = Path(job.file_path)
        present = [p for p in (video, self.sidecar_path(video)) if p.exists()]
        self.session.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{job.id[:8]}-", dir=self.session))
        moved: list[tuple[Path, Path]] = []
        try:
            for path in present:
                target = folder / path.name
                shutil.move(str(path), str(target))
                moved.append((target, path))
        except OSError:
            for now, before in moved:  # all or nothing: the clip never loses its sidecar
                with contextlib.suppress(OSError):
                    _move_no_clobber(now, before)
            raise
        return DiscardedFiles(job.id, video, tuple(moved))

    def restore_files(self, discarded: DiscardedFiles) -> RestoredFiles:
        """Put discarded files back where they were. A file that appeared there meanwhile is never overwritten:
        the clip and its sidecar come back side by side under the first free name ("name (2).mp4")."""
        waiting = [(now, before) for now, before in discarded.moved if now.exists()]
        if not waiting:
            return RestoredFiles(None, (), False)
        stem = discarded.video.stem
        for n in range(1, 1000):
            name = stem if n == 1 else f"{stem} ({n})"
            targets = [(now, before.with_name(name + before.suffix)) for now, before in waiting]
            if any(target.exists() for _, target in targets):
                continue
            if self._put_back(targets):
                for folder in {now.parent for now, _ in waiting}:
                    with contextlib.suppress(OSError):
                        folder.rmdir()  # its own folder in the trash, empty now
                paths = tuple(target for _, target in targets)
                video = next((t for t in paths if t.suffix == discarded.video.suffix), None)
                return RestoredFiles(video, paths, n > 1)
        raise FileExistsError(f"no free name for {discarded.video} in {discarded.video.parent}")

    @staticmethod
    def _put_back(targets: list[tuple[Path, Path]]) -> bool:
        """Move every file to its target, none over an existing file; False (nothing moved) on a clash."""
        done: list[tuple[Path, Path]] = []
        for now, target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                _move_no_clobber(now, target)
            except FileExistsError:
                for back, there in reversed(done):
                    _move_no_clobber(there, back)
                return False
            done.append((now, target))
        return True

    def purge_discarded(self, stale_only: bool = False) -> None:
        """Delete for good what was discarded in this session (at close: Undo is no longer possible), and what
        sessions that ended without doing so (a crash) left behind. `stale_only`: only the latter (at start)."""
        if not stale_only:
            shutil.rmtree(self.session, ignore_errors=True)
        try:
            entries = list(os.scandir(self.trash))
        except OSError:
            return
        for entry in entries:
            if Path(entry.path) != self.session and _is_stale(entry):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
        with contextlib.suppress(OSError):
            self.trash.rmdir()  # only when empty


def _is_stale(entry: os.DirEntry[str]) -> bool:
    """A trash folder whose PixDesk has ended: its process is provably gone, or (when that cannot be told:
    another host, Windows, a name not ours) it is older than a week. Never one of this process."""
    pid_text = entry.name[len(SESSION_PREFIX) :].split("-", 1)[0] if entry.name.startswith(SESSION_PREFIX) else ""
    if pid_text.isdigit():
        if int(pid_text) == os.getpid():
            return False
        if not pid_exists(int(pid_text)):
            return True
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_TRASH_SECONDS
    except OSError:
        return False


def _move_no_clobber(source: Path, target: Path) -> None:
    """Move a file, refusing (FileExistsError) to replace one at the target, even one that appears meanwhile:
    a hard link is created only where nothing is; across disks (or where links are not supported), an
    exclusive create and a copy."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:
        with source.open("rb") as src, target.open("xb") as dst:
            try:
                shutil.copyfileobj(src, dst)
            except BaseException:
                dst.close()
                with contextlib.suppress(OSError):
                    target.unlink()  # a full disk leaves no half file behind
                raise
        shutil.copystat(source, target)
    os.unlink(source)


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
