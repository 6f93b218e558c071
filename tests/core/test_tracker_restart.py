"""The tracker across restarts and failures: nothing is lost, nothing is submitted twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channel import ChatRef, MessageRef
from bot.replies import Reply
from bot.sandbox.server import SandboxServer
from bot.tasks.jobs import new_job
from storage.base import JobStatus
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import (
    POLL,
    SUBMIT_ACTION,
    SUBMIT_IMAGINE,
    button,
    captions,
    imagine_result,
    results,
    settle,
    wait_results,
    wait_text,
)
from tests.support.harness import Harness
from tests.support.recording import RecordingChannel


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[SandboxServer]:
    """Slow enough (a grid takes over a second) that a restart lands in the middle of a job."""
    server = SandboxServer(host="127.0.0.1", port=0, speed=25.0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_restart_mid_job_delivers_to_the_original_chat_and_old_buttons_work(
    tmp_path: Path, slow_sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path)
    async with running_harness(settings, slow_sandbox) as first:
        grid = await imagine_result(first, "an old grid", chat="c1")
        u1 = button(grid, "U1").token
        await first.command("imagine", "a job in flight", chat="c2")
        await first.wait_for(lambda: any(s.progress for s in first.channel.messages[1:]))
    assert not [s for s in results(first) if s.ref.chat.chat_id == "c2"], "finished too early"

    async with running_harness(settings, slow_sandbox) as second:
        (result,) = await wait_results(second, 1, chat="c2")
        assert "a job in flight" in result.reply.text  # type: ignore[union-attr]
        assert captions(result)[0] == ["U1", "U2", "U3", "U4", "🔄"]

        await second.press(u1, chat="c1")
        (upscaled,) = await wait_results(second, 1, chat="c1")
        assert "U1" in upscaled.reply.text and len(upscaled.reply.images) == 1  # type: ignore[union-attr]
        assert slow_sandbox.hits[SUBMIT_IMAGINE] == 2
        assert slow_sandbox.hits[SUBMIT_ACTION] == 1


async def test_a_job_left_submitting_becomes_unknown_and_its_owner_is_told(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path)
    async with running_harness(settings, sandbox) as first:
        chat = ChatRef("test", "c7", is_private=True)
        await first.services.store.create_job(new_job(chat, "carol", "imagine", "a lost cat"))

    async with running_harness(settings, sandbox) as second:
        shown = await wait_text(second, "can't tell whether it reached")
        assert shown.ref.chat.chat_id == "c7"
        assert "a lost cat" in shown.reply.text  # type: ignore[union-attr]
        await settle(second)
        (job,) = await second.services.store.list_jobs([JobStatus.UNKNOWN])
        assert job.delivered
        assert sandbox.hits[SUBMIT_IMAGINE] == 0

    async with running_harness(settings, sandbox) as third:
        await settle(third)
        assert third.channel.messages == [], "the owner was told twice"


async def test_a_finished_but_undelivered_job_is_delivered_again_without_a_new_submit(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path)
    async with running_harness(settings, sandbox) as first:
        await imagine_result(first, "a delivered cat")
        await settle(first)
        (job,) = await first.services.store.list_jobs([JobStatus.SUCCESS])
        # As if the process died between the upstream's SUCCESS and the chat taking the message.
        await first.services.store.update_job(job.id, delivered=False)

    async with running_harness(settings, sandbox) as second:
        (again,) = await wait_results(second, 1)
        assert "a delivered cat" in again.reply.text  # type: ignore[union-attr]
        assert captions(again)[1][-1] == "🌱 Seed"
        await settle(second)
        assert (await second.services.store.get_job(job.id)).delivered  # type: ignore[union-attr]
        assert sandbox.hits[SUBMIT_IMAGINE] == 1


class FlakyChannel(RecordingChannel):
    """A chat that refuses the first `failures` result messages, like a platform outage."""

    def __init__(self, failures: int) -> None:
        super().__init__("test")
        self.failures = failures

    def _fail(self, reply: Reply) -> None:
        if reply.images and self.failures > 0:
            self.failures -= 1
            raise ConnectionError("platform is down")

    async def send(
        self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        self._fail(reply)
        return await super().send(chat, reply, reply_to=reply_to)

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        self._fail(reply)
        return await super().edit(message, reply)


async def test_a_failed_delivery_is_retried_without_a_new_submit(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with running_harness(fast_settings(tmp_path), sandbox) as h:
        flaky = FlakyChannel(failures=3)
        h.services.channels["test"] = flaky
        h.channel = flaky
        await h.command("imagine", "a stubborn cat")
        assert len(await wait_results(h, 1)) == 1
        assert flaky.failures == 0
        await settle(h)
        (job,) = await h.services.store.list_jobs([JobStatus.SUCCESS])
        assert job.delivered
        assert sandbox.hits[SUBMIT_IMAGINE] == 1


async def test_many_concurrent_jobs_each_reach_their_own_chat_through_shared_polls(
    harness: Harness, sandbox: SandboxServer
) -> None:
    count = 30
    await asyncio.gather(
        *(harness.command("imagine", f"cat number {i}", chat=f"c{i}") for i in range(count))
    )
    await wait_results(harness, count)
    for i in range(count):
        (shown,) = results(harness, chat=f"c{i}")
        assert f"cat number {i}" in shown.reply.text  # type: ignore[union-attr]
    await settle(harness)
    assert sandbox.hits["GET /mj/task/{id}/fetch"] == 0
    assert sandbox.hits[POLL] > 0
