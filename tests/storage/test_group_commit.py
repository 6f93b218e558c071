"""Writes that arrive together share one commit, yet each stays all-or-nothing and durable."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.base import ButtonAction, ConversationKey, JobRecord, StoredMessage, UsageEvent
from storage.schema import button_tokens
from storage.sql_store import SqlStore
from tests.storage.conftest import ManualClock
from tests.storage.test_processes import run_python


def key(n: int) -> ConversationKey:
    return ConversationKey("telegram", f"chat{n}", "", "")


def turn(n: int) -> list[StoredMessage]:
    return [StoredMessage("user", f"q{n}", 1), StoredMessage("assistant", f"a{n}", 2)]


def commits(store: SqlStore) -> int:
    queue = store._queue
    assert queue is not None, "SQLite stores queue their writes"
    return queue.commits


async def test_concurrent_writes_all_land_in_fewer_commits(store: SqlStore) -> None:
    before = commits(store)
    await asyncio.gather(*(store.append_messages(key(n), turn(n)) for n in range(50)))
    for n in range(50):
        assert await store.load_context(key(n)) == turn(n)
    # They queued behind one writer and shared its commits instead of paying one each.
    assert commits(store) - before < 50


async def test_a_failing_write_is_undone_alone(store: SqlStore, clock: ManualClock) -> None:
    job = await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", "cat"))
    good = ButtonAction("mj", job.id, "alice", "telegram", "MJ::ok", clock.now + 60)
    # The second action names a job that does not exist: the foreign key refuses it, after
    # the first row of the same call was already inserted.
    bad = [good, ButtonAction("mj", 999_999, "alice", "telegram", "MJ::bad", clock.now + 60)]
    before = commits(store)
    results = await asyncio.gather(
        store.append_messages(key(1), turn(1)),
        store.issue_tokens(bad),
        store.append_messages(key(2), turn(2)),
        store.record_usage(UsageEvent("telegram", "alice", "c", "ask", "gpt", 3, 4)),
        store.issue_tokens([good]),
        return_exceptions=True,
    )
    assert isinstance(results[1], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 1 and isinstance(r, BaseException)] == []
    assert commits(store) - before < 5  # they did share a transaction
    assert await store.load_context(key(1)) == turn(1)
    assert await store.load_context(key(2)) == turn(2)
    assert (await store.usage_summary("telegram", "alice", 0))["calls"] == 1
    (token,) = results[4]  # type: ignore[misc]
    assert await store.resolve_token(token) == good
    async with store.engine.connect() as conn:
        payloads = (await conn.execute(sa.select(button_tokens.c.payload))).scalars().all()
    assert payloads == ["MJ::ok"]  # nothing of the failed call, not even its first row


async def test_a_failing_first_write_does_not_stop_those_queued_behind_it(
    store: SqlStore, clock: ManualClock
) -> None:
    bad = [ButtonAction("mj", 424_242, "alice", "telegram", "MJ::bad", clock.now + 60)]
    first = asyncio.ensure_future(store.issue_tokens(bad))
    await asyncio.sleep(0)  # it holds the writer now; the appends queue behind it
    others = [asyncio.ensure_future(store.append_messages(key(n), turn(n))) for n in range(5)]
    with pytest.raises(IntegrityError):
        await first
    await asyncio.gather(*others)
    for n in range(5):
        assert await store.load_context(key(n)) == turn(n)


async def test_a_cancelled_write_leaves_nothing_and_blocks_nobody(store: SqlStore) -> None:
    first = asyncio.ensure_future(store.append_messages(key(0), turn(0)))
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(store.append_messages(key(1), turn(1)))
    after = asyncio.ensure_future(store.append_messages(key(2), turn(2)))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(first, after)
    assert waiting.cancelled()
    assert await store.load_context(key(0)) == turn(0)
    assert await store.load_context(key(1)) == []
    assert await store.load_context(key(2)) == turn(2)
    # The writer is free again.
    await store.append_messages(key(3), turn(3))
    assert await store.load_context(key(3)) == turn(3)


APPEND_CONCURRENTLY = """
import asyncio, sys
from storage import open_store
from storage.base import ConversationKey, StoredMessage

async def writer(store, w):
    key = ConversationKey("console", f"chat{w}", "", "")
    i = 0
    while True:
        await store.append_messages(key, [
            StoredMessage("user", f"q{i}", tokens=i),
            StoredMessage("assistant", f"a{i}", tokens=i),
        ])
        print(w, i, flush=True)  # only after the commit carrying it returned
        i += 1

async def main():
    store = await open_store(sys.argv[1])
    await asyncio.gather(*(writer(store, w) for w in range(8)))

asyncio.run(main())
"""


async def test_kill_9_loses_no_write_reported_from_a_shared_commit(
    db_url: str, tmp_path: Path
) -> None:
    child = await run_python(APPEND_CONCURRENTLY, db_url, cwd=tmp_path)
    assert child.stdout is not None
    reported: dict[int, int] = {}
    for _ in range(400):
        line = await child.stdout.readline()
        assert line, (await child.stderr.read()).decode() if child.stderr else "child died"
        w, i = map(int, line.split())
        assert i == reported.get(w, -1) + 1
        reported[w] = i
    child.send_signal(signal.SIGKILL)
    for tail in (await child.stdout.read()).decode().splitlines():
        if len(tail.split()) == 2:  # the kill may cut the last line short
            w, i = map(int, tail.split())
            reported[w] = i
    assert await child.wait() == -signal.SIGKILL

    async with SqlStore(db_url) as store:
        async with store.engine.connect() as conn:
            check = (await conn.execute(sa.text("PRAGMA integrity_check"))).scalars().all()
        assert check == ["ok"]
        for w, last in reported.items():
            context = await store.load_context(key_of(w), max_messages=1_000_000)
            assert len(context) % 2 == 0  # every turn whole
            assert len(context) // 2 >= last + 1  # every reported turn there
            for i in range(len(context) // 2):
                assert context[2 * i].content == f"q{i}"
                assert context[2 * i + 1].content == f"a{i}"


def key_of(w: int) -> ConversationKey:
    return ConversationKey("console", f"chat{w}", "", "")


async def test_appends_queued_around_a_reset_land_on_the_right_side_of_it(
    store: SqlStore,
) -> None:
    await store.append_messages(key(1), turn(0))  # the conversation exists and is known
    await asyncio.gather(
        store.append_messages(key(1), turn(1)),
        store.reset_conversation(key(1)),
        store.append_messages(key(1), turn(2)),
    )
    assert await store.load_context(key(1)) == turn(2)
    await store.append_messages(key(1), turn(3))
    assert await store.load_context(key(1)) == turn(2) + turn(3)


async def test_a_failed_first_append_leaves_the_scope_usable(store: SqlStore) -> None:
    broken = [StoredMessage("user", "q", 1), StoredMessage("assistant", None, 2)]  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        await store.append_messages(key(7), broken)  # created the conversation, rolled back
    await store.append_messages(key(7), turn(7))
    assert await store.load_context(key(7)) == turn(7)
