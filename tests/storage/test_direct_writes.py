"""Direct writes (SQLite): appends to known conversations, usage and button tokens run their whole
transaction in one call to the database thread, with the guarantees of every queued write."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.base import ButtonAction, JobNotFound, JobRecord, JobStatus, StoredMessage, UsageEvent
from storage.schema import button_tokens, usage
from storage.sql_store import SqlStore
from storage.write_queue import TransactionBroken
from tests.storage.conftest import ManualClock
from tests.storage.test_group_commit import commits, key, turn


def spent(n: int) -> UsageEvent:
    return UsageEvent("telegram", "alice", f"chat{n}", "ask", "gpt", n, n)


async def known(store: SqlStore, *ns: int) -> None:
    """Give each scope a conversation this process knows (later appends then go direct)."""
    for n in ns:
        await store.append_messages(key(n), turn(n))


async def token_payloads(store: SqlStore) -> list[str]:
    async with store.engine.connect() as conn:
        return list((await conn.execute(sa.select(button_tokens.c.payload))).scalars().all())


async def test_direct_turns_and_usage_are_read_back_after_reopening(
    db_url: str, clock: ManualClock
) -> None:
    async with SqlStore(db_url, clock=clock) as store:
        await known(store, 1)
        await store.append_messages(key(1), turn(2), spent(2))
        await store.record_usage(spent(3))
        await asyncio.gather(*(store.append_messages(key(1), turn(n)) for n in range(4, 8)))
    async with SqlStore(db_url, clock=clock) as store:
        assert await store.load_context(key(1)) == [m for n in (1, 2, 4, 5, 6, 7) for m in turn(n)]
        summary = await store.usage_summary("telegram", "alice", 0)
        assert (summary["calls"], summary["prompt_tokens"]) == (2, 5)


async def test_a_failing_direct_write_fails_alone_and_the_rest_share_a_commit(
    store: SqlStore, clock: ManualClock
) -> None:
    await known(store, 0, 1, 2)
    job = await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", "a cat"))
    before = commits(store)
    # The second action names a job that does not exist: refused after the first row went in.
    missing_job = [
        ButtonAction("mj", job.id, "alice", "telegram", "MJ::ok", clock.now + 60),
        ButtonAction("mj", 999_999, "alice", "telegram", "MJ::bad", clock.now + 60),
    ]
    results = await asyncio.gather(
        store.append_messages(key(0), turn(10)),  # alone: nobody else is writing
        store.append_messages(key(1), turn(11)),  # these four queue behind it
        store.issue_tokens(missing_job),
        store.record_usage(spent(5)),
        store.append_messages(key(2), turn(12), spent(6)),
        return_exceptions=True,
    )
    assert isinstance(results[2], IntegrityError)
    assert [r for i, r in enumerate(results) if i != 2] == [None] * 4
    assert commits(store) - before == 2
    for n in range(3):
        assert await store.load_context(key(n)) == turn(n) + turn(10 + n)
    assert (await store.usage_summary("telegram", "alice", 0))["calls"] == 2
    assert await token_payloads(store) == []


async def test_direct_and_engine_writes_queued_together_share_one_commit(
    store: SqlStore, clock: ManualClock
) -> None:
    await known(store, 0, 1, 2)
    before = commits(store)
    missing_job = [ButtonAction("mj", 424_242, "alice", "telegram", "MJ::bad", clock.now + 60)]
    results = await asyncio.gather(
        store.append_messages(key(0), turn(10)),
        store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", "a cat")),
        store.append_messages(key(1), turn(11)),
        store.issue_tokens(missing_job),
        store.record_usage(spent(5)),
        store.reset_conversation(key(2)),
        store.append_messages(key(2), turn(12)),
        return_exceptions=True,
    )
    assert isinstance(results[3], IntegrityError)
    assert isinstance(results[1], JobRecord)
    assert [r for i, r in enumerate(results) if i not in (1, 3)] == [None] * 5
    assert commits(store) - before == 2
    assert await store.load_context(key(0)) == turn(0) + turn(10)
    assert await store.load_context(key(1)) == turn(1) + turn(11)
    assert await store.load_context(key(2)) == turn(12)
    assert await store.get_job(results[1].id) == results[1]
    assert await token_payloads(store) == []


async def test_a_failed_direct_append_leaves_nothing_and_keeps_the_users_text_out_of_the_error(
    store: SqlStore,
) -> None:
    await known(store, 1)
    broken = [
        StoredMessage("user", "my secret question", 1),
        StoredMessage("assistant", None, 2),  # type: ignore[arg-type]
    ]
    with pytest.raises(IntegrityError) as failure:
        await store.append_messages(key(1), broken, spent(1))
    assert "my secret question" not in str(failure.value)
    assert await store.load_context(key(1)) == turn(1)
    assert (await store.usage_summary("telegram", "alice", 0))["calls"] == 0
    await store.append_messages(key(1), turn(2))
    assert await store.load_context(key(1)) == turn(1) + turn(2)


async def test_a_direct_write_cancelled_while_queued_leaves_nothing(store: SqlStore) -> None:
    await known(store, 0, 1, 2)
    first = asyncio.ensure_future(store.append_messages(key(0), turn(10)))
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(store.append_messages(key(1), turn(11)))
    after = asyncio.ensure_future(store.append_messages(key(2), turn(12)))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(first, after)
    assert waiting.cancelled()
    assert await store.load_context(key(0)) == turn(0) + turn(10)
    assert await store.load_context(key(1)) == turn(1)
    assert await store.load_context(key(2)) == turn(2) + turn(12)


async def test_a_direct_write_cancelled_while_running_lands_whole_or_not_at_all(
    store: SqlStore,
) -> None:
    await known(store, 0)
    running = asyncio.ensure_future(store.append_messages(key(0), turn(5)))
    await asyncio.sleep(0)  # its transaction is on its way to the database thread
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    await store.append_messages(key(0), turn(6))
    assert await store.load_context(key(0)) in (
        turn(0) + turn(6),
        turn(0) + turn(5) + turn(6),
    )


async def test_direct_writes_are_as_durable_as_every_other_write(store: SqlStore) -> None:
    direct = store._direct
    assert direct is not None, "SQLite stores write directly"
    driver = await direct._driver()

    def settings(conn: sqlite3.Connection) -> tuple[str, int]:
        (journal,) = conn.execute("PRAGMA journal_mode").fetchone()
        (synchronous,) = conn.execute("PRAGMA synchronous").fetchone()
        return journal, synchronous

    assert await driver.call(settings) == ("wal", 2)  # 2: FULL, a commit is fsynced


async def test_a_direct_write_runs_any_plain_statement_with_values_fixed_in_it(
    store: SqlStore,
) -> None:
    await store.record_usage(spent(1))
    direct, queue = store._direct, store._queue
    assert direct is not None and queue is not None
    # `units` is fixed in the statement (and goes through the Double type's processing);
    # `model` and the row come from the parameters.
    stmt = (
        usage.update()
        .where(usage.c.user_id == sa.bindparam("who"))
        .values(units=2.5, model=sa.bindparam("new_model"))
    )
    await queue.run_direct(direct.prepare([(stmt, {"who": "alice", "new_model": "gpt-x"})]))
    summary = await store.usage_summary("telegram", "alice", 0)
    assert summary["units"] == 2.5
    async with store.engine.connect() as conn:
        assert (await conn.execute(sa.select(usage.c.model))).scalars().all() == ["gpt-x"]

    returning = usage.insert().returning(usage.c.id)
    with pytest.raises(ValueError, match="RETURNING"):
        direct.prepare([(returning, {"platform": "telegram"})])
    with pytest.raises(ValueError, match="RETURNING"):
        direct.prepare_returning(stmt, {"who": "alice", "new_model": "gpt-x"})


async def test_jobs_created_and_updated_direct_read_back_as_the_engine_reads_them(
    db_url: str, clock: ManualClock
) -> None:
    buttons = [{"customId": "MJ::JOB::upsample::1::h", "emoji": "", "label": "U1"}]
    async with SqlStore(db_url, clock=clock) as store:
        job = await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", "cat"))
        assert job.status is JobStatus.SUBMITTING and job.delivered is False and job.id > 0
        done = await store.update_job(
            job.id, status=JobStatus.SUCCESS, progress="100%", buttons=buttons,
            result={"prompt": "cat --v 6"}, delivered=True,
        )
        assert done == await store.get_job(job.id)
    async with SqlStore(db_url, clock=clock) as store:
        again = await store.get_job(job.id)
    assert again == done
    assert (done.status, done.delivered, done.buttons) == (JobStatus.SUCCESS, True, buttons)
    assert done.result == {"prompt": "cat --v 6"} and done.updated_at == clock.now


async def test_job_updates_in_a_burst_share_commits_and_a_missing_job_fails_alone(
    store: SqlStore,
) -> None:
    jobs = [
        await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", f"cat {n}"))
        for n in range(6)
    ]
    before = commits(store)
    outcomes = await asyncio.gather(
        *(store.update_job(job.id, progress=f"{10 * n}%") for n, job in enumerate(jobs)),
        store.update_job(999_999, progress="50%"),
        return_exceptions=True,
    )
    assert isinstance(outcomes[-1], JobNotFound)
    assert [o.progress for o in outcomes[:-1] if isinstance(o, JobRecord)] == [
        f"{10 * n}%" for n in range(6)
    ]
    assert commits(store) - before < 7  # the updates queued behind the first shared COMMITs
    assert [(await store.get_job(job.id)).progress for job in jobs] == [  # type: ignore[union-attr]
        f"{10 * n}%" for n in range(6)
    ]


async def lose_transaction_on_boom(store: SqlStore) -> None:
    """Usage with model "boom" makes SQLite roll back the whole transaction, as a full disk can."""
    direct = store._direct
    assert direct is not None
    driver = await direct._driver()

    def trigger(conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TEMP TRIGGER boom BEFORE INSERT ON usage WHEN NEW.model = 'boom' "
            "BEGIN SELECT RAISE(ROLLBACK, 'boom'); END"
        )

    await driver.call(trigger)


def boom() -> UsageEvent:
    return UsageEvent("telegram", "alice", "c", "ask", "boom", 1, 1)


@pytest.mark.parametrize("with_engine_write", [False, True])
async def test_a_write_that_loses_the_transaction_fails_its_batch_and_spares_those_behind(
    store: SqlStore, with_engine_write: bool
) -> None:
    await known(store, 0, 1, 2)
    await lose_transaction_on_boom(store)
    # An engine write in the batch makes it a shared transaction with the direct writes in it.
    engine_write = store.set_summary(key(9), "summary") if with_engine_write else asyncio.sleep(0)
    results = await asyncio.gather(
        store.append_messages(key(0), turn(10)),  # alone
        engine_write,
        store.append_messages(key(1), turn(11)),  # in the batch, before the loss
        store.record_usage(boom()),
        store.append_messages(key(2), turn(12)),  # behind it: runs in the next batch
        return_exceptions=True,
    )
    assert results[0] is None and results[4] is None
    assert isinstance(results[2], TransactionBroken)
    assert isinstance(results[3], TransactionBroken)
    assert isinstance(results[3].__cause__, IntegrityError)
    if with_engine_write:
        assert isinstance(results[1], TransactionBroken)
    assert await store.load_context(key(0)) == turn(0) + turn(10)
    assert await store.load_context(key(1)) == turn(1)
    assert await store.load_context(key(2)) == turn(2) + turn(12)
    assert await store.get_summary(key(9)) == ""
    assert (await store.usage_summary("telegram", "alice", 0))["calls"] == 0
