"""A storyboard: keyframes become one transition per consecutive pair, run as a group, and a film.

The film is a job of its own that is never sent: it waits for its parts and joins their clips into one
MP4 here (`pixdesk.jobs.media.join_clips`), keeping the parts. Being a job, it is saved, resumed after a
restart, listed, played, saved and exported like any clip. What the film should do next is decided here,
from its parts alone, so the engine and the tests read the same rules.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pixdesk.api.catalogue import PIXVERSE_V5_TRANSITION
from pixdesk.api.request import FieldError, GenerationRequest, ValidationError
from pixdesk.jobs.models import Job, JobState

TRANSITION_MODEL = PIXVERSE_V5_TRANSITION.model_id
MAX_KEYFRAMES = 20
# A part that may still finish: the film waits for it.
_PENDING = frozenset(JobState) - {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.NOT_CREATED}


def part_requests(keyframes: Sequence[str], base: GenerationRequest) -> list[GenerationRequest]:
    """One transition per consecutive pair of keyframes, each with the base's prompt and options. Raises
    ValidationError (on `image_url`) for fewer than two keyframes or too many."""
    frames = [k for k in keyframes if k and k.strip()]
    if len(frames) < 2:
        raise ValidationError([FieldError("image_url", "A storyboard needs at least two keyframes.")])
    if len(frames) > MAX_KEYFRAMES:
        message = f"A storyboard can have at most {MAX_KEYFRAMES} keyframes ({len(frames)} were given)."
        raise ValidationError([FieldError("image_url", message)])
    base = replace(base, model=TRANSITION_MODEL)
    return [replace(base, image=first, last_frame=last).validated() for first, last in pairwise(frames)]


def film_request(keyframes: Sequence[str], base: GenerationRequest) -> GenerationRequest:
    """What the film shows as its settings: the storyboard's prompt and options, from its first keyframe to
    its last (Reuse puts them back in the form)."""
    return replace(base, model=TRANSITION_MODEL, image=keyframes[0], last_frame=keyframes[-1])


@dataclass(frozen=True)
class FilmStep:
    """What a film does next: wait (with what to say), join these clips, or fail (with the reason)."""

    action: Literal["wait", "join", "fail"]
    message: str = ""
    clips: tuple[Path, ...] = ()


def next_step(parts: Sequence[Job | None]) -> FilmStep:
    """`parts` in order; None for a part that no longer exists (removed). Reads no file: whether the clips are
    still on disk is found out by the join itself (on a worker thread), which names a missing one."""
    total = len(parts)
    for number, part in enumerate(parts, 1):
        if part is None:
            return FilmStep("fail", f"Part {number} of {total} was removed, so the film cannot be joined.")
        if part.state in _PENDING:
            continue
        if part.state is not JobState.COMPLETED:
            why = f": {part.error}" if part.error else ""
            return FilmStep(
                "fail", f"Part {number} of {total} ended {part.state.value}{why}. Retry the film to send it again."
            )
        if not part.file_path:
            return FilmStep("fail", f"Part {number} of {total} has no clip in the library.")
    done = sum(1 for p in parts if p is not None and p.state is JobState.COMPLETED)
    if done < total:
        return FilmStep("wait", f"waiting for parts · {done} of {total} done")
    return FilmStep("join", clips=tuple(Path(p.file_path or "") for p in parts if p is not None))


def reusable_part(part: Job, group: Sequence[Job], on_disk: Collection[str] | None = None) -> Job | None:
    """A part worth keeping when a film is retried, so that a retry never pays for a part twice: the part itself
    when it finished (with its clip `on_disk`: the ids whose files exist, checked off the UI thread; None trusts
    the library), may still finish, or was only stopped being watched while the server has it (it is watched
    again); else a later job of the group with the same request that the person already retried and that has
    not failed."""

    def has_clip(job: Job) -> bool:
        return bool(job.file_path) and (on_disk is None or job.id in on_disk)

    if part.state in _PENDING or (part.state is JobState.COMPLETED and has_clip(part)):
        return part
    if part.state is JobState.CANCELLED and part.server_id:
        return part
    later = [
        j
        for j in group
        if j.id != part.id
        and not j.is_film
        and j.created_at >= part.created_at
        and j.request == part.request
        and j.backend == part.backend
        and (j.state in _PENDING or (j.state is JobState.COMPLETED and has_clip(j)))
    ]
    return max(later, key=lambda j: j.created_at) if later else None
