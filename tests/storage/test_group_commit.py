"""SQLite: writes arriving together share one commit, yet each stays all-or-nothing and durable."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from storage.base import (
    ButtonAction,
    ConversationKey,
    JobNotFound,
    JobRecord,
    StoredMessage,
    UsageEvent,
)
from storage.schema import button_tokens
from storage.sql_store import SqlStore
from tests.storage.conftest import ManualClock
from tests.storage.test_processes import run_python

# Group commit is how a SQLite store writes; PostgreSQL commits each write on its own.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def key(n: int) -> ConversationKey:
    return ConversationKey("telegram", f"chat{n}", "", "")


def turn(n: int) -> list[StoredMessage]:
    return [StoredMessage("user", f"q{n}", 1), StoredMessage("assistant", f"a{n}", 2)]


def spent(n: int) -> UsageEvent:
    return UsageEvent("telegram", "alice", f"chat{n}", "ask", "gpt", n, n)


@contextlib.contextmanager
def counting_commits() -> Iterator[list[int]]:
    """A one-item list holding how many transactions were committed meanwhile (any engine)."""
    count = [0]

    def on_commit(_conn: sa.Connection) -> None:
        count[0] += 1

    event.listen(sa.Engine, "commit", on_commit)
    try:
        yield count
    finally:
        event.remove(sa.Engine, "commit", on_commit)


async def token_payloads(store: SqlStore) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(sa.select(button_tokens.c.payload))).scalars().all())


async def test_concurrent_writes_all_land_in_fewer_commits(store: SqlStore) -> None:
    with counting_commits() as commits:
        await asyncio.gather(*(store.append_messages(key(n), turn(n)) for n in range(50)))
    for n in range(50):
        assert await store.load_context(key(n)) == turn(n)
    # They queued behind one writer and shared its commits instead of paying one each.
    assert 0 < commits[0] < 5


async def test_a_failing_write_is_undone_alone(store: SqlStore, clock: ManualClock) -> None:
    job = await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", "cat"))
    good = ButtonAction("mj", job.id, "alice", "telegram", "MJ::ok", clock.now + 60)
    # The second action names a job that does not exist: the foreign key refuses it, after
    # the first row of the same call was already inserted.
    bad = [good, ButtonAction("mj", 999_999, "alice", "telegram", "MJ::bad", clock.now + 60)]
    with counting_commits() as commits:
        results = await asyncio.gather(
            store.append_messages(key(1), turn(1)),
            store.issue_tokens(bad),
            store.append_messages(key(2), turn(2)),
            store.record_usage(spent(3)),
            store.issue_tokens([good]),
            return_exceptions=True,
        )
    assert isinstance(results[1], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 1 and isinstance(r, BaseException)] == []
    assert 0 < commits[0] < 5  # they did share a transaction
    assert await store.load_context(key(1)) == turn(1)
    assert await store.load_context(key(2)) == turn(2)
    assert (await store.usage_summary("telegram", "alice", 0))["calls"] == 1
    (token,) = results[4]  # type: ignore[misc]
    assert await store.resolve_token(token) == good
    assert await token_payloads(store) == ["MJ::ok"]  # nothing of the failed call


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


async def test_job_updates_in_a_burst_share_commits_and_a_missing_job_fails_alone(
    store: SqlStore,
) -> None:
    jobs = [
        await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", f"cat {n}"))
        for n in range(6)
    ]
    with counting_commits() as commits:
        outcomes = await asyncio.gather(
            *(store.save_progress(job.id, f"{10 * n}%", "") for n, job in enumerate(jobs)),
            store.save_progress(999_999, "50%", ""),
            return_exceptions=True,
        )
    assert isinstance(outcomes[-1], JobNotFound)
    assert [o.progress for o in outcomes[:-1] if isinstance(o, JobRecord)] == [
        f"{10 * n}%" for n in range(6)
    ]
    assert 0 < commits[0] < 7
    for n, job in enumerate(jobs):
        stored = await store.get_job(job.id)
        assert stored is not None and stored.progress == f"{10 * n}%"


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


async def test_a_write_cancelled_while_running_lands_whole_or_not_at_all(
    store: SqlStore,
) -> None:
    await store.append_messages(key(0), turn(0))
    running = asyncio.ensure_future(store.append_messages(key(0), turn(5)))
    for _ in range(3):
        await asyncio.sleep(0)  # its transaction is under way in the writer
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await store.append_messages(key(0), turn(6))
    assert await store.load_context(key(0)) in (
        turn(0) + turn(6),
        turn(0) + turn(5) + turn(6),
    )


async def test_appends_queued_around_a_reset_land_on_the_right_side_of_it(
    store: SqlStore,
) -> None:
    await store.append_messages(key(1), turn(0))
    await asyncio.gather(
        store.append_messages(key(1), turn(1)),
        store.reset_conversation(key(1)),
        store.append_messages(key(1), turn(2)),
    )
    assert await store.load_context(key(1)) == turn(2)
    await store.append_messages(key(1), turn(3))
    assert await store.load_context(key(1)) == turn(2) + turn(3)


async def lose_transaction_on_boom(store: SqlStore) -> None:
    """Usage with model "boom" makes SQLite roll back the whole transaction, as a full disk can."""
    async with store.engine.begin() as conn:
        await conn.exec_driver_sql(
            "CREATE TRIGGER boom BEFORE INSERT ON usage WHEN NEW.model = 'boom' "
            "BEGIN SELECT RAISE(ROLLBACK, 'boom'); END"
        )


async def test_a_write_that_makes_sqlite_drop_the_transaction_still_fails_alone(
    store: SqlStore,
) -> None:
    await lose_transaction_on_boom(store)
    for n in range(3):
        await store.append_messages(key(n), turn(n))
    boom = UsageEvent("telegram", "alice", "c", "ask", "boom", 1, 1)
    results = await asyncio.gather(
        store.append_messages(key(0), turn(10)),  # these queue and share one transaction...
        store.set_summary(key(9), "summary"),
        store.append_messages(key(1), turn(11)),
        store.record_usage(boom),  # ...which this one makes SQLite roll back whole
        store.append_messages(key(2), turn(12)),
        return_exceptions=True,
    )
    assert isinstance(results[3], IntegrityError) and "boom" in str(results[3])
    assert [r for i, r in enumerate(results) if i != 3] == [None] * 4
    for n in range(3):
        assert await store.load_context(key(n)) == turn(n) + turn(10 + n)
    assert await store.get_summary(key(9)) == "summary"
    assert (await store.usage_summary("telegram", "alice", 0))["calls"] == 0


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
            context = await store.load_context(
                ConversationKey("console", f"chat{w}", "", ""), max_messages=1_000_000
            )
            assert len(context) % 2 == 0  # every turn whole
            assert len(context) // 2 >= last + 1  # every reported turn there
            for i in range(len(context) // 2):
                assert context[2 * i].content == f"q{i}"
                assert context[2 * i + 1].content == f"a{i}"
