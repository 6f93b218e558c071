"""Apply the packaged Alembic migrations on an open connection (what `Store.open()` runs).

Alembic (with Mako and Pygments) costs a process about 10 MB of memory, so it is imported only
when there is something to migrate: a database already at `HEAD_REVISION` is checked with one
query.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

# Next to this file, so it is found the same from a checkout and from an installed wheel.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions; a test holds it to Alembic's own head, so a new
# migration cannot be shipped without it.
HEAD_REVISION = "0004"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config for our migrations, optionally bound to a connection env.py will use."""
    from alembic.config import Config

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
    if stored_revision(connection) == HEAD_REVISION:
        return
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def stored_revision(connection: sa.Connection) -> str | None:
    """The revision recorded in the database, read without Alembic; None when there is none."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    # Several rows mean branches, which we do not ship: leave that to Alembic.
    return str(versions[0][0]) if len(versions) == 1 else None


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at as Alembic reads it, None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped with this package, as Alembic finds it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
