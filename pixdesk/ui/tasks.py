"""Run blocking work off the UI thread and coroutines on the qasync loop, keeping task references.

Two pools of plain Python threads (not qasync's QThread executor, whose threads Qt tears down noisily at exit):
`off_ui_thread` for work that must finish (files, the keychain, settings), which the process waits for before it
exits; `network_read` for answers that are only shown (the balance), which a quitting process may drop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from pixdesk import crash

if TYPE_CHECKING:  # asyncio itself comes with the event loop, after the window's first frame
    import asyncio

log = logging.getLogger(__name__)
T = TypeVar("T")
_running: set[asyncio.Task[Any]] = set()
WORKER_PREFIX = "pixdesk-ui-work"
READER_PREFIX = "pixdesk-ui-read"
_workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix=WORKER_PREFIX)
_readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix=READER_PREFIX)


def spawn(coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """Start a coroutine; its exception is logged, never lost silently."""
    import asyncio

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
    import asyncio

    return await asyncio.get_event_loop().run_in_executor(_workers, fn, *args)


async def network_read(fn: Callable[..., T], *args: Any) -> T:
    """A request whose answer is only shown and changes nothing on disk: a process quitting meanwhile drops it
    instead of waiting for the network (or its timeout)."""
    import asyncio

    return await asyncio.get_event_loop().run_in_executor(_readers, fn, *args)


def settle_threads(timeout: float) -> bool:
    """At exit: let the work that must finish end (queued files and keychain writes included), drop the reads, and
    wait up to `timeout` for every other non-daemon thread. True when nothing is left that a normal interpreter
    exit would wait for, so the process may end at once; False when something still runs."""
    _workers.shutdown(wait=True)
    _readers.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon or thread.name.startswith(READER_PREFIX):
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            log.debug("not ending at once: thread %s still runs", thread.name)
            return False
    return True
