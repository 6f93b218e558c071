"""Midjourney jobs: recorded before submit, updated as the upstream reports, found again later."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest
import sqlalchemy as sa

from storage.base import JobButton, JobFinish, JobNotFound, JobRecord, JobResult, JobStatus
from storage.schema import jobs
from storage.sql_store import SqlStore
from tests.storage.conftest import ManualClock

BUTTONS = (
    JobButton("MJ::JOB::upsample::1::abc", label="U1"),
    JobButton("MJ::JOB::reroll::0::abc::SOLO", emoji="🔄"),
)


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
        result=JobResult(
            label="V2",
            custom_id="MJ::JOB::variation::2::abc",
            image_count=3,
            final_prompt="black cat, watercolor 🐈",
            description="/imagine black cat",
            action="VARIATION",
            deadline_passed=True,
        ),
        delivered=True,
        created_at=100.5,
        updated_at=200.25,
        next_poll_at=300.125,
    )
    stored = await store.create_job(full)
    full.id = stored.id
    assert stored == full
    assert await store.get_job(stored.id) == full


async def test_a_job_goes_from_submit_to_delivery_through_named_writes(
    store: SqlStore, clock: ManualClock
) -> None:
    job = await store.create_job(new_job(result=JobResult(label="U1", custom_id="MJ::x")))
    clock.advance(5)
    pending = await store.set_job_upstream(job.id, "1717", JobStatus.PENDING)
    assert (pending.status, pending.upstream_id, pending.updated_at) == (
        JobStatus.PENDING,
        "1717",
        clock.now,
    )
    assert pending.created_at == job.created_at
    moved = await store.save_progress(job.id, "46%", "https://gw/preview.png", "msg-2")
    assert (moved.progress, moved.image_url, moved.message_id) == (
        "46%",
        "https://gw/preview.png",
        "msg-2",
    )
    # Progress with no message of its own keeps the message it has.
    progressed = await store.save_progress(job.id, "80%", "")
    assert progressed.message_id == "msg-2"
    finish = JobFinish(
        JobStatus.SUCCESS,
        progress="100%",
        image_url="https://gw/final.png",
        buttons=BUTTONS,
        result=JobResult(label="U1", custom_id="MJ::x", final_prompt="a cat --v 7"),
    )
    finished = await store.finish_job(job.id, finish)
    assert finished == finish.applied_to(progressed)  # what the tracker shows is what is stored
    assert (finished.status, finished.buttons, finished.delivered) == (
        JobStatus.SUCCESS,
        BUTTONS,
        False,
    )
    assert finished.result == JobResult(label="U1", custom_id="MJ::x", final_prompt="a cat --v 7")
    assert [j.id for j in await store.list_undelivered()] == [job.id]
    delivered = await store.mark_delivered(job.id, "msg-3")
    assert (delivered.delivered, delivered.message_id) == (True, "msg-3")
    assert await store.list_undelivered() == []
    assert await store.get_job(job.id) == delivered


async def test_a_finish_changes_only_what_it_names(store: SqlStore) -> None:
    job = await store.create_job(
        new_job(status=JobStatus.PENDING, progress="93%", image_url="https://gw/p.png")
    )
    failed = await store.finish_job(
        job.id, JobFinish(JobStatus.FAILURE, fail_reason="banned prompt"), delivered=True
    )
    assert (failed.status, failed.fail_reason, failed.delivered) == (
        JobStatus.FAILURE,
        "banned prompt",
        True,
    )
    assert (failed.progress, failed.image_url, failed.buttons) == ("93%", "https://gw/p.png", ())
    assert failed.message_id == job.message_id


async def test_the_other_named_writes(store: SqlStore) -> None:
    job = await store.create_job(new_job(status=JobStatus.PENDING, upstream_id="9"))
    assert (await store.mark_modal(job.id)).status is JobStatus.MODAL
    assert (await store.set_job_prompt(job.id, "a blue fox")).prompt == "a blue fox"
    assert (await store.set_job_message(job.id, "msg-7")).message_id == "msg-7"


async def test_writes_to_a_missing_job_raise_and_change_nothing(store: SqlStore) -> None:
    job = await store.create_job(new_job())
    missing = job.id + 1000
    with pytest.raises(JobNotFound):
        await store.save_progress(missing, "1%", "")
    with pytest.raises(JobNotFound):
        await store.finish_job(missing, JobFinish(JobStatus.UNKNOWN))
    with pytest.raises(JobNotFound):
        await store.mark_delivered(missing)
    assert await store.get_job(job.id) == job


async def test_a_row_written_in_the_first_shape_still_loads(store: SqlStore) -> None:
    """Rows stored before the records were typed: upstream nulls, keys in the old spelling,
    keys the bot never wrote, and an empty row."""
    done = await store.create_job(new_job("old", status=JobStatus.SUCCESS))
    blend = await store.create_job(new_job("blend", status=JobStatus.FAILURE))
    old_buttons = (
        '[{"customId":"MJ::JOB::upsample::1::abc","emoji":null,"label":"U1"},'
        '{"customId":"MJ::JOB::reroll::0::abc::SOLO","emoji":"🔄","label":null},'
        '{"customId":"MJ::JOB::variation::1::abc"}]'
    )
    old_result = (
        '{"label":"🔄","custom_id":"MJ::JOB::reroll::0::abc::SOLO","final_prompt":"a cat",'
        '"action":"REROLL","description":"/imagine a cat","seed":42}'
    )
    async with store.engine.begin() as conn:
        await conn.execute(
            jobs.update().where(jobs.c.id == done.id).values(buttons=old_buttons, result=old_result)
        )
        await conn.execute(
            jobs.update()
            .where(jobs.c.id == blend.id)
            .values(buttons="[]", result='{"count":3,"deadline":true}')
        )
    loaded = await store.get_job(done.id)
    assert loaded is not None
    assert loaded.buttons == (
        JobButton("MJ::JOB::upsample::1::abc", label="U1"),
        JobButton("MJ::JOB::reroll::0::abc::SOLO", emoji="🔄"),
        JobButton("MJ::JOB::variation::1::abc"),
    )
    assert loaded.result == JobResult(
        label="🔄",
        custom_id="MJ::JOB::reroll::0::abc::SOLO",
        final_prompt="a cat",
        action="REROLL",
        description="/imagine a cat",
    )
    old_blend = await store.get_job(blend.id)
    assert old_blend is not None
    assert old_blend.result == JobResult(image_count=3, deadline_passed=True)
    # Written back, they keep the first shape's keys (a rollback would read them too).
    await store.mark_delivered(blend.id)
    async with store.engine.connect() as conn:
        stored = (
            await conn.execute(sa.select(jobs.c.result).where(jobs.c.id == blend.id))
        ).scalar_one()
    assert json.loads(stored) == {"count": 3, "deadline": True}


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
    await store.mark_delivered(failed.id)
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


async def test_a_held_job_is_not_claimed_while_its_lease_is_renewed(store: SqlStore) -> None:
    job = await store.create_job(new_job())
    held = await store.set_job_upstream(job.id, "1717", JobStatus.PENDING, poll_lease_until=130.0)
    assert held.next_poll_at == 130.0
    assert await store.claim_jobs_for_poll(120.0, 10, lease_s=30.0) == []
    await store.renew_poll_leases([job.id, job.id + 1000], 160.0)
    assert await store.claim_jobs_for_poll(150.0, 10, lease_s=30.0) == []
    # Its process stopped renewing: once the lease runs out, another claims it.
    assert [j.id for j in await store.claim_jobs_for_poll(160.0, 10, lease_s=30.0)] == [job.id]
    # A finished job keeps what its finish wrote.
    await store.finish_job(job.id, JobFinish(JobStatus.SUCCESS))
    await store.renew_poll_leases([job.id], 999.0)
    finished = await store.get_job(job.id)
    assert finished is not None and finished.next_poll_at == 190.0


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
        job = new_job(parent_upstream_id="P1", result=JobResult(custom_id=custom_id), **fields)
        return dataclasses.replace(job, kind="action")

    u1 = await store.create_job(child("MJ::JOB::upsample::1::abc", status=JobStatus.PENDING))
    await store.create_job(child("MJ::JOB::upsample::2::abc", status=JobStatus.FAILURE))
    found = await store.find_child_job("P1", "MJ::JOB::upsample::1::abc")
    assert found is not None and found.id == u1.id
    # A failed action is refunded: pressing it again runs it again.
    assert await store.find_child_job("P1", "MJ::JOB::upsample::2::abc") is None
    assert await store.find_child_job("P2", "MJ::JOB::upsample::1::abc") is None
