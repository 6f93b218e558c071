"""Conversation context: what a chat remembers, in which order, and what /reset forgets."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from storage.base import ConversationKey, StoredMessage
from storage.conversations import LOAD_CONTEXT
from storage.schema import conversations
from storage.sql_store import SqlStore

ALICE = ConversationKey("telegram", "chat-1", "", "alice")


def turn(i: int) -> list[StoredMessage]:
    return [
        StoredMessage("user", f"question {i}", tokens=i, image_count=i % 2),
        StoredMessage("assistant", f"answer {i}", tokens=2 * i),
    ]


async def test_a_turn_round_trips_with_every_field(store: SqlStore) -> None:
    await store.append_messages(ALICE, [StoredMessage("system", "be brief")])
    await store.append_messages(
        ALICE,
        [
            StoredMessage("user", "what is on this photo? 🐱", tokens=12, image_count=2),
            StoredMessage("assistant", "a cat", tokens=3),
        ],
    )
    assert await store.load_context(ALICE) == [
        StoredMessage("system", "be brief"),
        StoredMessage("user", "what is on this photo? 🐱", tokens=12, image_count=2),
        StoredMessage("assistant", "a cat", tokens=3),
    ]


async def test_unknown_scope_has_empty_context(store: SqlStore) -> None:
    assert await store.load_context(ALICE) == []
    assert await store.get_summary(ALICE) == ""


async def test_context_is_the_newest_n_oldest_first(store: SqlStore) -> None:
    for i in range(30):
        await store.append_messages(ALICE, turn(i))
    newest = await store.load_context(ALICE, max_messages=5)
    assert [m.content for m in newest] == [
        "answer 27",
        "question 28",
        "answer 28",
        "question 29",
        "answer 29",
    ]
    assert len(await store.load_context(ALICE, max_messages=1000)) == 60
    assert await store.load_context(ALICE, max_messages=0) == []


async def test_scopes_do_not_see_each_other(store: SqlStore) -> None:
    bob = ConversationKey("telegram", "chat-1", "", "bob")
    shared = ConversationKey("telegram", "chat-1")
    thread = ConversationKey("telegram", "chat-1", "topic-7", "alice")
    discord = ConversationKey("discord", "chat-1", "", "alice")
    for n, key in enumerate([ALICE, bob, shared, thread, discord]):
        await store.append_messages(key, [StoredMessage("user", f"hello {n}")])
    for n, key in enumerate([ALICE, bob, shared, thread, discord]):
        assert [m.content for m in await store.load_context(key)] == [f"hello {n}"]


async def test_reset_starts_a_fresh_context_and_keeps_the_old_one(store: SqlStore) -> None:
    await store.append_messages(ALICE, turn(1))
    await store.set_summary(ALICE, "talked about cats")
    await store.reset_conversation(ALICE)

    assert await store.load_context(ALICE) == []
    assert await store.get_summary(ALICE) == ""
    await store.append_messages(ALICE, turn(2))
    assert [m.content for m in await store.load_context(ALICE)] == ["question 2", "answer 2"]

    async with store.engine.connect() as conn:
        kept = (await conn.execute(sa.text("SELECT count(*) FROM messages"))).scalar_one()
        count = sa.select(sa.func.count()).select_from(conversations)
        total = (await conn.execute(count)).scalar_one()
        active = (await conn.execute(count.where(conversations.c.active))).scalar_one()
    assert kept == 4
    assert (total, active) == (2, 1)


async def test_reset_of_an_unknown_scope_is_harmless(store: SqlStore) -> None:
    await store.reset_conversation(ALICE)
    await store.reset_conversation(ALICE)
    assert await store.load_context(ALICE) == []


async def test_summary_round_trips_and_is_replaced(store: SqlStore) -> None:
    await store.set_summary(ALICE, "first")
    await store.set_summary(ALICE, "second")
    assert await store.get_summary(ALICE) == "second"
    await store.append_messages(ALICE, turn(1))
    assert await store.get_summary(ALICE) == "second"  # same conversation


async def test_a_failing_append_stores_none_of_its_turns(store: SqlStore) -> None:
    broken = StoredMessage("assistant", None)  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        await store.append_messages(ALICE, [StoredMessage("user", "lost question"), broken])
    assert await store.load_context(ALICE) == []
    await store.append_messages(ALICE, turn(1))  # the store is still usable
    assert len(await store.load_context(ALICE)) == 2


async def test_concurrent_appends_lose_no_turn_and_keep_pairs_together(store: SqlStore) -> None:
    await asyncio.gather(*(store.append_messages(ALICE, turn(i)) for i in range(60)))
    context = await store.load_context(ALICE, max_messages=1000)
    assert len(context) == 120
    pairs = list(zip(context[::2], context[1::2], strict=True))
    assert all(q.content.replace("question", "answer") == a.content for q, a in pairs)
    assert sorted(int(q.content.split()[1]) for q, _ in pairs) == list(range(60))


async def test_concurrent_first_appends_share_one_conversation(store: SqlStore) -> None:
    keys = [ConversationKey("discord", f"chat-{n % 3}") for n in range(30)]
    await asyncio.gather(
        *(store.append_messages(key, [StoredMessage("user", "hi")]) for key in keys)
    )
    for n in range(3):
        assert len(await store.load_context(ConversationKey("discord", f"chat-{n}"))) == 10
    async with store.engine.connect() as conn:
        count = (await conn.execute(sa.text("SELECT count(*) FROM conversations"))).scalar_one()
    assert count == 3


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's plan; PostgreSQL's depends on size
async def test_context_load_is_one_indexed_query(store: SqlStore) -> None:
    """Loading the newest N never scans history: both steps are index searches."""
    await store.append_messages(ALICE, turn(1))
    stmt = LOAD_CONTEXT.params(
        scope_platform="telegram",
        scope_chat_id="chat-1",
        scope_thread_id="",
        scope_user_id="alice",
        max_messages=50,
    )
    sql = str(stmt.compile(store.engine.sync_engine, compile_kwargs={"literal_binds": True}))
    async with store.engine.connect() as conn:
        plan = [row[-1] for row in (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))]
    assert any("SEARCH messages USING INDEX ix_messages_conversation_id_id" in p for p in plan)
    assert any("SEARCH conversations USING INDEX ux_conversations_active_scope" in p for p in plan)
    assert not any(p.startswith("SCAN") or "TEMP B-TREE" in p for p in plan), plan


async def test_cancelled_appends_leave_whole_turns_and_a_working_store(store: SqlStore) -> None:
    tasks = [asyncio.create_task(store.append_messages(ALICE, turn(i))) for i in range(40)]
    await asyncio.sleep(0)
    for task in tasks[::3]:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    landed = sum(1 for r in results if r is None)
    assert 0 < landed < 40

    context = await store.load_context(ALICE, max_messages=1000)
    questions = [m for m in context if m.role == "user"]
    assert len(context) == 2 * len(questions)
    assert len(questions) >= landed  # a cancel may come after the commit, never between turns
    for q, a in zip(context[::2], context[1::2], strict=True):
        assert q.content.replace("question", "answer") == a.content
    await store.append_messages(ALICE, turn(99))
    assert (await store.load_context(ALICE, max_messages=1))[0].content == "answer 99"
