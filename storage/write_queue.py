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

A backend may also take *direct* writes (`run_direct`, SQLite: storage.sqlite_direct): plain
functions of the driver's connection that run in its worker thread. A batch made only of them is
one call there, BEGIN to COMMIT; in a mixed batch, each run of neighbouring direct writes is one
call inside the shared transaction. Same rules, same order, same shared COMMIT.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.base import StoreError

T = TypeVar("T")

# Writes per transaction at most. Every caller in a batch waits for the batch's last write, so
# this bounds the latency group commit adds; 32 already spreads one COMMIT (and fsync) so thin
# that larger batches bought nothing in bench/core_imagine.py.
MAX_BATCH = 32

Write = Callable[[AsyncConnection], Awaitable[T]]
Savepoint = Callable[[AsyncConnection], AbstractAsyncContextManager[object]]
#: A direct write: a function of the driver's own connection, run in the driver's thread.
SyncWrite = Callable[[Any], T]
#: How one direct write ended: (True, its result) or (False, its exception).
Outcome = tuple[bool, Any]


class Direct(Protocol):
    """Runs direct writes on the connection that `begin` transactions use."""

    async def transaction(self, writes: Sequence[SyncWrite[Any]]) -> list[Outcome]:
        """`writes` in one transaction of their own (serialised like `begin`); the outcomes
        of those that ran, in order (the rest did not: the transaction broke or never began)."""
        ...

    async def within(self, writes: Sequence[SyncWrite[Any]]) -> list[Outcome]:
        """`writes`, each in a savepoint, inside the transaction open on the connection; stops
        after an outcome that is a TransactionBroken."""
        ...


class TransactionBroken(StoreError):
    """A failed write could not be undone alone; the whole shared transaction was rolled back."""


def _nested(conn: AsyncConnection) -> AbstractAsyncContextManager[object]:
    return conn.begin_nested()


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Job(Generic[T]):
    write: Write[T] | SyncWrite[T]
    direct: bool
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
        direct: Direct | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        """`begin` opens (and on exit commits) one transaction; `savepoint` wraps each write
        in it and raises TransactionBroken when it cannot roll back to where the write began;
        `direct`, when given, runs direct writes on the connection `begin` yields."""
        self._begin = begin
        self._savepoint = savepoint
        self._direct = direct
        self._max_batch = max_batch
        self._waiting: deque[_Job[Any]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._alone = False  # a write runs in its caller's task, outside the writer task
        self.commits = 0  # transactions committed, for tests and benchmarks

    @property
    def takes_direct(self) -> bool:
        """True when `run_direct` may be used."""
        return self._direct is not None

    def _idle(self) -> bool:
        writer_idle = self._writer is None or self._writer.done()
        return writer_idle and not self._alone and not self._waiting

    async def run(self, write: Write[T]) -> T:
        """Run `write(conn)` in the next shared transaction; its result once that committed."""
        if self._idle():
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
        return await self._enqueue(_Job(write, False))

    async def run_direct(self, write: SyncWrite[T]) -> T:
        """Like `run`, for a direct write (`takes_direct` must be True)."""
        direct = self._direct
        if direct is None:
            raise RuntimeError("this queue takes no direct writes")
        if self._idle():
            self._alone = True
            try:
                ((ok, value),) = await direct.transaction([write])
            finally:
                self._alone = False
            if not ok:
                raise value
            self.commits += 1
            result: T = value
            return result
        return await self._enqueue(_Job(write, True))

    def _enqueue(self, job: _Job[T]) -> asyncio.Future[T]:
        self._waiting.append(job)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="store-writer")
        return job.result

    async def close(self) -> None:
        """Wait for the writes already queued (new ones start a new writer)."""
        writer = self._writer
        if writer is not None:
            await asyncio.gather(writer, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                if self._direct is not None and self._only_direct_ahead():
                    await self._direct_batch(self._direct)
                else:
                    await self._batch()
        except BaseException:
            for job in self._waiting:
                job.result.cancel()
            self._waiting.clear()
            raise

    def _only_direct_ahead(self) -> bool:
        """True when the next batch would hold direct writes only."""
        live = 0
        for job in self._waiting:
            if job.result.done():
                continue
            if not job.direct:
                return False
            live += 1
            if live == self._max_batch:
                break
        return True

    def _take_direct(self, limit: int) -> list[_Job[Any]]:
        """Up to `limit` direct writes from the front of the line (skipping cancelled ones)."""
        taken: list[_Job[Any]] = []
        waiting = self._waiting
        while waiting and len(taken) < limit:
            job = waiting[0]
            if job.result.done():
                waiting.popleft()
                continue
            if not job.direct:
                break
            taken.append(waiting.popleft())
        return taken

    def _put_back(self, jobs: list[_Job[Any]]) -> None:
        """Return writes that did not run to the front of the line, in order."""
        self._waiting.extendleft(reversed(jobs))

    async def _direct_batch(self, direct: Direct) -> None:
        jobs = self._take_direct(self._max_batch)
        if not jobs:
            return
        try:
            outcomes = await direct.transaction([job.write for job in jobs])
        except asyncio.CancelledError:
            for job in jobs:
                job.result.cancel()
            raise
        except Exception as exc:
            for job in jobs:
                job.fail(exc)
            return
        committed = False
        for job, (ok, value) in zip(jobs, outcomes, strict=False):
            if not ok:
                job.fail(value)
                continue
            committed = True
            if not job.result.done():  # else its caller left after the write began
                job.result.set_result(value)
        self._put_back(jobs[len(outcomes) :])
        if committed:
            self.commits += 1

    async def _batch(self) -> None:
        done: list[tuple[_Job[Any], Any]] = []
        started = False
        taken = 0
        try:
            async with self._begin() as conn:
                started = True
                while self._waiting and taken < self._max_batch:
                    if self._direct is not None:
                        run = self._take_direct(self._max_batch - taken)
                        if run:
                            taken += len(run)
                            await self._direct_run(self._direct, run, done)
                            continue
                        if not self._waiting:
                            break  # only cancelled writes were left
                    job = self._waiting.popleft()
                    if job.result.done():
                        continue  # its caller was cancelled before it started
                    taken += 1
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

    async def _direct_run(
        self, direct: Direct, run: list[_Job[Any]], done: list[tuple[_Job[Any], Any]]
    ) -> None:
        """Neighbouring direct writes inside the batch's transaction, in one call."""
        try:
            outcomes = await direct.within([job.write for job in run])
        except BaseException as exc:
            for job in run:
                if isinstance(exc, asyncio.CancelledError):
                    job.result.cancel()
                else:
                    job.fail(exc)
            raise
        for job, (ok, value) in zip(run, outcomes, strict=False):
            if ok:
                done.append((job, value))
            else:
                job.fail(value)
                if isinstance(value, TransactionBroken):
                    self._put_back(run[len(outcomes) :])
                    raise value
