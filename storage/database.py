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

    def __init__(self, url: URL, *, clock: Callable[[], float] = time.time) -> None:
        """Engines for a resolved URL; nothing connects before the first read or write."""
        self.clock = clock
        self.engine = make_engine(url)
        #: This process is the database's only writer (SQLite, under the file lock), so it
        #: may keep in memory what it wrote.
        self.single_writer = is_sqlite(url)
        self._threads: sa.Engine | None = None
        self._thread_reader: sa.Engine | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._group: GroupCommit | None = None
        if self.single_writer:
            self._threads = make_sqlite_thread_engine(url)
            self._thread_reader = self._threads.execution_options(**{READ_ONLY: True})
            self._readers = ThreadPoolExecutor(SQLITE_READERS, thread_name_prefix="store-reader")
            self._group = GroupCommit(self._threads)
        # PostgreSQL reads outside a transaction too: one round trip instead of three.
        self._async_reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    async def read(self, read: Read[T]) -> T:
        """Run `read(conn)`, a read of ONE statement, and return what it returns."""
        if self._thread_reader is not None and self._readers is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._readers, _read_in_thread, self._thread_reader, read
            )
        async with self._async_reader.connect() as conn:
            return await conn.run_sync(read)

    async def write(self, write: Write[T]) -> T:
        """Run `write(conn)` in a transaction and return its result once committed.

        All-or-nothing: an exception rolls back everything `write` did. With one writer
        (SQLite) it may share its transaction with writes queued meanwhile (see group_commit).
        """
        if self._group is not None:
            return await self._group.run(write)
        async with self.engine.begin() as conn:
            return await conn.run_sync(write)

    def insert(self, table: sa.Table) -> Any:
        """An INSERT of the backend's dialect, which has `on_conflict_do_*` (upserts)."""
        if self.single_writer:
            return sqlite.insert(table)
        return postgresql.insert(table)

    async def close(self) -> None:
        """Let queued writes finish, then close every connection and thread."""
        if self._group is not None:
            await self._group.close()
        if self._readers is not None:
            await asyncio.to_thread(self._readers.shutdown)
        if self._threads is not None:
            await asyncio.to_thread(self._threads.dispose)
        await self.engine.dispose()


def _read_in_thread(engine: sa.Engine, read: Read[T]) -> T:
    with engine.connect() as conn:
        return read(conn)
