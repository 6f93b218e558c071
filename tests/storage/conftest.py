"""Fixtures for the store tests: each runs on a real SQLite file and on a real PostgreSQL server.

PostgreSQL is the server at $MODELBRIDGE_TEST_POSTGRES (default: postgres on 127.0.0.1:5432,
database `test`). The run makes a scratch database of its own there, gives every test an empty
schema in it, and drops it at the end; when the server does not answer, the PostgreSQL half of
the tests is skipped with the reason. A test module that is about SQLite alone (the file lock,
kill -9, group commit) overrides `backend` with "sqlite".
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.sql_store import SqlStore

POSTGRES_SERVER = os.environ.get(
    "MODELBRIDGE_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CONNECT_TIMEOUT_S = 3


class ManualClock:
    """Stands in for time.time(): tests move it instead of sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def run_admin(url: URL, *statements: str) -> None:
    """Run statements outside any transaction (CREATE/DROP DATABASE need that)."""
    engine = create_async_engine(
        url, isolation_level="AUTOCOMMIT", connect_args={"timeout": CONNECT_TIMEOUT_S}
    )
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.exec_driver_sql(statement)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL | str]:
    """This run's scratch database on the PostgreSQL server, or why there is none."""
    if not POSTGRES_SERVER:
        yield "MODELBRIDGE_TEST_POSTGRES is empty"
        return
    server = make_url(POSTGRES_SERVER)
    name = f"modelbridge_test_{os.getpid()}_{secrets.token_hex(4)}"
    where = server.render_as_string(hide_password=True)
    try:
        asyncio.run(run_admin(server, f"CREATE DATABASE {name}"))
    except Exception as exc:  # refused, timed out, or no right to create a database
        yield f"no PostgreSQL server to use at {where} ({exc})"
        return
    try:
        yield server.set(database=name)
    finally:
        asyncio.run(run_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "modelbridge.db"


@pytest.fixture
async def db_url(backend: str, db_path: Path, postgres_database: URL | str) -> str:
    """An empty database of the backend: a new SQLite file, or an emptied PostgreSQL schema."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{db_path}"
    if isinstance(postgres_database, str):
        pytest.skip(f"PostgreSQL half skipped: {postgres_database}")
    await run_admin(
        postgres_database, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public"
    )
    return postgres_database.render_as_string(hide_password=False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(db_url: str, clock: ManualClock) -> AsyncIterator[SqlStore]:
    store = SqlStore(db_url, clock=clock)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
