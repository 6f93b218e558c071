"""The engines for a database URL: SQLite or PostgreSQL (asyncpg), and what differs between them.

SQLite gets the settings that make it safe for a bot (WAL, fsync on every commit, foreign keys)
and our own BEGIN, following SQLAlchemy's documented recipe for the pysqlite/aiosqlite drivers;
one process per file, enforced with a lock file. PostgreSQL needs nothing of that: several
processes may share the database, and migrations take an advisory lock.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from filelock import FileLock, Timeout
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage.base import StoreLocked

# How long a SQLite connection waits for another writer before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Execution option: a connection that only runs single reading statements. SQLite then sends no
# BEGIN at all (each statement is atomic on its own); PostgreSQL ignores it.
READ_ONLY = "modelbridge_read_only"

# Arbitrary constant naming our PostgreSQL advisory lock for migrations.
_MIGRATION_LOCK_KEY = 0x6D6F64656C62  # "modelb"


def resolve_url(url: str | URL) -> URL:
    """Parse a database URL; a relative SQLite path becomes absolute (immune to later chdir)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ValueError(
                "in-memory SQLite is not supported (one connection would be shared by every "
                "coroutine); use a file, e.g. sqlite+aiosqlite:///<tmp_path>/test.db"
            )
        return parsed.set(database=os.path.abspath(database))
    if backend != "postgresql":
        raise ValueError(
            f"unsupported database backend {backend!r}: use sqlite+aiosqlite or postgresql+asyncpg"
        )
    return parsed


def is_sqlite(url: URL) -> bool:
    """True for a SQLite URL: one process per file, and writes queue behind one writer."""
    return url.get_backend_name() == "sqlite"


def make_engine(url: URL) -> AsyncEngine:
    """The async engine for a resolved URL (aiosqlite or asyncpg), SQLite's settings installed."""
    # hide_parameters: a failed statement's error (and so the log) never carries the users'
    # text or anything else bound to it.
    engine = create_async_engine(url, hide_parameters=True)
    if is_sqlite(url):
        configure_sqlite(engine.sync_engine)
    return engine


def make_sqlite_thread_engine(url: URL) -> sa.Engine:
    """A plain (pysqlite) engine on the same file, for code that runs in the store's threads."""
    engine = sa.create_engine(url.set(drivername="sqlite"), hide_parameters=True)
    configure_sqlite(engine)
    return engine


def configure_sqlite(engine: sa.Engine) -> None:
    """Install SQLite's connection settings and BEGIN on an engine (or an async one's sync one)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module (it skips it before SELECT and DDL) so the
        # `begin` hook below controls transactions, as SQLAlchemy's SQLite docs advise.
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            return
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction cannot
        # fail half-way with SQLITE_BUSY when it upgrades from reader to writer.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_database_file(path: str) -> FileLock:
    """Create the file's directory and take `<path>.lock`, or raise StoreLocked at once.

    Blocking (file system); call it in a thread from async code.
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # thread_local=False: taken in one worker thread, released from another.
    lock = FileLock(path + ".lock", timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise StoreLocked(path) from None
    return lock


def take_migration_lock(conn: sa.Connection) -> None:
    """Inside the migration transaction: processes starting together upgrade one at a time.

    PostgreSQL only (released at commit); on SQLite the file lock already keeps others out.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
