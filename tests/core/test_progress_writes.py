"""Storing a job's progress: the chat shows it at once, the store gets the latest state one
longest poll interval later (one write, latest wins), a finish drops what is not written yet and
waits for a write in flight, and a failed write is logged without stopping the next ones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_core, close_core
from bot.services import Services
from bot.tasks.progress_writes import ProgressSeen, ProgressWrites
from storage.base import JobRecord
from tests.core.conftest import fast_settings
from tests.core.mj_helpers import until

INTERVAL = 0.1  # mj_poll_max_interval_s in fast_settings: at most one write per job per interval


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    # The gateway is never called: only the settings and the real SQLite store are used.
    core = await build_core(fast_settings(tmp_path, mj_poll_max_interval_s=INTERVAL),
                            upstream_url="http://127.0.0.1:9", api_key="sk-test-key-123")
    try:
        yield core.services
    finally:
        await close_core(core)


async def new_job(services: Services) -> int:
    job = JobRecord(0, "test", "c", "", "alice", "imagine", "a cat", progress="0%")
    return (await services.store.create_job(job)).id


async def stored(services: Services, job_id: int) -> tuple[str, str]:
    job = await services.store.get_job(job_id)
    assert job is not None
    return job.progress, job.image_url


def count_writes(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every progress write the store receives, (progress, image_url), passed on to it."""
    calls: list[tuple[str, str]] = []
    real = services.store.save_progress

    async def counted(job_id: int, progress: str, image_url: str, *rest: Any) -> JobRecord:
        calls.append((progress, image_url))
        return await real(job_id, progress, image_url, *rest)

    monkeypatch.setattr(services.store, "save_progress", counted)
    return calls


async def test_progress_is_stored_once_per_interval_with_the_latest_state(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = count_writes(services, monkeypatch)
    job_id = await new_job(services)
    progress = ProgressWrites(services)
    progress.offer(job_id, ProgressSeen("15%", "https://cdn/a.png"))
    progress.offer(job_id, ProgressSeen("31%", "https://cdn/a.png"))
    progress.offer(job_id, ProgressSeen("31%", "https://cdn/b.png"))
    assert progress  # a write is pending
    await asyncio.sleep(INTERVAL / 2)
    assert await stored(services, job_id) == ("0%", "")  # not yet: polling is never held up
    await until(lambda: not progress, timeout=3)
    assert await stored(services, job_id) == ("31%", "https://cdn/b.png")
    assert writes == [("31%", "https://cdn/b.png")]


async def test_progress_offered_after_a_write_is_stored_by_the_next_one(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = count_writes(services, monkeypatch)
    job_id = await new_job(services)
    progress = ProgressWrites(services)
    progress.offer(job_id, ProgressSeen("15%", ""))
    await until(lambda: len(writes) == 1, timeout=3)
    progress.offer(job_id, ProgressSeen("46%", ""))
    await until(lambda: not progress, timeout=3)
    assert writes == [("15%", ""), ("46%", "")]
    assert (await stored(services, job_id))[0] == "46%"


async def test_a_job_that_finishes_before_its_progress_write_needs_none(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = count_writes(services, monkeypatch)
    job_id, other = await new_job(services), await new_job(services)
    progress = ProgressWrites(services)
    progress.offer(job_id, ProgressSeen("46%", ""))
    progress.offer(other, ProgressSeen("62%", ""))
    await progress.settled(job_id)
    await progress.settled(12345)  # a job with nothing pending: nothing to wait for
    await until(lambda: not progress, timeout=3)
    assert writes == [("62%", "")]  # the other job's write is not disturbed
    assert (await stored(services, job_id))[0] == "0%"


async def test_a_finish_waits_for_a_progress_write_in_flight_so_it_cannot_land_after_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = await new_job(services)
    real = services.store.save_progress
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(job_id: int, *args: Any) -> JobRecord:
        started.set()
        await release.wait()
        return await real(job_id, *args)

    monkeypatch.setattr(services.store, "save_progress", slow)
    progress = ProgressWrites(services)
    progress.offer(job_id, ProgressSeen("93%", ""))
    await asyncio.wait_for(started.wait(), 5)
    progress.offer(job_id, ProgressSeen("96%", ""))  # seen while the 93 % write is under way
    finish = asyncio.create_task(progress.settled(job_id))
    await asyncio.sleep(INTERVAL)
    assert not finish.done()  # the finish waits for the write under way
    release.set()
    await asyncio.wait_for(finish, 5)
    assert not progress
    await asyncio.sleep(INTERVAL * 2)
    # 93 % was written before the finish; 96 % is dropped, never written after the finish
    assert (await stored(services, job_id))[0] == "93%"


async def test_progress_offered_just_as_a_write_ends_is_stored_by_a_new_one(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = await new_job(services)
    progress = ProgressWrites(services)
    real = services.store.save_progress
    written: list[tuple[str, str]] = []

    async def then_offer_again(job_id: int, seen: str, image_url: str, *rest: Any) -> JobRecord:
        written.append((seen, image_url))
        record = await real(job_id, seen, image_url, *rest)
        if len(written) == 1:
            # Runs right after the saver sees nothing more to write and ends.
            asyncio.get_running_loop().call_soon(progress.offer, job_id, ProgressSeen("62%", ""))
        return record

    monkeypatch.setattr(services.store, "save_progress", then_offer_again)
    progress.offer(job_id, ProgressSeen("46%", ""))
    await until(lambda: len(written) == 2, timeout=3)
    assert written == [("46%", ""), ("62%", "")]


async def test_a_failed_progress_write_is_logged_and_the_next_one_still_lands(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = await new_job(services)
    progress = ProgressWrites(services)
    gone = job_id + 1000  # no such job: the store refuses the write
    progress.offer(gone, ProgressSeen("15%", ""))
    with caplog.at_level(logging.ERROR, logger="bot.tasks.progress_writes"):
        await until(lambda: not progress, timeout=3)
    assert [r.getMessage() for r in caplog.records] == [f"progress of job {gone} not stored"]
    progress.offer(job_id, ProgressSeen("62%", ""))
    await until(lambda: not progress, timeout=3)
    assert (await stored(services, job_id))[0] == "62%"


async def test_stopping_drops_the_writes_not_made_yet_and_blocks_none_after(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = count_writes(services, monkeypatch)
    first, second = await new_job(services), await new_job(services)
    progress = ProgressWrites(services)
    progress.offer(first, ProgressSeen("15%", ""))
    progress.offer(second, ProgressSeen("31%", ""))
    await progress.stop()
    assert not progress
    await asyncio.sleep(INTERVAL * 2)
    assert writes == []
    # Started again (the tracker restarts): a job's progress is stored as before.
    progress.offer(first, ProgressSeen("46%", ""))
    await until(lambda: not progress, timeout=3)
    assert writes == [("46%", "")]
