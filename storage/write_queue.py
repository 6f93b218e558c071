"""Group commit: writes that queue behind the single writer share its next transaction.

SQLite has one writer per file, so concurrent writes wait in line anyway; paying a BEGIN, a
COMMIT and an fsync for each of them is what makes a burst slow. Here a write is a function of
the connection; one writer task runs the writes waiting in line one after the other in a single
transaction, each inside its own SAVEPOINT, and one COMMIT ends them all:

- a write that raises is rolled back to its savepoint and its caller alone gets the error; the
  others go on and commit;
- a caller gets its write's result only once the COMMIT that carries it is done (durable, with
  synchronous=FULL), and gets the error if that COMMIT fails;
- each write stays atomic (its savepoint), exactly as in a transaction of its own;
- a caller cancelled before its write started leaves nothing; one cancelled later may still
  commit (as a cancel that lands just after a commit always could).

The writes run in the writer task, not their callers', so a batch costs no task switch per write;
a write that finds nobody writing runs alone in its caller's task. `begin` must serialise
transactions (SQLite: the dialect's write lock), as the writer task may start while such a
write is still running.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.base import StoreError

T = TypeVar("T")

# Writes per transaction at most. Every caller in a batch waits for the batch's last write, so
# this bounds the latency group commit adds; 32 already spreads one COMMIT (and fsync) so thin
# that larger batches bought nothing in bench/core_imagine.py.
MAX_BATCH = 32

Write = Callable[[AsyncConnection], Awaitable[T]]
Savepoint = Callable[[AsyncConnection], AbstractAsyncContextManager[object]]


class TransactionBroken(StoreError):
    """A failed write could not be undone alone; the whole shared transaction was rolled back."""


def _nested(conn: AsyncConnection) -> AbstractAsyncContextManager[object]:
    return conn.begin_nested()


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Job(Generic[T]):
    write: Write[T]
    result: asyncio.Future[T] = field(default_factory=_future)

    def fail(self, exc: BaseException) -> None:
        if not self.result.done():
            self.result.set_exception(exc)


class WriteQueue:
    """Runs writes one at a time in shared transactions (see the module docstring)."""

    def __init__(
        self,
        begin: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        *,
        savepoint: Savepoint = _nested,
        max_batch: int = MAX_BATCH,
    ) -> None:
        """`begin` opens (and on exit commits) one transaction; `savepoint` wraps each write
        in it and raises TransactionBroken when it cannot roll back to where the write began."""
        self._begin = begin
        self._savepoint = savepoint
        self._max_batch = max_batch
        self._waiting: deque[_Job[Any]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._alone = False  # a write runs in its caller's task, outside the writer task
        self.commits = 0  # transactions committed, for tests and benchmarks

    async def run(self, write: Write[T]) -> T:
        """Run `write(conn)` in the next shared transaction; its result once that committed."""
        writer_idle = self._writer is None or self._writer.done()
        if writer_idle and not self._alone and not self._waiting:
            # Nobody is writing: run in a transaction of its own, in the caller's task (no task
            # switch). Writes arriving meanwhile queue for the writer task, which waits for
            # this one's COMMIT (the `begin` guard) and then takes them all together.
            self._alone = True
            try:
                async with self._begin() as conn:
                    value = await write(conn)
            finally:
                self._alone = False
            self.commits += 1
            return value
        job: _Job[T] = _Job(write)
        self._waiting.append(job)
        if writer_idle:
            self._writer = asyncio.create_task(self._drain(), name="store-writer")
        return await job.result

    async def close(self) -> None:
        """Wait for the writes already queued (new ones start a new writer)."""
        writer = self._writer
        if writer is not None:
            await asyncio.gather(writer, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await self._batch()
        except BaseException:
            for job in self._waiting:
                job.result.cancel()
            self._waiting.clear()
            raise

    async def _batch(self) -> None:
        done: list[tuple[_Job[Any], Any]] = []
        started = False
        try:
            async with self._begin() as conn:
                started = True
                while self._waiting and len(done) < self._max_batch:
                    job = self._waiting.popleft()
                    if job.result.done():
                        continue  # its caller was cancelled before it started
                    try:
                        async with self._savepoint(conn):
                            value = await job.write(conn)
                    except TransactionBroken as exc:
                        job.fail(exc)
                        raise
                    except Exception as exc:
                        job.fail(exc)  # undone alone; the rest of the batch goes on
                    else:
                        done.append((job, value))
        except asyncio.CancelledError:
            for job, _ in done:
                job.result.cancel()
            raise
        except Exception as exc:
            if not started and self._waiting:
                # The transaction could not even start: the first in line gets the error, so a
                # lasting failure is reported to each caller instead of spinning here.
                self._waiting.popleft().fail(exc)
            for job, _ in done:
                job.fail(exc)
            return
        self.commits += 1
        for job, value in done:
            if not job.result.done():
                job.result.set_result(value)
