"""Making the character in a finished clip speak (`pixverse/lip-sync`), for the window and the CLI alike."""

from __future__ import annotations

import time
from pathlib import Path

from pixdesk.api.catalogue import PIXVERSE_LIP_SYNC
from pixdesk.api.images import is_web_url
from pixdesk.api.media_inputs import VIDEO_MAX_BYTES
from pixdesk.api.request import FieldError, GenerationRequest, ValidationError
from pixdesk.jobs.models import Job

LIP_SYNC_MODEL = PIXVERSE_LIP_SYNC.model_id
# How long after a clip finished its server link is trusted: the docs say CDN links do not last, and only a
# clip too big to upload is sent by link at all.
URL_FRESH_SECONDS = 30 * 60


def clip_source(job: Job, now: float | None = None) -> str:
    """What to send as the clip: the file in the library (it becomes a data URI when the job is prepared) when
    it is within the upload limit, else the server's link while it is fresh. Raises ValidationError on
    `video_url` when neither will do."""
    path = Path(job.file_path) if job.file_path else None
    size = path.stat().st_size if path is not None and path.is_file() else None
    if size is not None and size <= VIDEO_MAX_BYTES:
        return str(path)
    finished = job.finished_at or job.updated_at
    fresh = (now if now is not None else time.time()) - finished < URL_FRESH_SECONDS
    if job.video_url and is_web_url(job.video_url) and fresh:
        return job.video_url
    if size is None:
        raise ValidationError([FieldError("video_url", "The clip's file is missing from the library.")])
    raise ValidationError(
        [
            FieldError(
                "video_url",
                f"The clip is {size / 1e6:.0f} MB, over the {VIDEO_MAX_BYTES // 1_000_000} MB that can be "
                "uploaded, and its server link has expired.",
            )
        ]
    )


def speak_request(
    video: str, *, line: str | None = None, voice: str | None = None, audio: str | None = None
) -> GenerationRequest:
    """The lip-sync request for a clip: a line and a voice, or an audio file (validated: raises
    ValidationError naming the field)."""
    request = GenerationRequest(
        model=LIP_SYNC_MODEL,
        video=video,
        lip_sync_tts_content=(line or "").strip() or None,
        lip_sync_tts_speaker=voice if (line or "").strip() else None,
        audio=audio or None,
    )
    return request.validated()
