"""Alembic environment: runs on the store's own connection, or standalone from the alembic CLI."""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

from storage.schema import metadata


def _run(connection: sa.Connection) -> None:
    # Batch mode lets later migrations ALTER tables on SQLite (copy-and-move) as on PostgreSQL.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    from storage.engine import (
        is_sqlite,
        lock_database_file,
        make_engine,
        resolve_url,
        take_migration_lock,
    )

    resolved = resolve_url(url)
    # Like Store.open(): never migrate a SQLite file under a running bot.
    lock = lock_database_file(resolved.database or "") if is_sqlite(resolved) else None
    engine = make_engine(resolved)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(take_migration_lock)
            await conn.run_sync(_run)
    finally:
        await engine.dispose()
        if lock is not None:
            lock.release()


config = context.config
given = config.attributes.get("connection")
if given is not None:
    # Store.open(): the connection is inside its (write) transaction, which commits the upgrade.
    _run(given)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATABASE_URL (or sqlalchemy.url in alembic.ini)")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(_run_standalone(url))
