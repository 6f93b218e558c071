"""What the store's tables share: where their reads and writes run, and the one write path.

The tables speak plain SQLAlchemy Core: a read or a write is a function of a `sa.Connection`.
`Database` runs it off the event loop:

- SQLite: in the store's own threads on a plain (pysqlite) engine, a read in a reader thread,
  a write in the one writer thread, where writes queued together share one COMMIT
  (group_commit). A whole write is one hop to its thread, not one per statement.
- PostgreSQL: on the asyncpg engine, through `AsyncConnection.run_sync`; the server arbitrates
  concurrent writers, so each write commits on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import READ_ONLY, is_sqlite, make_engine, make_sqlite_thread_engine
from storage.group_commit import GroupCommit, Write

T = TypeVar("T")

#: A read: ONE statement's worth of work on a connection (SQLite runs it without a transaction).
Read = Callable[[sa.Connection], T]
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]] | None

# Threads reading a SQLite file at once (WAL lets them run beside the writer).
SQLITE_READERS = 2


def executing(stmt: sa.Executable, params: Params = None) -> Write[None]:
    """A write that runs one statement (`params`: one row's mapping, or a list for many rows)."""

    def write(conn: sa.Connection) -> None:
        conn.execute(stmt, params)

    return write


def first_row(stmt: sa.Executable, params: Params = None) -> Read[sa.Row[Any] | None]:
    """A read of the statement's first row (None when there is none)."""

    def read(conn: sa.Connection) -> sa.Row[Any] | None:
        return conn.execute(stmt, params).first()

    return read


def all_rows(stmt: sa.Executable, params: Params = None) -> Read[Sequence[sa.Row[Any]]]:
    """A read of all the statement's rows."""

    def read(conn: sa.Connection) -> Sequence[sa.Row[Any]]:
        return conn.execute(stmt, params).all()

    return read


class Database:
    """An open database as the tables see it: `read(fn)`, `write(fn)`, the clock."""

    def __init__(
        self,
        url: URL,
        *,
        clock: Callable[[], float] = time.time,
        on_write: Callable[[float], None] | None = None,
    ) -> None:
        """Engines for a resolved URL; nothing connects before the first read or write.

        `on_write` is told how long each write took, queueing included (seconds): a metric."""
        self.clock = clock
        self._on_write = on_write
        self.engine = make_engine(url)
        #: This process is the database's only writer (SQLite, under the file lock), so it
        #: may keep in memory what it wrote.
        self.single_writer = is_sqlite(url)
        self._runner: _InThreads | _OnAsyncEngine = (
            _InThreads(url) if self.single_writer else _OnAsyncEngine(self.engine)
        )

    async def read(self, read: Read[T]) -> T:
        """Run `read(conn)`, a read of ONE statement, and return what it returns."""
        return await self._runner.read(read)

    async def write(self, write: Write[T]) -> T:
        """Run `write(conn)` in a transaction and return its result once committed.

        All-or-nothing: an exception rolls back everything `write` did. With one writer
        (SQLite) it may share its transaction with writes queued meanwhile (see group_commit).
        """
        if self._on_write is None:
            return await self._runner.write(write)
        started = time.perf_counter()
        try:
            return await self._runner.write(write)
        finally:
            self._on_write(time.perf_counter() - started)

    def insert(self, table: sa.Table) -> Any:
        """An INSERT of the backend's dialect, which has `on_conflict_do_*` (upserts)."""
        if self.single_writer:
            return sqlite.insert(table)
        return postgresql.insert(table)

    async def close(self) -> None:
        """Let queued writes finish, then close every connection and thread."""
        await self._runner.close()
        await self.engine.dispose()


class _InThreads:
    """SQLite: reads in reader threads, writes in the writer thread, on a pysqlite engine."""

    def __init__(self, url: URL) -> None:
        self._engine = make_sqlite_thread_engine(url)
        self._reader = self._engine.execution_options(**{READ_ONLY: True})
        self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="store-reader")
        self._writer = GroupCommit(self._engine)

    async def read(self, read: Read[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, _read_in_thread, self._reader, read)

    async def write(self, write: Write[T]) -> T:
        return await self._writer.run(write)

    async def close(self) -> None:
        await self._writer.close()
        await asyncio.to_thread(self._readers.shutdown)
        await asyncio.to_thread(self._engine.dispose)


def _read_in_thread(engine: sa.Engine, read: Read[T]) -> T:
    with engine.connect() as conn:
        return read(conn)


class _OnAsyncEngine:
    """PostgreSQL: reads and writes on the asyncpg engine; each write commits on its own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Reads outside a transaction: one round trip instead of three (BEGIN, it, ROLLBACK).
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def read(self, read: Read[T]) -> T:
        async with self._reader.connect() as conn:
            return await conn.run_sync(read)

    async def write(self, write: Write[T]) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(write)

    async def close(self) -> None:
        """Nothing of its own: the engine is disposed by `Database.close`."""
