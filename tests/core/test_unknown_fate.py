"""A paid request whose fate is unknown says so, is kept, and is found again where it can be."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channel import ChatRef
from bot.inbound import AskText
from bot.sandbox.server import SandboxServer
from bot.tasks.adoption import matches
from bot.tasks.jobs import new_job
from bot.upstream import MjTask
from storage.base import JobResult, JobStatus
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import (
    SUBMIT_IMAGINE,
    SUBMIT_MODAL,
    button,
    imagine_result,
    settle,
    wait_results,
    wait_text,
)
from tests.support.harness import Harness

RECENT = "GET /mj/task/list"


async def cut_imagine(h: Harness, sandbox: SandboxServer, prompt: str = "a cat") -> None:
    """/imagine whose submit reaches the gateway (the task is created) but whose answer is cut."""
    sandbox.set_fault("cut")
    try:
        await h.command("imagine", prompt)
    finally:
        sandbox.set_fault(None)


async def test_a_cut_midjourney_submit_says_it_may_have_gone_through_and_never_invites_a_retry(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await cut_imagine(harness, sandbox)
    assert sandbox.hits[SUBMIT_IMAGINE] == 1
    shown = harness.channel.last().reply
    assert shown is not None
    assert "may have been created and charged" in shown.text
    assert "/jobs" in shown.text
    assert "try again" not in shown.text.lower() and "unreachable" not in shown.text
    (job,) = await harness.services.store.list_jobs([JobStatus.UNKNOWN])
    assert job.prompt == "a cat" and job.upstream_id is None


async def test_a_paid_chat_cut_before_any_text_says_it_may_have_been_charged(
    harness: Harness, sandbox: SandboxServer
) -> None:
    sandbox.set_fault("502")
    try:
        await harness.command("ask", "hello there")
    finally:
        sandbox.set_fault(None)
    text = harness.channel.last().reply.text  # type: ignore[union-attr]
    assert "may have gone through" in text and "charged twice" in text
    assert "try again" not in text.lower()


async def test_the_unknown_job_is_in_the_users_job_list(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await cut_imagine(harness, sandbox, "a lighthouse at dusk")
    await harness.command("jobs")
    listing = harness.channel.last().reply.text  # type: ignore[union-attr]
    assert "unknown" in listing and "a lighthouse at dusk" in listing
    await harness.command("jobs", user="bob")
    assert "no Midjourney jobs" in harness.channel.last().reply.text  # type: ignore[union-attr]


async def test_where_the_gateway_cannot_list_tasks_the_owner_is_told_once_what_to_do(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, purge_interval_s=0.05)
    async with running_harness(settings, sandbox) as h:
        await cut_imagine(h, sandbox)
        told = await wait_text(h, "task log")
        assert "a cat" in told.reply.text  # type: ignore[union-attr]
        # Several housekeeping rounds later it still was said once.
        await asyncio.sleep(0.3)
        assert sum("task log" in text for text in h.channel.texts()) == 1
        assert sandbox.hits[RECENT] >= 1


@pytest.fixture
async def listing_sandbox() -> AsyncIterator[SandboxServer]:
    """A sandbox that also answers GET /mj/task/list, as a Midjourney-proxy reached directly."""
    server = SandboxServer(host="127.0.0.1", port=0, speed=200.0, upstream_list=True)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_where_the_gateway_lists_recent_tasks_the_unknown_job_is_adopted_and_delivered(
    tmp_path: Path, listing_sandbox: SandboxServer
) -> None:
    sandbox = listing_sandbox
    settings = fast_settings(tmp_path, purge_interval_s=0.05)
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "a dog")  # another task on the account, not to be taken
        await wait_results(h, 1)
        await cut_imagine(h, sandbox, "a cat")
        (grid,) = (await wait_results(h, 2))[1:]
        await settle(h)
        assert sandbox.hits[SUBMIT_IMAGINE] == 2  # found, never sent again
        assert "a cat" in grid.reply.text  # type: ignore[union-attr]
        store = h.services.store
        assert not await store.list_jobs([JobStatus.UNKNOWN])
        jobs = await store.list_jobs([JobStatus.SUCCESS])
        assert len({job.upstream_id for job in jobs}) == 2
        assert not any("task log" in text for text in h.channel.texts())


async def test_a_job_left_submitting_by_a_crash_is_found_after_the_restart(
    tmp_path: Path, listing_sandbox: SandboxServer
) -> None:
    sandbox = listing_sandbox
    async with running_harness(fast_settings(tmp_path), sandbox) as h:
        # The process died after the submit reached the gateway and before its answer came.
        submitted = await h.services.client.mj_imagine("a quiet harbour")
        job = new_job(h.chat("c1"), "alice", "imagine", "a quiet harbour")
        job = await h.services.store.create_job(job)
        await h.tracker.stop()
        await h.tracker.start()
        await wait_text(h, "I was restarted while sending this job")
        (grid,) = await wait_results(h, 1)
        await settle(h)
        assert "a quiet harbour" in grid.reply.text  # type: ignore[union-attr]
        adopted = await h.services.store.get_job(job.id)
        assert adopted is not None and adopted.status == JobStatus.SUCCESS
        assert adopted.upstream_id == submitted.task_id
        assert sandbox.hits[SUBMIT_IMAGINE] == 1


async def test_a_cut_modal_step_is_followed_by_its_task_id_and_its_result_arrives(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    await harness.press(button(grid, "U1").token)
    up = (await wait_results(harness, 2))[-1]
    await settle(harness)
    asked = await harness.press(button(up, "🔍 Custom Zoom").token)
    assert isinstance(asked, AskText)
    # The marker cuts only the modal call's answer (after the gateway took it).
    await harness.submit("a red fox [[fault:cut]] --zoom 1.5", token=asked.token)
    assert any("may have gone through" in t for t in harness.channel.texts())
    zoomed = (await wait_results(harness, 3))[-1]
    await settle(harness)
    assert sandbox.hits[SUBMIT_MODAL] == 1
    assert zoomed.reply is not None and len(zoomed.reply.images) == 1
    assert not await harness.services.store.list_jobs([JobStatus.UNKNOWN])


def test_an_unknown_action_job_matches_only_a_task_of_its_own_action_and_time() -> None:
    job = dataclasses.replace(
        new_job(
            ChatRef("test", "c1", True), "alice", "action", "a red fox",
            result=JobResult(custom_id="MJ::JOB::variation::2::abc"),
        ),
        created_at=1_800_000_000.0,
    )  # fmt: skip
    at = int(job.created_at * 1000) + 1500

    def task(action: str, submit_time: int = at) -> MjTask:
        return MjTask.model_validate({"id": "1", "action": action, "submitTime": submit_time})

    assert matches(job, task("VARIATION"))
    assert not matches(job, task("UPSCALE"))
    assert not matches(job, task("IMAGINE"))
    assert not matches(job, task("VARIATION", at + 3_600_000))
