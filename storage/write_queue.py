"""Group commit: writes that queue behind the single writer share its next transaction.

SQLite has one writer per file, so concurrent writes wait in line anyway; paying a BEGIN, a
COMMIT and an fsync for each of them is what makes a burst slow. Here the writes waiting when a
transaction starts (and those arriving while it runs) run one after the other in that same
transaction, each inside its own SAVEPOINT, and one COMMIT ends them all:

- a write that fails rolls back to its savepoint and raises to its caller alone; the others
  go on and commit;
- a caller returns only once the COMMIT that carries its write is done (durable, with
  synchronous=FULL), and gets the error if that COMMIT fails;
- each caller's statements stay atomic (its savepoint), exactly as in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from storage.base import StoreError

# Writes per transaction at most, so one burst cannot hold the file (and its readers' WAL
# checkpoints) for long.
MAX_BATCH = 256


class TransactionBroken(StoreError):
    """A failed write could not be undone alone; the whole shared transaction was rolled back."""


Savepoint = Callable[[AsyncConnection], AbstractAsyncContextManager[object]]


def _nested(conn: AsyncConnection) -> AbstractAsyncContextManager[object]:
    return conn.begin_nested()


def _future() -> asyncio.Future[object]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Slot:
    """One caller's place in line: its turn on the connection, its end, the shared commit."""

    turn: asyncio.Future[object] = field(default_factory=_future)
    # Result: True if it succeeded, False if it failed alone, None if it broke the transaction.
    done: asyncio.Future[object] = field(default_factory=_future)
    committed: asyncio.Future[object] = field(default_factory=_future)


class WriteQueue:
    """Serialises write transactions and lets the ones waiting share a commit (see module doc)."""

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
        self._waiting: deque[_Slot] = deque()
        self._runner: asyncio.Task[None] | None = None
        self._leading = False  # a caller's own task holds the transaction
        self.commits = 0  # transactions committed, for tests and benchmarks

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A savepoint in the next shared transaction; returns after that transaction commits."""
        if self._leading or self._waiting or (self._runner and not self._runner.done()):
            async with self._join() as conn:
                yield conn
            return
        # Nobody holds the writer: this caller opens the transaction itself (no task switch)
        # and, after its own write, runs the writes that queued up meanwhile.
        self._leading = True
        batch: list[_Slot] = []
        error: BaseException | None = None
        try:
            async with self._begin() as conn:
                try:
                    async with self._savepoint(conn):
                        yield conn
                except TransactionBroken:
                    raise
                except BaseException as exc:
                    error = exc  # undone alone; raised once the others are committed
                await self._serve(conn, batch)
        except BaseException as exc:
            self._fail(batch, exc)
            raise
        finally:
            self._leading = False
            self._ensure_runner()
        self._commit(batch)
        if error is not None:
            raise error

    @contextlib.asynccontextmanager
    async def _join(self) -> AsyncIterator[AsyncConnection]:
        slot = _Slot()
        self._waiting.append(slot)
        self._ensure_runner()
        try:
            conn = await slot.turn
        except BaseException:
            if slot.turn.done() and not slot.turn.cancelled() and slot.turn.exception() is None:
                slot.done.set_result(False)  # handed over just as we were cancelled: give it back
            raise
        assert isinstance(conn, AsyncConnection)
        outcome: bool | None = False
        try:
            async with self._savepoint(conn):
                yield conn
            outcome = True
        except TransactionBroken:
            outcome = None
            raise
        finally:
            slot.done.set_result(outcome)
        await slot.committed

    def _ensure_runner(self) -> None:
        if self._waiting and not self._leading and (self._runner is None or self._runner.done()):
            self._runner = asyncio.create_task(self._run(), name="store-writer")

    async def _serve(self, conn: AsyncConnection, batch: list[_Slot]) -> None:
        """Hand the open transaction to each waiting caller in turn; `batch` gets the successes."""
        while self._waiting and len(batch) < self._max_batch:
            slot = self._waiting.popleft()
            if slot.turn.done():
                continue  # its caller was cancelled while waiting
            slot.turn.set_result(conn)
            outcome = await slot.done
            if outcome is None:
                raise TransactionBroken("a write broke the shared transaction")
            if outcome:
                batch.append(slot)

    def _commit(self, batch: list[_Slot]) -> None:
        self.commits += 1
        for slot in batch:
            if not slot.committed.done():
                slot.committed.set_result(None)

    @staticmethod
    def _fail(batch: list[_Slot], exc: BaseException) -> None:
        for slot in batch:
            if not slot.committed.done():
                slot.committed.set_exception(exc)

    async def _run(self) -> None:
        while self._waiting:
            batch: list[_Slot] = []
            try:
                async with self._begin() as conn:
                    await self._serve(conn, batch)
            except asyncio.CancelledError as exc:
                self._fail(batch, exc)
                for slot in self._waiting:
                    slot.turn.cancel()
                raise
            except BaseException as exc:
                if not batch and self._waiting:
                    # The transaction could not even start: the first in line gets the error,
                    # so a persistent failure cannot spin here.
                    first = self._waiting.popleft()
                    if not first.turn.done():
                        first.turn.set_exception(exc)
                self._fail(batch, exc)
                continue
            self._commit(batch)
