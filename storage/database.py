"""What the store's tables share: the engine, a connection for reads, and the one write path."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.engine import READ_ONLY
from storage.group_commit import GroupCommit, Write

T = TypeVar("T")


def executing(stmt: sa.Executable, params: Any = None) -> Write[None]:
    """A write that runs one statement (`params`: one row's mapping, or a list for many rows)."""

    async def write(conn: AsyncConnection) -> None:
        await conn.execute(stmt, params)

    return write


class Database:
    """An open engine seen by the tables: `read()` for one statement, `write(fn)` for the rest."""

    def __init__(
        self, engine: AsyncEngine, *, single_writer: bool, clock: Callable[[], float] = time.time
    ) -> None:
        """`single_writer`: this process is the database's only writer (SQLite, under the file
        lock), so writes queue behind one writer and share commits (see group_commit)."""
        self.engine = engine
        self.clock = clock
        self.single_writer = single_writer
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self._group = GroupCommit(engine.begin) if single_writer else None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for ONE reading statement (SQLite runs it without a transaction)."""
        async with self._reader.connect() as conn:
            yield conn

    async def write(self, write: Write[T]) -> T:
        """Run `write(conn)` in a transaction and return its result once committed.

        All-or-nothing: an exception rolls back everything `write` did. With one writer
        (SQLite) it may share its transaction with writes queued meanwhile, in a savepoint.
        """
        if self._group is not None:
            return await self._group.run(write)
        async with self.engine.begin() as conn:
            return await write(conn)

    def insert(self, table: sa.Table) -> Any:
        """An INSERT of the backend's dialect, which has `on_conflict_do_*` (upserts)."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def close(self) -> None:
        """Let queued writes finish, then close every connection."""
        if self._group is not None:
            await self._group.close()
        await self.engine.dispose()
