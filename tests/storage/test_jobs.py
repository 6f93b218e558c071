"""Midjourney jobs: recorded before submit, updated as the upstream reports, found again later."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
import sqlalchemy as sa

from storage.base import JobNotFound, JobRecord, JobStatus
from storage.schema import jobs
from storage.sql_store import SqlStore
from tests.storage.conftest import ManualClock

BUTTONS = [
    {"customId": "MJ::JOB::upsample::1::abc", "emoji": "", "label": "U1"},
    {"customId": "MJ::JOB::reroll::0::abc::SOLO", "emoji": "🔄", "label": ""},
]


def new_job(prompt: str = "a cat in a hat", **fields: object) -> JobRecord:
    return JobRecord(
        id=0,
        platform="discord",
        chat_id="chan-1",
        thread_id="",
        owner_id="alice",
        kind="imagine",
        prompt=prompt,
        **fields,  # type: ignore[arg-type]
    )


async def test_create_assigns_an_id_and_timestamps(store: SqlStore, clock: ManualClock) -> None:
    job = await store.create_job(new_job())
    assert job.id > 0
    assert job.status is JobStatus.SUBMITTING
    assert job.created_at == job.updated_at == clock.now
    assert await store.get_job(job.id) == job
    second = await store.create_job(new_job("a dog"))
    assert second.id > job.id


async def test_every_field_round_trips(store: SqlStore) -> None:
    full = new_job(
        "黒猫, watercolor --ar 16:9",
        status=JobStatus.PENDING,
        upstream_id="1717171717171",
        parent_upstream_id="1616161616161",
        message_id="msg-9",
        progress="46%",
        image_url="https://gw.example/mj/image/1717171717171",
        fail_reason="",
        buttons=BUTTONS,
        result={"finalPrompt": "black cat, watercolor", "seed": 42, "nested": {"a": [1, 2]}},
        delivered=True,
        created_at=100.5,
        updated_at=200.25,
        next_poll_at=300.125,
    )
    stored = await store.create_job(full)
    full.id = stored.id
    assert stored == full
    assert await store.get_job(stored.id) == full


async def test_update_changes_fields_and_stamps_updated_at(
    store: SqlStore, clock: ManualClock
) -> None:
    job = await store.create_job(new_job())
    clock.advance(5)
    updated = await store.update_job(
        job.id,
        status=JobStatus.SUCCESS,
        upstream_id="42",
        progress="100%",
        buttons=BUTTONS,
        result={"finalPrompt": "x"},
    )
    assert updated.status is JobStatus.SUCCESS
    assert updated.buttons == BUTTONS
    assert updated.result == {"finalPrompt": "x"}
    assert updated.updated_at == clock.now
    assert updated.created_at == job.created_at
    assert await store.get_job(job.id) == updated

    explicit = await store.update_job(job.id, updated_at=7.0, status="failure")
    assert explicit.updated_at == 7.0
    assert explicit.status is JobStatus.FAILURE


async def test_update_refuses_unknown_fields_and_ids(store: SqlStore) -> None:
    job = await store.create_job(new_job())
    with pytest.raises(TypeError, match="colour"):
        await store.update_job(job.id, colour="red")
    with pytest.raises(TypeError, match="id"):
        await store.update_job(job.id, id=99)
    with pytest.raises(ValueError):
        await store.update_job(job.id, status="half-done")
    with pytest.raises(JobNotFound):
        await store.update_job(job.id + 1000, progress="1%")
    assert await store.get_job(job.id) == job


async def test_missing_jobs_are_none(store: SqlStore) -> None:
    assert await store.get_job(12345) is None


async def test_list_jobs_by_status_oldest_first(store: SqlStore) -> None:
    a = await store.create_job(new_job("a", status=JobStatus.PENDING))
    await store.create_job(new_job("b", status=JobStatus.SUCCESS))
    c = await store.create_job(new_job("c", status=JobStatus.SUBMITTING))
    d = await store.create_job(new_job("d", status=JobStatus.PENDING))
    listed = await store.list_jobs([JobStatus.PENDING, JobStatus.SUBMITTING])
    assert [j.id for j in listed] == [a.id, c.id, d.id]
    assert [j.id for j in await store.list_jobs([JobStatus.PENDING], limit=1)] == [a.id]
    assert await store.list_jobs([]) == []
    assert await store.list_jobs([JobStatus.MODAL]) == []


async def test_list_undelivered_is_finished_and_not_delivered(store: SqlStore) -> None:
    ok = await store.create_job(new_job("ok", status=JobStatus.SUCCESS))
    await store.create_job(new_job("sent", status=JobStatus.SUCCESS, delivered=True))
    failed = await store.create_job(new_job("failed", status=JobStatus.FAILURE))
    lost = await store.create_job(new_job("lost", status=JobStatus.UNKNOWN))
    await store.create_job(new_job("running", status=JobStatus.PENDING))
    assert [j.id for j in await store.list_undelivered()] == [ok.id, failed.id, lost.id]
    await store.update_job(failed.id, delivered=True)
    assert [j.id for j in await store.list_undelivered()] == [ok.id, lost.id]


async def test_claim_returns_due_pending_jobs_most_overdue_first(store: SqlStore) -> None:
    late = await store.create_job(new_job("late", status=JobStatus.PENDING, next_poll_at=50.0))
    early = await store.create_job(new_job("early", status=JobStatus.PENDING, next_poll_at=10.0))
    await store.create_job(new_job("future", status=JobStatus.PENDING, next_poll_at=500.0))
    await store.create_job(new_job("done", status=JobStatus.SUCCESS, next_poll_at=0.0))
    await store.create_job(new_job("modal", status=JobStatus.MODAL, next_poll_at=0.0))

    assert [j.id for j in await store.claim_jobs_for_poll(100.0, 10)] == [early.id, late.id]
    assert [j.id for j in await store.claim_jobs_for_poll(100.0, 1)] == [early.id]
    # A plain claim only reads: asking again gives the same jobs.
    assert [j.id for j in await store.claim_jobs_for_poll(100.0, 10)] == [early.id, late.id]
    assert [j.prompt for j in await store.claim_jobs_for_poll(500.0, 10)] == [
        "early",
        "late",
        "future",
    ]


async def test_claim_with_lease_hides_jobs_until_it_runs_out(store: SqlStore) -> None:
    job = await store.create_job(new_job(status=JobStatus.PENDING, next_poll_at=10.0))
    claimed = await store.claim_jobs_for_poll(100.0, 10, lease_s=30.0)
    assert [(j.id, j.next_poll_at) for j in claimed] == [(job.id, 130.0)]
    assert await store.claim_jobs_for_poll(120.0, 10, lease_s=30.0) == []
    stored = await store.get_job(job.id)
    assert stored is not None and stored.next_poll_at == 130.0
    assert [j.id for j in await store.claim_jobs_for_poll(130.0, 10, lease_s=30.0)] == [job.id]


# The poll claim exists for several processes sharing one PostgreSQL database (issue 11): each
# process's tracker claims the due jobs it will poll, and no job is polled by two.
POSTGRES_ONLY = pytest.mark.parametrize("backend", ["postgresql"])


@POSTGRES_ONLY
async def test_two_processes_claiming_at_once_never_get_the_same_job(
    db_url: str, clock: ManualClock
) -> None:
    async with SqlStore(db_url, clock=clock) as first, SqlStore(db_url, clock=clock) as second:
        created = [
            await first.create_job(new_job(f"job {n}", status=JobStatus.PENDING, next_poll_at=10.0))
            for n in range(40)
        ]
        claims = await asyncio.gather(
            *(store.claim_jobs_for_poll(100.0, 7, lease_s=30.0) for store in [first, second] * 5)
        )
        claimed = [job.id for claim in claims for job in claim]
        assert len(claimed) == len(set(claimed)), "a job was claimed twice"
        assert sorted(claimed) == [job.id for job in created]  # 10 claims of 7: all taken once
        assert await second.claim_jobs_for_poll(100.0, 10, lease_s=30.0) == []


@POSTGRES_ONLY
async def test_a_job_another_process_is_claiming_is_skipped_without_waiting(
    db_url: str, clock: ManualClock
) -> None:
    async with SqlStore(db_url, clock=clock) as first, SqlStore(db_url, clock=clock) as second:
        busy = await first.create_job(new_job("busy", status=JobStatus.PENDING, next_poll_at=1.0))
        free = await first.create_job(new_job("free", status=JobStatus.PENDING, next_poll_at=2.0))
        async with second.engine.connect() as conn:  # the other process, mid-claim
            lock = sa.select(jobs.c.id).where(jobs.c.id == busy.id).with_for_update()
            await conn.execute(lock)
            claimed = await asyncio.wait_for(first.claim_jobs_for_poll(100.0, 10, lease_s=30.0), 5)
            assert [job.id for job in claimed] == [free.id]
            await conn.rollback()
        # Its claim gone without a lease (a crash), the job is due again for anyone.
        assert [job.id for job in await second.claim_jobs_for_poll(100.0, 10, lease_s=30.0)] == [
            busy.id
        ]


async def test_a_users_job_list_is_theirs_only_newest_first(store: SqlStore) -> None:
    first = await store.create_job(new_job("one"))
    await store.create_job(dataclasses.replace(new_job("bob's"), owner_id="bob"))
    await store.create_job(dataclasses.replace(new_job("elsewhere"), platform="telegram"))
    second = await store.create_job(new_job("two"))
    listed = await store.list_user_jobs("discord", "alice")
    assert [j.id for j in listed] == [second.id, first.id]
    assert [j.id for j in await store.list_user_jobs("discord", "alice", limit=1)] == [second.id]


async def test_the_child_an_action_produced_is_found_unless_it_failed(store: SqlStore) -> None:
    def child(custom_id: str, **fields: object) -> JobRecord:
        job = new_job(parent_upstream_id="P1", result={"custom_id": custom_id}, **fields)
        return dataclasses.replace(job, kind="action")

    u1 = await store.create_job(child("MJ::JOB::upsample::1::abc", status=JobStatus.PENDING))
    await store.create_job(child("MJ::JOB::upsample::2::abc", status=JobStatus.FAILURE))
    found = await store.find_child_job("P1", "MJ::JOB::upsample::1::abc")
    assert found is not None and found.id == u1.id
    # A failed action is refunded: pressing it again runs it again.
    assert await store.find_child_job("P1", "MJ::JOB::upsample::2::abc") is None
    assert await store.find_child_job("P2", "MJ::JOB::upsample::1::abc") is None
