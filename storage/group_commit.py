"""Group commit for SQLite: writes waiting behind the one writer share its next COMMIT.

Why: SQLite has one writer per file and every COMMIT is an fsync (synchronous=FULL). In a burst
(200 /imagine jobs recording, updating and issuing button tokens at once) writes queue anyway;
one fsync per write is what would make the queue slow. So one writer task takes the writes
waiting in line and runs them in ONE transaction, each inside its own SAVEPOINT
(`AsyncConnection.begin_nested`), then commits once. The rules a caller sees are those of a
transaction of its own:

- its write is all-or-nothing; one that raises is rolled back to its savepoint and only its
  caller gets the error, the others commit;
- it hears back only once the COMMIT carrying its write returned (durable), and gets the error
  if that COMMIT fails;
- cancelled while waiting in line, its write never runs; cancelled later, it may still commit
  (as a cancel landing just after any commit could).

A write that loses the whole transaction (SQLite rolls everything back, e.g. a full disk) fails
the writes that ran before it in the batch with `TransactionLost`; those after it run in the next.
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

#: A write: a function of a connection inside a transaction; what it returns goes to its caller.
Write = Callable[[AsyncConnection], Awaitable[T]]

# Writes per transaction at most: every caller in a batch waits for its last write, so this bounds
# the latency sharing adds; 32 already spreads one fsync thin (bench/core_imagine.py).
MAX_BATCH = 32


class TransactionLost(StoreError):
    """A write failed in a way that undid the whole shared transaction, not just itself."""


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Queued(Generic[T]):
    write: Write[T]
    result: asyncio.Future[T] = field(default_factory=_future)

    def fail(self, exc: BaseException) -> None:
        if not self.result.done():
            self.result.set_exception(exc)

    def succeed(self, value: T) -> None:
        if not self.result.done():  # else its caller left after the write began
            self.result.set_result(value)


class GroupCommit:
    """Runs writes one at a time, those that queued together in one transaction."""

    def __init__(
        self,
        begin: Callable[[], AbstractAsyncContextManager[AsyncConnection]],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        """`begin` opens one write transaction and commits it on exit (`engine.begin`)."""
        self._begin = begin
        self._max_batch = max_batch
        self._waiting: deque[_Queued[Any]] = deque()
        self._writer: asyncio.Task[None] | None = None

    async def run(self, write: Write[T]) -> T:
        """Run `write(conn)` in the next transaction; its result once that has committed."""
        queued: _Queued[T] = _Queued(write)
        self._waiting.append(queued)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="store-writer")
        return await queued.result

    async def close(self) -> None:
        """Wait until the writes already queued have run."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch: list[_Queued[Any]] = []
                while self._waiting and len(batch) < self._max_batch:
                    queued = self._waiting.popleft()
                    if not queued.result.done():  # else its caller was cancelled meanwhile
                        batch.append(queued)
                if batch:
                    await self._commit(batch)
        finally:
            for queued in self._waiting:  # only when the writer itself was cancelled
                queued.result.cancel()

    async def _commit(self, batch: list[_Queued[Any]]) -> None:
        carried: list[tuple[_Queued[Any], Any]] = []  # went through; told after the COMMIT
        current: _Queued[Any] | None = None
        try:
            async with self._begin() as conn:
                for index, current in enumerate(batch):
                    if len(batch) == 1:  # alone, the transaction is the write's own
                        value = await current.write(conn)
                    else:
                        try:
                            value = await _in_savepoint(conn, current.write)
                        except TransactionLost:
                            self._waiting.extendleft(reversed(batch[index + 1 :]))
                            raise
                        except Exception as exc:
                            current.fail(exc)
                            continue
                    carried.append((current, value))
                current = None
        except Exception as exc:
            if current is not None:
                current.fail(exc)
            for queued, _ in carried:
                queued.fail(exc)
            return
        except BaseException:
            for queued in batch:
                queued.result.cancel()
            raise
        for queued, value in carried:
            queued.succeed(value)


async def _in_savepoint(conn: AsyncConnection, write: Write[T]) -> T:
    """`write` inside a savepoint of the open transaction: undone alone if it raises."""
    savepoint = await conn.begin_nested()
    try:
        value = await write(conn)
    except Exception as exc:
        try:
            await savepoint.rollback()
        except Exception:
            # Nothing to roll back to: the database dropped the whole transaction.
            raise TransactionLost("the write's transaction was lost") from exc
        raise
    try:
        await savepoint.commit()
    except Exception as exc:
        raise TransactionLost("the write's transaction was lost") from exc
    return value
