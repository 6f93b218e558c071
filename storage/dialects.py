"""Everything that differs between SQLite and PostgreSQL, in one place.

The store's statements are plain SQLAlchemy Core; this module supplies the pieces that are not:
connection pragmas and BEGIN mode (SQLite), the upsert construct, row locking for the poll
claim, the in-process write serialisation SQLite wants, and SQLite's direct writes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import sqlite_driver
from storage.sqlite_direct import SAVEPOINT, DirectWriter
from storage.write_queue import TransactionBroken

# Execution option read by the SQLite `begin` hook: "IMMEDIATE" for read-then-write transactions,
# "NONE" for connections that run single statements (each is atomic on its own in SQLite).
BEGIN_MODE = "modelbridge_begin"

# How long a SQLite connection waits for another writer before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Arbitrary constant naming our PostgreSQL advisory lock for migrations.
_MIGRATION_LOCK_KEY = 0x6D6F64656C62  # "modelb"


class Dialect:
    """Backend-specific behaviour the SQL store delegates to."""

    name = "generic"
    #: True when only one process may use the database (the store then takes a file lock).
    single_process = False

    #: True when writes queue behind one writer and may share one commit (see write_queue).
    group_commit = False
    #: True when this process is the database's only writer, so it may cache what it wrote.
    owns_data = False

    def engine_options(self, url: URL) -> dict[str, Any]:
        """Extra keyword arguments for `create_async_engine`."""
        return {}

    def configure(self, engine: AsyncEngine) -> None:
        """Install connection/transaction hooks on a freshly created engine."""

    def insert(self, table: sa.Table) -> Any:
        """An INSERT supporting `on_conflict_do_nothing` / `on_conflict_do_update`."""
        raise NotImplementedError

    def lock_for_claim(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        """Lock the selected rows so concurrent pollers in other processes skip them."""
        return stmt

    async def migration_lock(self, conn: AsyncConnection) -> None:
        """Inside the migration transaction: keep other processes from migrating at once."""

    @contextlib.asynccontextmanager
    async def write_guard(self) -> AsyncIterator[None]:
        """Held around every write transaction; a no-op where the server arbitrates writers."""
        yield

    async def direct_writer(self, conn: AsyncConnection) -> DirectWriter | None:
        """Where the backend has them, direct writes on `conn` (held open for writes only)."""
        return None

    @contextlib.asynccontextmanager
    async def savepoint(self, conn: AsyncConnection) -> AsyncIterator[None]:
        """One write inside a shared transaction: undone alone if it raises."""
        async with conn.begin_nested():
            yield


class SQLiteDialect(Dialect):
    """SQLite via aiosqlite: WAL, full fsync, our own BEGIN, one writer at a time."""

    name = "sqlite"
    single_process = True
    group_commit = True
    owns_data = True

    def __init__(self) -> None:
        # SQLite has one writer per file; queueing writers here instead of in busy_timeout keeps
        # the waiting on the event loop rather than in sleeping worker threads.
        self._write_lock = asyncio.Lock()

    def engine_options(self, url: URL) -> dict[str, Any]:
        # The same aiosqlite connection, but one worker-thread hop per statement.
        return {"async_creator": sqlite_driver.creator(url.database or "")}

    def configure(self, engine: AsyncEngine) -> None:
        sync_engine = engine.sync_engine

        @event.listens_for(sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take BEGIN away from the sqlite3 module (it skips it before SELECT and DDL) so the
            # `begin` hook below controls transactions, as in SQLAlchemy's pysqlite docs.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                # FULL: a commit is fsynced to the WAL before it returns, so a kill -9 or power
                # loss after a reported commit keeps it.
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                cursor.execute("PRAGMA foreign_keys=ON")
            finally:
                cursor.close()

        @event.listens_for(sync_engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            mode = conn.get_execution_options().get(BEGIN_MODE, "DEFERRED")
            if mode == "NONE":
                return  # autocommit: one statement, its own snapshot, nothing to end
            # IMMEDIATE takes the write lock up front, so a read-then-write transaction cannot
            # fail half-way with SQLITE_BUSY when it upgrades from reader to writer. Straight to
            # the driver cursor: the driver sends it along with the transaction's first statement.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")
            cursor.close()

    def insert(self, table: sa.Table) -> sqlite.Insert:
        return sqlite.insert(table)

    @contextlib.asynccontextmanager
    async def savepoint(self, conn: AsyncConnection) -> AsyncIterator[None]:
        # Straight to the driver rather than `begin_nested`: SAVEPOINT and RELEASE then travel
        # with the next statement instead of costing a full SQLAlchemy execution each.
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if not isinstance(driver, sqlite_driver.Connection):
            raise TypeError("the SQLite engine must use storage.sqlite_driver connections")
        driver.defer(f"SAVEPOINT {SAVEPOINT}")
        try:
            yield
        except BaseException as exc:
            try:
                await driver.call(_rollback_to_savepoint)
                undone = driver.in_transaction
            except Exception:
                undone = False  # what the write did may still be there: give up on it all
            if not undone:
                raise TransactionBroken("the write's transaction was lost") from exc
            raise
        driver.defer(f"RELEASE SAVEPOINT {SAVEPOINT}")

    @contextlib.asynccontextmanager
    async def write_guard(self) -> AsyncIterator[None]:
        async with self._write_lock:
            yield

    async def direct_writer(self, conn: AsyncConnection) -> DirectWriter:
        return DirectWriter(conn, self._write_lock)


def _rollback_to_savepoint(conn: Any) -> None:
    conn.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
    conn.execute(f"RELEASE SAVEPOINT {SAVEPOINT}")


class PostgresDialect(Dialect):
    """PostgreSQL via asyncpg: several processes may share the database."""

    name = "postgresql"

    def insert(self, table: sa.Table) -> postgresql.Insert:
        return postgresql.insert(table)

    def lock_for_claim(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        return stmt.with_for_update(skip_locked=True)

    async def migration_lock(self, conn: AsyncConnection) -> None:
        # Released at commit; processes starting together upgrade one after the other.
        await conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
        )


def dialect_for(url: URL) -> Dialect:
    """The dialect object for a database URL; ValueError for backends we do not support."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return SQLiteDialect()
    if backend == "postgresql":
        return PostgresDialect()
    raise ValueError(
        f"unsupported database backend {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg"
    )
