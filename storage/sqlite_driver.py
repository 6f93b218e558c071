"""aiosqlite connections that cost one thread hop per statement instead of about four.

SQLAlchemy's aiosqlite adapter awaits the driver for every cursor step (open, execute, fetch,
close) and for COMMIT/ROLLBACK; each await is a round trip to the connection's worker thread that
wakes the event loop. Handed to the engine as its `async_creator`, this connection keeps the
adapter and aiosqlite as they are but:

- runs execute, fetch-all and cursor close as one call in the worker thread (rows are buffered,
  as the adapter buffers them anyway), and makes opening and closing a cursor free;
- defers the bookkeeping statements (BEGIN, SAVEPOINT, RELEASE) to the front of the next call,
  so they travel with the statement that follows them; a transaction in which nothing ran then
  costs nothing at all;
- skips ROLLBACK when SQLite says no transaction is open (the pool rolls back every connection
  it gets back, even one whose transaction was just committed).

Statements still run in order on the one worker thread; errors are the sqlite3 ones, unchanged.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

# Statements that only move transaction bookkeeping; they cannot return rows.
_DEFERRABLE = re.compile(r"(BEGIN( IMMEDIATE| DEFERRED)?|(RELEASE )?SAVEPOINT \w+)", re.I)

# (rows, description, rowcount, lastrowid) of one finished statement.
_Outcome = tuple[list[Any], Any, int, int | None]


class Connection(aiosqlite.Connection):
    """An aiosqlite connection with one worker-thread hop per statement (see the module doc)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._prelude: list[str] = []

    def cursor(self) -> Cursor:  # type: ignore[override]  # the adapter only enters and awaits it
        return Cursor(self)

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in the worker thread, after any deferred bookkeeping statements."""
        return await self.submit(fn)

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """`call` without awaiting: the future of `fn`'s result. `fn` runs even when nobody
        awaits the future any more (so a caller may wait for it through a cancellation)."""
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        prelude, self._prelude = self._prelude, []
        conn = self._connection

        def work() -> T:
            for sql in prelude:
                conn.execute(sql)
            return fn(conn)

        # What aiosqlite's `_execute` does, minus the coroutine around the future.
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((future, work))
        return future

    def defer(self, sql: str) -> None:
        """Queue a bookkeeping statement to run just before the next call."""
        self._prelude.append(sql)

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open (or a deferred BEGIN is waiting to open one)."""
        connection = self._connection
        return self._unstarted() or (connection is not None and connection.in_transaction)

    def _unstarted(self) -> bool:
        # A deferred BEGIN at the front: nothing has run since, so there is nothing to end.
        return bool(self._prelude) and self._prelude[0][:5].upper() == "BEGIN"

    async def commit(self) -> None:
        if self._unstarted():
            self._prelude = []
            return
        await self.call(_commit)

    async def rollback(self) -> None:
        if self._unstarted():
            self._prelude = []
            return
        self._prelude = []  # pending savepoint steps are moot once everything is undone
        connection = self._connection
        # Read outside the worker: safe, as nothing else runs on this connection meanwhile
        # (its owner is awaiting us); it is why the connection allows other threads.
        if connection is None or not connection.in_transaction:
            return
        await self._execute(connection.rollback)  # type: ignore[no-untyped-call]


def _commit(conn: sqlite3.Connection) -> None:
    conn.commit()


class Cursor:
    """A cursor whose statement runs, fetches and closes in one worker call; rows are buffered."""

    arraysize = 1

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        if not parameters and _DEFERRABLE.fullmatch(sql.strip()):
            self._conn.defer(sql)
            self._finish(([], None, -1, None))
            return self
        self._finish(await self._conn.call(partial(_run, sql, parameters or ())))
        return self

    async def executemany(self, sql: str, seq_of_parameters: Sequence[Any]) -> Cursor:
        self._finish(await self._conn.call(partial(_run_many, sql, seq_of_parameters)))
        return self

    def _finish(self, outcome: _Outcome) -> None:
        self._rows, self.description, self.rowcount, self.lastrowid = outcome

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


def _outcome(cursor: sqlite3.Cursor) -> _Outcome:
    try:
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run(sql: str, parameters: Sequence[Any], conn: sqlite3.Connection) -> _Outcome:
    return _outcome(conn.execute(sql, parameters))


def _run_many(sql: str, seq_of_parameters: Sequence[Any], conn: sqlite3.Connection) -> _Outcome:
    return _outcome(conn.executemany(sql, seq_of_parameters))


def creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: opens `path` with this connection class."""

    async def connect() -> Connection:
        # check_same_thread=False only so `rollback` may read `in_transaction` from the loop;
        # every statement still runs on the connection's own worker thread.
        connector = partial(sqlite3.connect, path, check_same_thread=False, isolation_level=None)
        connection = Connection(connector)
        # The adapter makes aiosqlite's thread a daemon, so a forgotten engine cannot hang exit.
        connection._thread.daemon = True
        await connection
        return connection

    return connect
