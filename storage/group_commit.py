"""Group commit for SQLite: writes waiting behind the one writer share its next COMMIT.

Why: SQLite has one writer per file and every COMMIT is an fsync (synchronous=FULL). In a burst
(200 /imagine jobs recording, updating and issuing button tokens at once) writes queue anyway;
one fsync per write is what would make the queue slow. So the writes waiting in line go, in one
call, to the writer thread, which runs them in ONE transaction and commits once; those arriving
meanwhile wait for the next batch. The rules a caller sees are those of a transaction of its own:

- its write is all-or-nothing and one that raises fails alone: the transaction is rolled back,
  its caller gets the error, and the batch runs again without it (so a write must only talk to
  the database: it may run more than once before its commit);
- it hears back only once the COMMIT carrying its write returned (durable), and gets the error
  if that COMMIT fails;
- cancelled while waiting in line, its write never runs; cancelled later, it may still commit
  (as a cancel landing just after any commit could).

Rolling back and running the rest again costs more than a SAVEPOINT around each write would,
but only when a write fails, which is rare; savepoints would cost two statements on every write.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

T = TypeVar("T")

#: A write: a function of a connection inside a transaction; what it returns goes to its caller.
Write = Callable[[sa.Connection], T]
#: How one write of a batch ended: (True, its result) or (False, its exception).
Outcome = tuple[bool, Any]

# Writes per transaction at most: every caller in a batch waits for its last write, so this bounds
# the latency sharing adds; 32 already spreads one fsync thin (bench/core_imagine.py).
MAX_BATCH = 32


@dataclass(slots=True)
class _Queued(Generic[T]):
    write: Write[T]
    result: asyncio.Future[T]


class GroupCommit:
    """Runs writes one batch at a time in the writer thread, each batch in one transaction."""

    def __init__(self, engine: sa.Engine, *, max_batch: int = MAX_BATCH) -> None:
        """`engine` opens transactions that take the write lock (SQLite: BEGIN IMMEDIATE)."""
        self._engine = engine
        self._max_batch = max_batch
        # One thread: the batches run one after the other, in the order they were sent.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._waiting: deque[_Queued[Any]] = deque()
        self._running: list[_Queued[Any]] = []  # the batch in the thread now, if any
        self._idle = asyncio.Event()
        self._idle.set()
        # The writer thread's connection, opened and used there only: held rather than taken
        # from the pool for each batch (a checkout and its reset cost as much as a small write).
        self._conn: sa.Connection | None = None

    async def run(self, write: Write[T]) -> T:
        """Run `write(conn)` in the next transaction; its result once that has committed."""
        loop = asyncio.get_running_loop()
        queued: _Queued[T] = _Queued(write, loop.create_future())
        self._waiting.append(queued)
        if not self._running:
            self._send_batch(loop)
        return await queued.result

    def _send_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hand the writes waiting in line (up to a batch) to the writer thread."""
        batch: list[_Queued[Any]] = []
        while self._waiting and len(batch) < self._max_batch:
            queued = self._waiting.popleft()
            if not queued.result.done():  # else its caller was cancelled meanwhile
                batch.append(queued)
        if not batch:
            return
        self._running = batch
        self._idle.clear()
        done = self._thread.submit(self._run_batch, [queued.write for queued in batch])
        done.add_done_callback(lambda _: loop.call_soon_threadsafe(self._batch_done, loop, done))

    def _batch_done(self, loop: asyncio.AbstractEventLoop, done: Future[list[Outcome]]) -> None:
        """On the event loop, once the batch's transaction ended: tell each caller, go on."""
        batch, self._running = self._running, []
        error = done.exception()
        outcomes = [(False, error)] * len(batch) if error is not None else done.result()
        for queued, (ok, value) in zip(batch, outcomes, strict=True):
            if queued.result.done():
                continue  # its caller left after the write began
            if ok:
                queued.result.set_result(value)
            else:
                queued.result.set_exception(value)
        self._send_batch(loop)
        if not self._running:
            self._idle.set()

    async def close(self) -> None:
        """Wait until the writes already queued have run, then stop the writer thread."""
        await self._idle.wait()
        await asyncio.get_running_loop().run_in_executor(self._thread, self._disconnect)
        await asyncio.to_thread(self._thread.shutdown)

    def _run_batch(self, writes: list[Write[Any]]) -> list[Outcome]:
        """In the writer thread: the writes in one transaction, without those that fail."""
        failed: dict[int, Exception] = {}
        while len(failed) < len(writes):
            results: dict[int, Any] = {}
            try:
                if self._conn is None:
                    self._conn = self._engine.connect()
                conn = self._conn
                with conn.begin():
                    for index, write in enumerate(writes):
                        if index in failed:
                            continue
                        try:
                            results[index] = write(conn)
                        except Exception as exc:
                            failed[index] = exc
                            raise _Failed from exc  # roll back all, then again without it
            except _Failed:
                continue
            except Exception as exc:  # no connection, or BEGIN or COMMIT failed: nothing kept
                self._disconnect()  # the next batch starts on a fresh connection
                return [(False, failed.get(index, exc)) for index in range(len(writes))]
            return [
                (True, results[index]) if index in results else (False, failed[index])
                for index in range(len(writes))
            ]
        return [(False, failed[index]) for index in range(len(writes))]

    def _disconnect(self) -> None:
        """In the writer thread: close its connection (a new one is opened when needed)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


class _Failed(Exception):
    """Raised inside the batch's transaction to roll it back after a write failed."""
