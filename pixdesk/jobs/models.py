"""A job as the UI and the store see it."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from enum import StrEnum

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
    UNKNOWN = "unknown"  # the create request may or may not have reached the server
    STALLED = "stalled"  # lost contact for too long; polled again at the next start or on Resume


NEVER_SENT = frozenset({JobState.PREPARING, JobState.WAITING})
AT_SERVER = frozenset({JobState.QUEUED, JobState.GENERATING, JobState.DOWNLOADING, JobState.STALLED})
FINAL = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN, JobState.STALLED})
UNFINISHED = frozenset(JobState) - {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN}

UNKNOWN_ADVICE = (
    "The create request may or may not have reached the server. Check your AI/ML API dashboard "
    "before retrying, so you do not pay twice."
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
    credits: float | None = None
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

    def snapshot(self) -> Job:
        return replace(self)

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    def status_text(self, now: float | None = None) -> str:
        """The short word or phrase a badge shows."""
        if self.detail and self.state not in FINAL:
            return self.detail
        if self.state is JobState.GENERATING and self.generating_since:
            seconds = int((now or time.time()) - self.generating_since)
            return f"generating {seconds // 60}:{seconds % 60:02d}"
        if self.state is JobState.DOWNLOADING and self.progress is not None:
            return f"downloading {int(self.progress * 100)}%"
        if self.state is JobState.QUEUED and self.server_status and self.server_status.lower() != "queued":
            return self.server_status.lower()
        return self.state.value
