"""Migrations: applied on a fresh file at open, a no-op on reopen, and in step with schema.py."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import storage.discord_interactions  # its table is part of the schema
import storage.migrate
from storage import open_store
from storage.base import ConversationKey, StoredMessage
from storage.engine import make_engine, resolve_url
from storage.migrate import HEAD_REVISION, current_revision, head_revision
from storage.schema import metadata
from storage.sql_store import SqlStore
from storage.telegram_updates import metadata as telegram_metadata

TABLES = {
    "users", "conversations", "messages", "jobs", "button_tokens", "text_requests", "usage",
    "chat_settings",
    "telegram_updates", "telegram_offsets",
    "discord_interactions",
}


async def table_names(store: SqlStore) -> set[str]:
    async with store.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


async def revision(store: SqlStore) -> str | None:
    async with store.engine.connect() as conn:
        return await conn.run_sync(current_revision)


async def test_fresh_file_gets_every_table_at_head(db_url: str, db_path: Path) -> None:
    assert not db_path.parent.exists()  # open() creates the directory too
    async with SqlStore(db_url) as store:
        assert await table_names(store) == TABLES | {"alembic_version"}
        assert await revision(store) == head_revision() == HEAD_REVISION


async def test_reopen_keeps_data_and_does_not_migrate_again(db_url: str) -> None:
    key = ConversationKey("console", "c")
    async with SqlStore(db_url) as store:
        await store.append_messages(key, [StoredMessage("user", "remember me")])
    async with SqlStore(db_url) as store:
        assert await revision(store) == HEAD_REVISION
        assert [m.content for m in await store.load_context(key)] == ["remember me"]
        async with store.engine.connect() as conn:
            versions = (await conn.execute(sa.text("SELECT * FROM alembic_version"))).all()
        assert len(versions) == 1


def test_the_head_the_store_checks_is_the_newest_shipped_migration() -> None:
    # A new migration with HEAD_REVISION left behind would leave existing databases unmigrated.
    assert head_revision() == HEAD_REVISION


OPEN_AND_REPORT = """
import asyncio, sys
from storage.engine import make_engine, resolve_url
from storage.sql_store import SqlStore

async def main():
    async with SqlStore(sys.argv[1]):
        pass
    print("alembic" in sys.modules, "mako" in sys.modules)

asyncio.run(main())
"""


def imports_alembic_to_open(db_url: str) -> bool:
    """Whether a fresh process that opens the store at `db_url` loads Alembic (or Mako)."""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", OPEN_AND_REPORT, db_url], cwd=root,
                         capture_output=True, text=True, check=True, timeout=60).stdout.split()
    return "True" in out


async def test_a_database_at_head_opens_without_loading_alembic(db_url: str) -> None:
    # Alembic with Mako and Pygments is ~10 MB of the bot's memory, needed only to migrate.
    assert await asyncio.to_thread(imports_alembic_to_open, db_url)  # a new file is migrated
    assert not await asyncio.to_thread(imports_alembic_to_open, db_url)
    async with SqlStore(db_url) as store:
        assert await revision(store) == HEAD_REVISION


async def test_migrations_match_the_tables_the_store_queries(store: SqlStore) -> None:
    # Every table the migrations make: the store's, and the Telegram intake's (its own file).
    everything = sa.MetaData()
    for table in (*metadata.tables.values(), *telegram_metadata.tables.values()):
        table.to_metadata(everything)

    def differences(conn: sa.Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), everything))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(differences) == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_pragmas_protect_every_connection(store: SqlStore) -> None:
    async with store.engine.connect() as conn:
        pragma: dict[str, Any] = {
            name: (await conn.execute(sa.text(f"PRAGMA {name}"))).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma["journal_mode"] == "wal"
    assert pragma["synchronous"] == 2  # FULL
    assert pragma["foreign_keys"] == 1
    assert pragma["busy_timeout"] >= 1000


async def test_relative_url_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = await open_store("sqlite+aiosqlite:///./data/modelbridge.db")
    try:
        os.chdir("/")  # a later chdir does not move the database
        await store.append_messages(ConversationKey("console", "c"), [StoredMessage("user", "x")])
    finally:
        await store.close()
    assert (tmp_path / "data" / "modelbridge.db").is_file()


def test_in_memory_sqlite_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="use a file"):
        SqlStore("sqlite+aiosqlite:///:memory:")


def test_repr_hides_the_password() -> None:
    store = SqlStore("postgresql+asyncpg://bot:s3cret-pw@db.example/modelbridge")
    assert "s3cret-pw" not in repr(store)
    assert "db.example" in repr(store)


BROKEN = """
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO no_such_table VALUES (1)")


def downgrade() -> None:
    pass
"""


async def test_a_failing_migration_leaves_nothing_behind(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations run in one transaction: a failure half-way keeps the database as it was."""
    scripts = tmp_path / "migrations"
    shutil.copytree(storage.migrate.MIGRATIONS_DIR, scripts)
    (scripts / "versions" / "9999_broken.py").write_text(BROKEN.format(head=HEAD_REVISION))
    monkeypatch.setattr(storage.migrate, "MIGRATIONS_DIR", scripts)

    with pytest.raises(sa.exc.DBAPIError, match="no_such_table"):
        await SqlStore(db_url).open()

    engine = make_engine(resolve_url(db_url))
    try:
        async with engine.connect() as conn:
            left = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        await engine.dispose()
    assert left == []  # not even 0001 or alembic_version

    monkeypatch.undo()
    async with SqlStore(db_url) as store:  # the lock was released; the shipped ones apply cleanly
        assert await table_names(store) == TABLES | {"alembic_version"}
        assert await revision(store) == HEAD_REVISION
