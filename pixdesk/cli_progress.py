"""What `pixdesk generate` shows and answers for a set of jobs (several images and/or --variations N).

Qt-free and free of the engine: it reads job snapshots only. Kept out of `pixdesk/cli.py` so the command stays a
thin layer: the progress block (one line per job), the names the clips get in the --out folder, each job's outcome
and the one exit code the set ends with.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO
from urllib.parse import unquote, urlsplit

from pixdesk.api.errors import EXIT_CODES, EXIT_OK, ErrorKind, exit_code_for_kind
from pixdesk.api.request import GenerationRequest
from pixdesk.api.text import clean_text
from pixdesk.jobs.library import slugify
from pixdesk.jobs.models import Job, JobState

EXIT_INPUT, EXIT_REFUSED, EXIT_NETWORK = (EXIT_CODES[k] for k in (ErrorKind.INPUT, ErrorKind.API, ErrorKind.NETWORK))
EXIT_INTERRUPTED = 130  # Ctrl+C, as shells report a SIGINT
REFUSED_STATUSES = frozenset({401, 403})  # the key refused, the credits out: nothing more can be sent


def image_stem(image: str) -> str:
    """The picture's name without folder or extension (a URL's last path segment)."""
    if "://" in image:
        image = unquote(urlsplit(image).path)
        return PurePosixPath(image).stem or "image"
    return Path(image).stem or "image"


def _file_name(source: str) -> str:
    return Path(unquote(urlsplit(source).path)).name if "://" in source else Path(source).name


def job_label(request: GenerationRequest) -> str:
    """How a person tells the jobs of a set apart on a progress line: the picture (a transition: first → last;
    text-to-video: none) and the seed."""
    name = clean_text(_file_name(request.image) or "image", 40) if request.image else "no image"
    if request.last_frame:
        name += f" → {clean_text(_file_name(request.last_frame) or 'image', 40)}"
    seed = f"seed {request.seed}" if request.seed is not None else "random seed"
    return f"{name} {seed}"


def clip_names(requests: Sequence[GenerationRequest]) -> list[str]:
    """A distinct file name per job: prompt, picture and seed (`waves_beach_seed7.mp4`; text-to-video:
    `waves_text_seed7.mp4`); two pictures with the same name in different folders get `-2`, `-3`… so no clip of
    the set overwrites another."""
    names: list[str] = []
    taken: set[str] = set()
    for request in requests:
        seed = f"_seed{request.seed}" if request.seed is not None else ""
        picture = image_stem(request.image) if request.image else "text"
        base = f"{slugify(request.prompt, 32)}_{slugify(picture, 32)}{seed}"
        name, n = f"{base}.mp4", 1
        while name in taken:
            n += 1
            name = f"{base}-{n}.mp4"
        taken.add(name)
        names.append(name)
    return names


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `name-2`, `name-3`… when a file of that name is there already (an earlier run's clip is
    never overwritten)."""
    target = folder / name
    stem, n = target.stem, 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}.mp4"
    return target


def is_refusal(job: Job) -> bool:
    """The API refused the key or the account is out of credits (401/403): sending more cannot succeed.
    A job the server had stalls with kind `api` only for such a refusal (see `stages.refused`)."""
    if job.error_kind != ErrorKind.API.value:
        return False
    return job.error_status in REFUSED_STATUSES or job.state is JobState.STALLED


@dataclass
class Outcome:
    """One job of the set at the end of the run: what became of it and where its clip was written."""

    job: Job
    path: Path | None = None  # the clip at --out (None: not written)
    write_error: str | None = None
    not_sent: str | None = None  # why it was never sent (a refusal, Ctrl+C): no charge, nothing at the server

    @property
    def left_at_server(self) -> bool:
        """The server has it and this run stopped watching: `pixdesk resume` (or the window) finishes it."""
        return self.job.server_id is not None and (not self.job.is_final or self.job.state is JobState.STALLED)

    def exit_code(self) -> int | None:
        """This job's share of the exit code; None when it has none of its own (never sent because of another
        job's refusal or a Ctrl+C, or left at the server when the run ended early: the cause decides)."""
        job = self.job
        if self.not_sent is not None:
            return None
        if job.state is JobState.COMPLETED:
            return EXIT_OK if self.path is not None else EXIT_INPUT
        if job.state is JobState.UNKNOWN:
            return EXIT_NETWORK
        if not job.is_final:
            return None
        if job.state is JobState.CANCELLED and not job.error_kind:
            return None
        return exit_code_for_kind(job.error_kind)

    @property
    def reason(self) -> str:
        if self.not_sent is not None:
            return self.not_sent
        if self.write_error is not None:
            return self.write_error
        return clean_text(self.job.error or self.job.state.value, 600)


def set_exit_code(outcomes: Sequence[Outcome], *, interrupted: bool = False) -> int:
    """The set's exit code. 0 only when every job completed and its clip was written. Otherwise the most serious
    of the jobs' own codes: 4 (an outcome unknown, or a network/timeout problem) over 3 (refused by the API: key,
    credits, validation, a failed generation) over 2 (bad input, a clip that could not be written). A run ended
    by Ctrl+C is 130. A run that ended with jobs left unfinished for no reason of their own is 4."""
    if interrupted:
        return EXIT_INTERRUPTED
    codes = [o.exit_code() for o in outcomes]
    if codes and all(c == EXIT_OK for c in codes):
        return EXIT_OK
    for code in (EXIT_NETWORK, EXIT_REFUSED, EXIT_INPUT):
        if code in codes:
            return code
    return EXIT_NETWORK


def summary(outcomes: Sequence[Outcome]) -> str:
    """`3 completed, 1 failed, 0 unknown` (+ not sent, left at the server, cancelled, when there are any)."""
    completed = sum(1 for o in outcomes if o.job.state is JobState.COMPLETED and o.path is not None)
    unknown = sum(1 for o in outcomes if o.not_sent is None and o.job.state is JobState.UNKNOWN)
    not_sent = sum(1 for o in outcomes if o.not_sent is not None)
    at_server = sum(1 for o in outcomes if o.not_sent is None and o.left_at_server)
    cancelled = sum(
        1 for o in outcomes if o.not_sent is None and o.job.state is JobState.CANCELLED and not o.left_at_server
    )
    failed = len(outcomes) - completed - unknown - not_sent - at_server - cancelled
    text = f"{completed} completed, {failed} failed, {unknown} unknown"
    if not_sent:
        text += f", {not_sent} not sent"
    if cancelled:
        text += f", {cancelled} cancelled"
    if at_server:
        text += f", {at_server} left at the server (`pixdesk resume` finishes them; they are not sent again)"
    return text


class JobLines:
    """Live progress of a set on stderr. On a terminal: one line per job, redrawn in place (a set taller than
    the terminal falls back to plain lines). Otherwise: one plain line each time a job's state, status word or
    note changes, no escape codes, so a log file reads top to bottom."""

    def __init__(self, stream: TextIO, labels: Sequence[str]) -> None:
        self.stream = stream
        self.labels = list(labels)
        rows = shutil.get_terminal_size((100, 24)).lines
        self.tty = stream.isatty() and len(self.labels) < rows - 1
        self._lines = [f"{label}  [pending]" for label in self.labels]
        self._last: list[str | None] = [None] * len(self.labels)
        self._drawn = 0

    def show(self, index: int, job: Job) -> None:
        status = f"[{clean_text(job.status_text(), 60)}]"
        if job.error and job.is_final:
            status += f" — {clean_text(job.error, 400)}"
        if not self.tty:
            key = f"{job.state}|{job.detail}|{job.server_status}"
            if key == self._last[index]:
                return
            self._last[index] = key
        self._put(index, status)

    def note(self, index: int, text: str) -> None:
        """A state of our own for one job (e.g. "not sent"), shown like a state change."""
        self._put(index, f"[{clean_text(text, 200)}]")

    def _put(self, index: int, status: str) -> None:
        if self.tty:
            self._lines[index] = f"{self.labels[index]}  {status}"
            self._redraw()
        else:
            self.stream.write(f"{self.labels[index]}: {status}\n")
            self.stream.flush()

    def _redraw(self) -> None:
        width = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
        parts = [f"\033[{self._drawn}F"] if self._drawn else []  # back to the block's first line
        for line in self._lines:
            parts.append("\r\033[K" + (line if len(line) <= width else line[: width - 1] + "…") + "\n")
        self._drawn = len(self._lines)
        self.stream.write("".join(parts))
        self.stream.flush()
