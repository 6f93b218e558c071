"""Persistence behind a narrow interface: `Store` in `storage.base`, SQLAlchemy Core below it.

`await open_store(settings.database_url)` gives an open store with its migrations applied.
SQLAlchemy and Alembic are imported only when a store is made, not by `import storage.base`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.base import Store
    from storage.sql_store import SqlStore

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/modelbridge.db"


def create_store(
    url: str = DEFAULT_DATABASE_URL,
    *,
    clock: Callable[[], float] = time.time,
    on_write: Callable[[float], None] | None = None,
) -> SqlStore:
    """A store for the URL, not yet opened (SQLite via aiosqlite, or PostgreSQL via asyncpg);
    `on_write` is told each write's duration in seconds (the store-write metric)."""
    from storage.sql_store import SqlStore

    return SqlStore(url, clock=clock, on_write=on_write)


async def open_store(
    url: str = DEFAULT_DATABASE_URL, *, clock: Callable[[], float] = time.time
) -> Store:
    """Create and open a store: parent directory made, lock taken, migrations applied.

    Raises `storage.base.StoreLocked` when another process already uses the SQLite file.
    """
    store = create_store(url, clock=clock)
    await store.open()
    return store
