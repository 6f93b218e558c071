"""Two bot processes on one PostgreSQL database (issue 11): each Midjourney job is polled by one
of them only and its result lands in its chat once; a job whose process died is taken over by
exactly one of the others. One process on SQLite polls from memory and writes no leases.

Each "process" is a whole core (store, client, tracker) of its own, as `modelbridge run` builds
it, both on one scratch database of the PostgreSQL server the store tests use.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.channel import ChatRef
from bot.sandbox.server import SandboxServer
from bot.tasks.jobs import new_job
from bot.upstream import MjTask
from storage.base import JobStatus
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import imagine_result, results, settle, until
from tests.storage.conftest import POSTGRES_SERVER, run_admin
from tests.support.harness import Harness


@pytest.fixture
async def shared_database() -> AsyncIterator[str]:
    """A scratch database on the PostgreSQL server, dropped afterwards; skips without one."""
    if not POSTGRES_SERVER:
        pytest.skip("MODELBRIDGE_TEST_POSTGRES is empty: the shared-store tests need PostgreSQL")
    server = make_url(POSTGRES_SERVER)
    name = f"modelbridge_shared_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        await run_admin(server, f"CREATE DATABASE {name}")
    except Exception as exc:
        where = server.render_as_string(hide_password=True)
        pytest.skip(f"no PostgreSQL server to share at {where} ({exc})")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        await run_admin(server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def record_polls(h: Harness) -> set[str]:
    """The upstream ids this process asks the gateway about (its client, called through)."""
    polled: set[str] = set()
    client = h.services.client
    ask = client.mj_list

    async def mj_list(ids: Sequence[str]) -> list[MjTask]:
        polled.update(ids)
        return await ask(ids)

    client.mj_list = mj_list  # type: ignore[method-assign]
    return polled


async def test_two_processes_never_poll_the_same_job_and_each_result_lands_once(
    tmp_path: Path, sandbox: SandboxServer, shared_database: str
) -> None:
    settings = fast_settings(tmp_path, database_url=shared_database)
    async with (
        running_harness(settings, sandbox) as first,
        running_harness(settings, sandbox) as second,
    ):
        assert first.tracker.shared and second.tracker.shared
        polled = [record_polls(first), record_polls(second)]
        both = [first, second]
        await asyncio.gather(
            *(h.command("imagine", f"cat {n}", chat=f"c{n}") for n, h in enumerate(both * 5))
        )
        await until(lambda: len(results(first)) + len(results(second)) >= 10)
        await asyncio.gather(settle(first), settle(second))

        done = await first.services.store.list_jobs([JobStatus.SUCCESS])
        assert len(done) == 10 and all(job.delivered for job in done)
        ids = {job.upstream_id for job in done}
        assert polled[0] | polled[1] == ids
        assert not polled[0] & polled[1], "a job was polled by both processes"
        shown = [s.ref.chat.chat_id for h in both for s in results(h)]
        assert sorted(shown) == sorted(f"c{n}" for n in range(10)), "a result landed twice"
        # Each process delivered its own users' jobs (it held them from their submit).
        assert [len(results(h)) for h in both] == [5, 5]


async def test_a_job_left_by_a_dead_process_is_taken_over_by_one_other(
    tmp_path: Path, sandbox: SandboxServer, shared_database: str
) -> None:
    settings = fast_settings(tmp_path, database_url=shared_database)
    async with (
        running_harness(settings, sandbox) as first,
        running_harness(settings, sandbox) as second,
    ):
        polled = [record_polls(first), record_polls(second)]
        store = first.services.store
        chat = ChatRef("test", "c9", is_private=True)

        async def submitted_elsewhere(prompt: str, lease_until: float) -> str:
            """A job submitted by a third process, held until `lease_until`."""
            job = await store.create_job(new_job(chat, "carol", "imagine", prompt))
            accepted = await first.services.client.mj_imagine(prompt)
            await store.set_job_upstream(
                job.id, accepted.task_id, JobStatus.PENDING, poll_lease_until=lease_until
            )
            return accepted.task_id

        # Its process died (the lease ran out); the other one is alive and holds its job.
        orphan = await submitted_elsewhere("an orphan cat", time.time() - 1)
        held = await submitted_elsewhere("a held cat", time.time() + 3600)
        await until(lambda: len(results(first)) + len(results(second)) >= 1)
        await asyncio.gather(settle(first), settle(second))

        (shown,) = [s for h in (first, second) for s in results(h)]
        assert "an orphan cat" in shown.reply.text  # type: ignore[union-attr]
        assert [orphan in p for p in polled].count(True) == 1
        assert held not in polled[0] | polled[1]


async def test_one_process_on_sqlite_polls_from_memory_and_writes_no_leases(
    harness: Harness,
) -> None:
    assert not harness.services.store.shared and not harness.tracker.shared
    await imagine_result(harness, "a lone cat")
    (job,) = await harness.services.store.list_jobs([JobStatus.SUCCESS])
    assert job.delivered and job.next_poll_at == 0.0
