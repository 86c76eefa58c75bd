"""Run blocking work off the UI thread and coroutines on the qasync loop, keeping task references."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pixdesk import crash

log = logging.getLogger(__name__)
T = TypeVar("T")
_running: set[asyncio.Task[Any]] = set()
# Plain Python threads (not qasync's QThread executor): they end cleanly with the process.
_workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pixdesk-ui-work")


def spawn(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Start a coroutine; its exception is logged, never lost silently."""
    task = asyncio.get_event_loop().create_task(coro)
    _running.add(task)

    def done(t: asyncio.Task[T]) -> None:
        _running.discard(t)
        exc = None if t.cancelled() else t.exception()
        if exc is not None:  # logged with its traceback and shown as a short notice (when the window is up)
            crash.report(exc)

    task.add_done_callback(done)
    return task


async def off_ui_thread(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_event_loop().run_in_executor(_workers, fn, *args)
