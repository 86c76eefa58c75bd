"""What may happen to a job in each state: the one table the engine obeys and the GUI and CLI only read.

A person's actions (play, save, cancel, remove, retry, resume, reuse…) are offered from `ACTIONS`;
the engine's moves between states are checked against `TRANSITIONS`. Which actions need a question
first (stopping a job the server already has, resending one whose outcome is unknown) is decided here too.
"""

from __future__ import annotations

from enum import StrEnum

from pixdesk.api.catalogue import FORM_MODELS
from pixdesk.jobs.models import Job, JobState

S = JobState


class Action(StrEnum):
    PLAY = "play"
    SAVE = "save"
    OPEN_FOLDER = "folder"
    EXPORT_FRAME = "export_frame"
    EXPORT_GIF = "export_gif"
    SPEAK = "speak"
    CONTINUE = "continue"
    COPY_PROMPT = "copy"
    REUSE = "reuse"
    RETRY = "retry"
    RESUME = "resume"
    CANCEL = "cancel"
    REMOVE = "remove"


_ALWAYS = frozenset({Action.COPY_PROMPT, Action.REUSE, Action.REMOVE})
# What a finished clip on disk offers besides playing and saving it.
_CLIP_TOOLS = frozenset({Action.EXPORT_FRAME, Action.EXPORT_GIF, Action.SPEAK, Action.CONTINUE})
_RUNNING = _ALWAYS | {Action.CANCEL}

ACTIONS: dict[JobState, frozenset[Action]] = {
    S.PREPARING: _RUNNING,
    S.WAITING: _RUNNING,
    S.SUBMITTING: _RUNNING,
    S.QUEUED: _RUNNING,
    S.GENERATING: _RUNNING,
    S.DOWNLOADING: _RUNNING,
    S.COMPLETED: _ALWAYS | {Action.PLAY, Action.SAVE, Action.OPEN_FOLDER, Action.RETRY, *_CLIP_TOOLS},
    S.FAILED: _ALWAYS | {Action.RETRY},
    S.CANCELLED: _ALWAYS | {Action.RETRY, Action.RESUME},
    S.UNKNOWN: _ALWAYS | {Action.RETRY},
    S.NOT_CREATED: _ALWAYS | {Action.RETRY},  # the logs say it was never created: sending again is safe
    S.STALLED: _ALWAYS | {Action.RESUME, Action.CANCEL},
}

_WORKING = {S.QUEUED, S.GENERATING, S.DOWNLOADING}
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    S.PREPARING: frozenset({S.WAITING, S.FAILED, S.CANCELLED, S.STALLED}),
    # WAITING -> DOWNLOADING: a storyboard's film, whose parts are all done, is being joined here.
    S.WAITING: frozenset({S.PREPARING, S.SUBMITTING, S.DOWNLOADING, S.FAILED, S.CANCELLED, S.STALLED}),
    S.SUBMITTING: frozenset({S.WAITING, S.QUEUED, S.UNKNOWN, S.FAILED, S.CANCELLED, S.STALLED, S.NOT_CREATED}),
    S.QUEUED: frozenset({*_WORKING, S.FAILED, S.CANCELLED, S.STALLED}),
    S.GENERATING: frozenset({*_WORKING, S.FAILED, S.CANCELLED, S.STALLED}),
    S.DOWNLOADING: frozenset({*_WORKING, S.COMPLETED, S.FAILED, S.CANCELLED, S.STALLED}),
    # Resumable ends: picked up again at the next start or on the user's Resume.
    S.STALLED: frozenset({S.PREPARING, S.WAITING, *_WORKING, S.CANCELLED, S.FAILED, S.UNKNOWN}),
    S.CANCELLED: frozenset({*_WORKING}),  # Resume: watch a job the server may still be finishing
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    # Found in the usage logs (watched from there), or known never to have been created.
    S.UNKNOWN: frozenset({S.QUEUED, S.GENERATING, S.NOT_CREATED}),
    S.NOT_CREATED: frozenset(),
}


def can_move(current: JobState, new: JobState) -> bool:
    """Staying in a state (a new status word, download progress) is always allowed."""
    return current is new or new in TRANSITIONS[current]


def allowed_actions(job: Job) -> frozenset[Action]:
    actions = set(ACTIONS[job.state])
    if job.state is S.COMPLETED and not job.file_path:
        actions -= {Action.PLAY, Action.SAVE, Action.OPEN_FOLDER, *_CLIP_TOOLS}
    if job.request.model not in FORM_MODELS:
        actions.discard(Action.REUSE)  # lip-sync is made from a clip (Make them speak…), not from the form
    if job.is_film:
        actions.discard(Action.RESUME)  # a film is never sent: Retry joins it again, sending only what failed
        if job.state is S.COMPLETED:
            actions.discard(Action.RETRY)
    if Action.RESUME in actions and job.state is S.CANCELLED and job.server_id is None:
        actions.discard(Action.RESUME)  # never sent: nothing at the server to watch (Retry sends it)
    return frozenset(actions)


def needs_confirmation(action: Action, job: Job) -> bool:
    """Stopping or removing a job the server has does not stop its charge; resending an unknown one may
    pay twice: the person is asked first."""
    if action in (Action.CANCEL, Action.REMOVE):
        return (job.at_server and not job.is_final) or (job.state is S.STALLED and job.server_id is not None)
    if action is Action.RETRY:
        return job.state is S.UNKNOWN
    return False


def offers_file_deletion(job: Job) -> bool:
    """Removing a finished job may also delete its clip and sidecar (undoable while the window is open)."""
    return job.state is S.COMPLETED and bool(job.file_path)
