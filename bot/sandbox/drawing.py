"""Where the sandbox draws: one worker process beside the server, a thread when there is none.

Pillow holds the GIL for most of a drawing. Drawn in a thread of the server's own process, each
picture made every socket call of the event loop wait for the GIL (up to the 5 ms switch
interval per call), so a burst of Midjourney jobs slowed every poll answer and download by
hundreds of milliseconds. A real gateway draws nothing on its request path; a separate process
keeps ours as free. One worker is enough: a grid costs a few milliseconds, and several workers
would only compete with the bot for the same cores. The pool is shared by every sandbox in the
process (tests start many) and started with "spawn", never "fork", because the bot that hosts
an in-process sandbox has threads of its own (the SQLite driver's).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# A worker that dies (killed, out of memory) is replaced on the next drawing, this many times.
MAX_WORKER_DEATHS = 3

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_deaths = 0
# Set once no worker can be had: from then on drawings run in threads.
_no_worker = False


def _executor() -> Executor | None:
    """The shared worker pool, started on first use; None when processes are unavailable."""
    global _pool, _no_worker
    with _lock:
        if _pool is None and not _no_worker:
            try:
                _pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            except (OSError, ValueError, NotImplementedError) as exc:
                log.warning("sandbox: no drawing worker process (%s); drawing in threads", exc)
                _no_worker = True
            else:
                atexit.register(_pool.shutdown, cancel_futures=True)
        return _pool


def _lose_worker(pool: Executor, reason: BaseException) -> None:
    """Forget a dead or shut-down pool; the next drawing starts another, up to a limit."""
    global _pool, _deaths, _no_worker
    with _lock:
        if _pool is pool:
            _pool, _deaths = None, _deaths + 1
            _no_worker = _deaths >= MAX_WORKER_DEATHS
            log.warning("sandbox: the drawing worker is gone (%s); this drawing runs in a thread%s",
                        type(reason).__name__, ", and so will all others" if _no_worker else "")
    pool.shutdown(wait=False, cancel_futures=True)


async def start_worker(warm_up: Callable[[], object]) -> None:
    """Start the worker and run `warm_up` in it (imports, fonts), so no request waits for that."""
    await draw(warm_up)


async def draw(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in the drawing worker; both must pickle (a module-level function)."""
    pool = _executor()
    if pool is not None:
        try:
            running = asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except RuntimeError as exc:  # shut down (interpreter exit) or broken (BrokenProcessPool)
            _lose_worker(pool, exc)
        else:
            try:
                return await running
            except BrokenProcessPool as exc:  # the worker died; the drawing itself did not fail
                _lose_worker(pool, exc)
    return await asyncio.to_thread(function, *args)
