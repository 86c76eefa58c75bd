"""Qt-free job machinery: the engine, its store, the video library and the timing rules."""

from pixdesk.jobs.engine import JobEngine
from pixdesk.jobs.library import Library, suggested_name
from pixdesk.jobs.models import FINAL, UNKNOWN_ADVICE, Job, JobState
from pixdesk.jobs.store import JobStore
from pixdesk.jobs.timing import Clock, PollPolicy, RealClock, RetryPolicy

__all__ = [
    "FINAL",
    "UNKNOWN_ADVICE",
    "Clock",
    "Job",
    "JobEngine",
    "JobState",
    "JobStore",
    "Library",
    "PollPolicy",
    "RealClock",
    "RetryPolicy",
    "suggested_name",
]
