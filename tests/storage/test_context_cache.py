"""The in-memory context cache (SQLite): loads are served from memory and never go stale."""

from __future__ import annotations

import asyncio
import random

import pytest

from storage.base import ConversationKey, StoredMessage
from storage.context_cache import ContextCache
from storage.sql_store import SqlStore

# The cache exists where the store is the database's one writer: SQLite.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
KEY = ConversationKey("telegram", "42", "", "7")


def turn(text: str) -> StoredMessage:
    return StoredMessage("user", text, tokens=1)


def texts(turns: list[StoredMessage] | None) -> list[str] | None:
    return None if turns is None else [t.content for t in turns]


def test_a_filled_window_follows_committed_writes() -> None:
    cache = ContextCache(window=3)
    cache.fill(cache.ticket(KEY), [turn("a"), turn("b")], whole=True)
    assert texts(cache.get(KEY, 10)) == ["a", "b"]
    with cache.writing(KEY) as committed:
        committed += [turn("c"), turn("d")]
    # The window keeps the newest three and no longer knows the whole conversation.
    assert texts(cache.get(KEY, 3)) == ["b", "c", "d"]
    assert cache.get(KEY, 4) is None


def test_a_load_that_raced_a_write_is_not_remembered() -> None:
    cache = ContextCache()
    ticket = cache.ticket(KEY)  # the load starts reading...
    with cache.writing(KEY) as committed:  # ...an append commits meanwhile...
        committed.append(turn("new"))
    cache.fill(ticket, [turn("old")], whole=True)  # ...and what the load read is stale.
    assert cache.get(KEY, 10) is None


def test_nothing_is_served_or_filled_while_a_write_is_under_way() -> None:
    cache = ContextCache()
    cache.fill(cache.ticket(KEY), [turn("a")], whole=True)
    with cache.writing(KEY) as committed:
        assert cache.get(KEY, 10) is None
        cache.fill(cache.ticket(KEY), [turn("a")], whole=True)
        committed.append(turn("b"))
    assert texts(cache.get(KEY, 10)) == ["a", "b"]


def test_a_failed_write_forgets_the_scope() -> None:
    cache = ContextCache()
    cache.fill(cache.ticket(KEY), [turn("a")], whole=True)
    try:
        with cache.writing(KEY):
            raise RuntimeError("commit failed")
    except RuntimeError:
        pass
    assert cache.get(KEY, 10) is None


def test_least_recently_used_conversations_go_first_past_the_total() -> None:
    cache = ContextCache(window=10, total=4)
    keys = [ConversationKey("t", str(i)) for i in range(3)]
    for key in keys:
        cache.fill(cache.ticket(key), [turn("x"), turn("y")], whole=True)
    assert cache.get(keys[0], 5) is None
    assert texts(cache.get(keys[2], 5)) == ["x", "y"]


@SQLITE_ONLY
async def test_loads_racing_appends_and_resets_always_match_the_database(
    store: SqlStore, db_url: str
) -> None:
    rng = random.Random(7)
    written: list[str] = []

    async def append(i: int) -> None:
        await asyncio.sleep(rng.random() / 1000)
        await store.append_messages(KEY, [turn(f"t{i}")])
        written.append(f"t{i}")

    async def load() -> None:
        await asyncio.sleep(rng.random() / 1000)
        got = texts(await store.load_context(KEY, 500))
        assert got is not None and len(got) == len(set(got)), "a turn came back twice"

    await asyncio.gather(*(append(i) for i in range(60)), *(load() for _ in range(60)))
    from_memory = texts(await store.load_context(KEY, 500))
    await store.close()
    fresh = SqlStore(db_url)
    await fresh.open()
    try:
        from_file = texts(await fresh.load_context(KEY, 500))
    finally:
        await fresh.close()
        await store.open()
    assert from_memory == from_file
    assert from_file is not None and sorted(from_file) == sorted(written)

    await store.reset_conversation(KEY)
    assert await store.load_context(KEY) == []
    await store.append_messages(KEY, [turn("after reset")])
    assert texts(await store.load_context(KEY)) == ["after reset"]


def test_a_summary_is_served_until_a_write_makes_it_unknown() -> None:
    cache = ContextCache()
    assert cache.summary(KEY) is None
    cache.fill_summary(cache.ticket(KEY), "cats")
    assert cache.summary(KEY) == "cats"
    with cache.writing(KEY):
        assert cache.summary(KEY) is None  # under way: the file decides
        cache.summary_written(KEY, "dogs")
    assert cache.summary(KEY) == "dogs"
    try:
        with cache.writing(KEY):
            raise RuntimeError("commit failed")
    except RuntimeError:
        pass
    assert cache.summary(KEY) is None


def test_a_summary_read_that_raced_a_write_is_not_remembered() -> None:
    cache = ContextCache()
    ticket = cache.ticket(KEY)
    with cache.writing(KEY):
        pass
    cache.fill_summary(ticket, "stale")
    assert cache.summary(KEY) is None


def test_summaries_past_their_total_go_least_recently_used_first() -> None:
    cache = ContextCache(summary_total=250)
    keys = [ConversationKey("t", str(i)) for i in range(3)]
    for key in keys:
        cache.fill_summary(cache.ticket(key), "x" * 10)
    assert cache.summary(keys[0]) is None
    assert cache.summary(keys[2]) == "x" * 10


@SQLITE_ONLY
async def test_summaries_racing_resets_and_updates_always_match_the_database(
    store: SqlStore, db_url: str
) -> None:
    rng = random.Random(11)
    steps = ["set", "reset", "append", "get"] * 30
    rng.shuffle(steps)

    async def step(i: int, kind: str) -> None:
        await asyncio.sleep(rng.random() / 1000)
        if kind == "set":
            await store.set_summary(KEY, f"s{i}")
        elif kind == "reset":
            await store.reset_conversation(KEY)
        elif kind == "append":
            await store.append_messages(KEY, [turn(f"t{i}")])
        else:
            await store.get_summary(KEY)

    await asyncio.gather(*(step(i, kind) for i, kind in enumerate(steps)))
    from_memory = await store.get_summary(KEY)
    await store.close()
    fresh = SqlStore(db_url)
    await fresh.open()
    try:
        from_file = await fresh.get_summary(KEY)
    finally:
        await fresh.close()
        await store.open()
    assert from_memory == from_file

    await store.set_summary(KEY, "kept")
    assert await store.get_summary(KEY) == "kept"
    await store.reset_conversation(KEY)
    assert await store.get_summary(KEY) == ""
