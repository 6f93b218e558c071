"""Apply the packaged Alembic migrations on an open connection (what `Store.open()` runs)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

# Next to this file, so it is found the same from a checkout and from an installed wheel.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config for our migrations, optionally bound to a connection env.py will use."""
    config = Config()
    # ConfigParser interpolates "%", which a directory name may contain.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: sa.Connection) -> None:
    """Bring the schema to the newest revision; a no-op when it is there already.

    Runs inside the caller's transaction (via `AsyncConnection.run_sync`), so a failed upgrade
    leaves nothing half-applied on backends with transactional DDL (SQLite, PostgreSQL).
    """
    command.upgrade(alembic_config(connection), "head")


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at, None before the first migration."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this package."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
