"""Qt-free job machinery: the engine and its stages, the state table, the store, the library, timing.

Names are imported on first use (PEP 562): importing one light module of this package must not pull in the
HTTP stack, image decoding or the engine before the window has shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pixdesk.lazy import lazy_exports

if TYPE_CHECKING:
    from pixdesk.jobs.engine import JobEngine
    from pixdesk.jobs.library import Library, suggested_name
    from pixdesk.jobs.models import FINAL, UNKNOWN_ADVICE, Failure, Job, JobState
    from pixdesk.jobs.services import OnRefused
    from pixdesk.jobs.states import Action, allowed_actions, needs_confirmation
    from pixdesk.jobs.store import JobStore
    from pixdesk.jobs.timing import Clock, PollPolicy, RealClock, RetryPolicy

_WHERE = {
    "JobEngine": "pixdesk.jobs.engine",
    "Library": "pixdesk.jobs.library",
    "suggested_name": "pixdesk.jobs.library",
    "FINAL": "pixdesk.jobs.models",
    "UNKNOWN_ADVICE": "pixdesk.jobs.models",
    "Failure": "pixdesk.jobs.models",
    "Job": "pixdesk.jobs.models",
    "JobState": "pixdesk.jobs.models",
    "OnRefused": "pixdesk.jobs.services",
    "Action": "pixdesk.jobs.states",
    "allowed_actions": "pixdesk.jobs.states",
    "needs_confirmation": "pixdesk.jobs.states",
    "JobStore": "pixdesk.jobs.store",
    "Clock": "pixdesk.jobs.timing",
    "PollPolicy": "pixdesk.jobs.timing",
    "RealClock": "pixdesk.jobs.timing",
    "RetryPolicy": "pixdesk.jobs.timing",
}

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


__getattr__ = lazy_exports(__name__, _WHERE, globals())
