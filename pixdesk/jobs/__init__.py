"""Qt-free job machinery: the engine and its stages, the state table, the store, the library, timing."""

from pixdesk.jobs.engine import JobEngine
from pixdesk.jobs.library import Library, suggested_name
from pixdesk.jobs.models import FINAL, UNKNOWN_ADVICE, Failure, Job, JobState
from pixdesk.jobs.services import OnRefused
from pixdesk.jobs.states import Action, allowed_actions, needs_confirmation
from pixdesk.jobs.store import JobStore
from pixdesk.jobs.timing import Clock, PollPolicy, RealClock, RetryPolicy

__all__ = [
    "FINAL",
    "UNKNOWN_ADVICE",
    "Action",
    "Clock",
    "Failure",
    "Job",
    "JobEngine",
    "JobState",
    "JobStore",
    "Library",
    "OnRefused",
    "PollPolicy",
    "RealClock",
    "RetryPolicy",
    "allowed_actions",
    "needs_confirmation",
    "suggested_name",
]
