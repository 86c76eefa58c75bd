"""A job as the UI and the store see it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum

from pixdesk.api.errors import ErrorKind, kind_of
from pixdesk.api.request import GenerationRequest


class JobState(StrEnum):
    PREPARING = "preparing"
    WAITING = "waiting"  # local: over the in-flight limit, or submissions paused
    SUBMITTING = "submitting"
    QUEUED = "queued"
    GENERATING = "generating"
    DOWNLOADING = "downloading"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"  # polling stopped locally; the server may still finish it
    UNKNOWN = "unknown"  # the create request may or may not have reached the server: looked up in the usage logs
    NOT_CREATED = "not created"  # the usage logs show it never became a generation: safe to send again
    STALLED = "stalled"  # lost contact for too long; polled again at the next start or on Resume


NEVER_SENT = frozenset({JobState.PREPARING, JobState.WAITING})
AT_SERVER = frozenset({JobState.QUEUED, JobState.GENERATING, JobState.DOWNLOADING, JobState.STALLED})
FINAL = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN, JobState.STALLED, JobState.NOT_CREATED}
)
# Picked up again at a start: `unknown` too, whose create is looked up in the usage logs until it is found
# (then watched like any job) or known not to have been created.
UNFINISHED = frozenset(JobState) - {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.NOT_CREATED}

UNKNOWN_ADVICE = (
    "The create request may or may not have reached the server. Check your AI/ML API dashboard "
    "before retrying, so you do not pay twice."
)


def new_client_request_id() -> str:
    """Ours, unique per job, sent as X-Client-Request-Id: only `A-Z a-z 0-9 . _ : -` (anything else would be
    silently dropped by the API), so a create whose answer was lost can be found in the usage logs."""
    return f"pixdesk-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Failure:
    """Why a job stopped, as the person sees it; `kind` decides the CLI's exit code."""

    message: str
    kind: ErrorKind = ErrorKind.API
    status: int | None = None
    request_id: str | None = None

    @classmethod
    def of(cls, exc: BaseException, prefix: str = "") -> Failure:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        return cls(
            message=prefix + message,
            kind=kind_of(exc),
            status=getattr(exc, "status", None),
            request_id=getattr(exc, "request_id", None),
        )


@dataclass
class Job:
    request: GenerationRequest
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: JobState = JobState.PREPARING
    backend: str = ""  # the API base URL the job was sent to, or "demo" for the embedded simulator
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    server_id: str | None = None
    server_status: str | None = None
    submitted_at: float | None = None
    generating_since: float | None = None
    finished_at: float | None = None
    credits: float | None = None  # credits used, as the server's answers said
    estimated_usd: float | None = None  # the price quoted before it was sent (None: no price was known)
    usd_spent: float | None = None  # what the server's answers said it cost
    charged_usd: float | None = None  # what the ledger charged: set only once the ledger agrees
    error: str | None = None
    error_kind: str | None = None  # "input", "api" or "network": how the CLI picks its exit code
    error_status: int | None = None
    request_id: str | None = None
    video_url: str | None = None
    video_size: int | None = None
    file_path: str | None = None
    thumbnail: bytes | None = None
    progress: float | None = None
    detail: str | None = None
    retries: int = 0
    server_seconds: float | None = None  # how long the server took after the create's answer, as our polls saw it
    client_request_id: str | None = field(default_factory=new_client_request_id)
    group_id: str | None = None  # jobs made together (variations, a batch, a storyboard) share one
    favourite: bool = False  # starred by the person: a filter in the library, kept across restarts
    # A storyboard's film: the ids of its transition parts, in order. Never sent: it waits for them and joins
    # their clips here (empty for every job the server makes).
    parts: tuple[str, ...] = ()
    version: int = 0  # bumped on every write: the store never lets an older copy overwrite a newer one

    def snapshot(self) -> Job:
        return replace(self)

    def record_failure(self, failure: Failure) -> None:
        self.error = failure.message
        self.error_kind = failure.kind.value
        self.error_status = failure.status
        self.request_id = failure.request_id

    def clear_failure(self) -> None:
        self.error = self.error_kind = None
        self.error_status = None

    @property
    def at_server(self) -> bool:
        """The server has (or may have) this job: stopping or removing it does not stop the charge."""
        return self.server_id is not None or self.state is JobState.SUBMITTING

    @property
    def is_film(self) -> bool:
        return bool(self.parts)

    @property
    def title(self) -> str:
        """The row's title: the prompt (or what a lip-sync says); a storyboard's film says it is one."""
        text = self.request.headline
        return f"Film of {len(self.parts) + 1} keyframes · {text}" if self.is_film else text

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    def status_text(self, now: float | None = None) -> str:
        """The short word or phrase a badge shows."""
        if self.detail and (self.state not in FINAL or self.state is JobState.UNKNOWN):
            return self.detail  # e.g. "retrying (2)", or an unknown job "looking it up in the usage logs…"
        if self.state is JobState.GENERATING and self.generating_since:
            seconds = int((now or time.time()) - self.generating_since)
            return f"generating {seconds // 60}:{seconds % 60:02d}"
        if self.state is JobState.DOWNLOADING and self.progress is not None:
            return f"downloading {int(self.progress * 100)}%"
        if self.state is JobState.QUEUED and self.server_status and self.server_status.lower() != "queued":
            return self.server_status.lower()
        return self.state.value
