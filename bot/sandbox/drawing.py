"""Where the sandbox draws: one worker process beside the server, a thread when there is none.

Pillow holds the GIL for most of a drawing. Drawn in a thread of the server's own process, each
picture made every socket call of the event loop wait for the GIL (up to the 5 ms switch
interval per call), so a burst of Midjourney jobs slowed every poll answer and download by
hundreds of milliseconds. A real gateway draws nothing on its request path; a separate process
keeps ours as free. One worker is enough: a grid costs a few milliseconds, and several workers
would only compete with the bot for the same cores. The worker is shared by every sandbox in the
process (tests start many, each on its own event loop), so it is driven by two threads, not by
one loop.

The worker is a plain child process (`bot.sandbox.drawing_worker`) talking over its stdin and
stdout, not a multiprocessing pool: a pool's worker outlives a parent killed with SIGKILL, and
multiprocessing starts a resource tracker that does too. Ours reads the end of its input when
the parent goes, however it goes, and exits.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from pathlib import Path
from typing import IO, Any, TypeVar, cast

from bot.sandbox.framing import frame, read_frame

log = logging.getLogger(__name__)

T = TypeVar("T")

# A worker that dies (killed, out of memory) is replaced on the next drawing, this many times.
MAX_WORKER_DEATHS = 3
STOP_WAIT_S = 3.0
# Where `bot` is imported from, so the worker runs the same code (a checkout, or mutmut's copy).
_IMPORT_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerGone(RuntimeError):
    """The drawing worker process ended before it answered."""


class _Worker:
    """One worker process, fed by a writer thread and read by a reader thread."""

    def __init__(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_IMPORT_ROOT, env.get("PYTHONPATH", "")) if p
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.sandbox.drawing_worker", str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
        )
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._gone = False
        threading.Thread(target=self._write, name="sandbox-draw-writer", daemon=True).start()
        threading.Thread(target=self._read, name="sandbox-draw-reader", daemon=True).start()

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.process.pid

    def submit(self, function: Callable[..., T], args: tuple[object, ...]) -> Future[T]:
        """Queue `function(*args)`; the future fails with WorkerGone if the worker dies first."""
        payload = pickle.dumps((function, args))
        future: Future[T] = Future()
        with self._lock:
            if self._gone:
                raise WorkerGone("the drawing worker has ended")
            call_id = next(self._ids)
            self._pending[call_id] = future
        self._outbox.put(frame(call_id, payload))
        return future

    def _write(self) -> None:
        stdin = cast(IO[bytes], self.process.stdin)
        try:
            while (data := self._outbox.get()) is not None:
                stdin.write(data)
                stdin.flush()
        except OSError:  # the worker died: the reader fails what is pending
            pass
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _read(self) -> None:
        stdout = cast(IO[bytes], self.process.stdout)
        try:
            while (answer := read_frame(stdout)) is not None:
                call_id, payload = answer
                with self._lock:
                    future = self._pending.pop(call_id, None)
                if future is None:
                    continue
                try:
                    ok, value = pickle.loads(payload)
                except Exception as exc:
                    ok, value = False, exc
                _settle(future, ok, value)
        except OSError:
            pass
        with self._lock:
            self._gone = True
            pending, self._pending = self._pending, {}
        for future in pending.values():
            _settle(future, False, WorkerGone("the drawing worker ended"))
        stdout.close()

    def stop(self) -> None:
        """End the worker: close its input, and kill it if it does not leave in time."""
        self._outbox.put(None)
        try:
            self.process.wait(STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _settle(future: Future[Any], ok: bool, value: Any) -> None:
    # The caller may have given up (its task was cancelled): the answer is dropped.
    try:
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
    except InvalidStateError:
        pass


_lock = threading.Lock()
_worker: _Worker | None = None
_deaths = 0
# Set once no worker can be had: from then on drawings run in threads.
_no_worker = False


def _current() -> _Worker | None:
    """The shared worker, started on first use; None when processes are unavailable."""
    global _worker, _no_worker
    with _lock:
        if _worker is None and not _no_worker:
            try:
                _worker = _Worker()
            except OSError as exc:
                log.warning("sandbox: no drawing worker process (%s); drawing in threads", exc)
                _no_worker = True
        return _worker


def _lose_worker(worker: _Worker, reason: BaseException) -> None:
    """Forget a dead worker; the next drawing starts another, up to a limit."""
    global _worker, _deaths, _no_worker
    with _lock:
        if _worker is worker:
            _worker, _deaths = None, _deaths + 1
            _no_worker = _deaths >= MAX_WORKER_DEATHS
            log.warning("sandbox: the drawing worker is gone (%s); this drawing runs in a thread%s",
                        reason, ", and so will all others" if _no_worker else "")
    worker.stop()


def shutdown() -> None:
    """Stop the drawing worker now (it also stops at interpreter exit); a later drawing starts
    a new one."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.stop()


def worker_pid() -> int | None:
    """The running worker's process id, if one runs."""
    worker = _worker
    return worker.pid if worker is not None else None


def _forget_after_fork() -> None:
    # A forked child (mutmut runs each mutant so) has the parent's worker object but not its
    # threads: it starts a worker of its own.
    global _lock, _worker
    _lock, _worker = threading.Lock(), None


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(shutdown)


async def start_worker(warm_up: Callable[[], object]) -> None:
    """Start the worker and run `warm_up` in it (imports, fonts), so no request waits for that."""
    await draw(warm_up)


async def draw(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in the drawing worker; both must pickle (a module-level function)."""
    worker = await asyncio.to_thread(_current) if _worker is None else _worker
    if worker is not None:
        try:
            return await asyncio.wrap_future(worker.submit(function, args))
        except WorkerGone as exc:  # the worker died; the drawing itself did not fail
            await asyncio.to_thread(_lose_worker, worker, exc)
    return await asyncio.to_thread(function, *args)
