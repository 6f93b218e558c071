"""Per-user preferences (/model, /language, /voice)."""

from __future__ import annotations

import asyncio

import pytest

from storage.base import UserPrefs
from storage.sql_store import SqlStore


async def test_unknown_user_has_defaults(store: SqlStore) -> None:
    assert await store.get_prefs("telegram", "42") == UserPrefs()


async def test_set_changes_only_the_given_fields(store: SqlStore) -> None:
    assert await store.set_prefs("telegram", "42", model="gpt-4o") == UserPrefs(model="gpt-4o")
    after = await store.set_prefs("telegram", "42", language="de", voice="nova")
    assert after == UserPrefs(model="gpt-4o", language="de", voice="nova")
    assert await store.get_prefs("telegram", "42") == after
    # None puts a field back to "use the default".
    reset = await store.set_prefs("telegram", "42", model=None)
    assert reset == UserPrefs(model=None, language="de", voice="nova")
    assert await store.set_prefs("telegram", "42") == reset


async def test_users_are_kept_apart_by_platform(store: SqlStore) -> None:
    await store.set_prefs("telegram", "42", model="a")
    await store.set_prefs("discord", "42", model="b")
    assert (await store.get_prefs("telegram", "42")).model == "a"
    assert (await store.get_prefs("discord", "42")).model == "b"


async def test_unknown_fields_are_refused(store: SqlStore) -> None:
    with pytest.raises(TypeError, match="colour"):
        await store.set_prefs("telegram", "42", colour="blue")
    assert await store.get_prefs("telegram", "42") == UserPrefs()


async def test_a_read_racing_a_change_never_brings_the_old_value_back(store: SqlStore) -> None:
    await store.set_prefs("telegram", "u1", model="old")
    await store.close()
    await store.open()  # nothing remembered: the next read goes to the database
    reading = asyncio.ensure_future(store.get_prefs("telegram", "u1"))
    await asyncio.sleep(0)  # the read is on its way to the database
    await store.set_prefs("telegram", "u1", model="new")
    await reading
    assert (await store.get_prefs("telegram", "u1")).model == "new"


async def test_prefs_survive_a_restart(store: SqlStore) -> None:
    await store.set_prefs("discord", "u2", language="de", voice="nova")
    await store.close()
    await store.open()
    assert await store.get_prefs("discord", "u2") == UserPrefs(None, "de", "nova")
