"""Migrating a database: a file already at the newest revision is left alone after one query,
any other is brought there, and an odd version table is left to Alembic to judge."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import storage.migrate
from storage.migrate import (
    HEAD_REVISION,
    MIGRATIONS_DIR,
    alembic_config,
    current_revision,
    stored_revision,
    upgrade_to_head,
)


def engine(tmp_path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")


def tables(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def test_a_new_database_is_brought_to_the_newest_revision(tmp_path: Path) -> None:
    with engine(tmp_path).begin() as connection:
        assert stored_revision(connection) is None and current_revision(connection) is None
        upgrade_to_head(connection)
        assert stored_revision(connection) == HEAD_REVISION == current_revision(connection)
        assert {"jobs", "messages", "button_tokens"} <= tables(connection)


def test_a_database_at_the_newest_revision_is_not_migrated_again(tmp_path: Path) -> None:
    with engine(tmp_path).begin() as connection:
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": HEAD_REVISION})
        upgrade_to_head(connection)
        # Had the migrations run, they would have created the tables.
        assert tables(connection) == {"alembic_version"}


def test_an_older_revision_is_upgraded(tmp_path: Path) -> None:
    with engine(tmp_path).begin() as connection:
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        upgrade_to_head(connection)  # an empty version table: nothing applied yet
        assert stored_revision(connection) == HEAD_REVISION
        assert "jobs" in tables(connection)


def test_several_recorded_revisions_are_left_to_alembic(tmp_path: Path) -> None:
    with engine(tmp_path).begin() as connection:
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        for version in (HEAD_REVISION, "0000"):
            connection.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})
        assert stored_revision(connection) is None


def test_the_config_finds_the_packaged_migrations_and_the_callers_connection(
        tmp_path: Path) -> None:
    config = alembic_config()
    assert config.get_main_option("script_location") == str(MIGRATIONS_DIR)
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert "connection" not in config.attributes
    with engine(tmp_path).connect() as connection:
        assert alembic_config(connection).attributes["connection"] is connection


def test_a_checkout_in_a_directory_with_a_percent_sign_still_migrates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    odd = tmp_path / "100%" / "migrations"
    monkeypatch.setattr(storage.migrate, "MIGRATIONS_DIR", odd)
    assert alembic_config().get_main_option("script_location") == str(odd)
