"""A burst of /imagine commands: more jobs than are admitted at once all reach their users."""

from __future__ import annotations

import asyncio

from bot.sandbox.server import SandboxServer
from bot.tasks.tracker import ADMITTED
from storage.base import JobStatus
from tests.core.mj_helpers import SUBMIT_IMAGINE, settle, wait_results
from tests.support.harness import Harness


async def test_a_burst_of_jobs_all_finish_and_refusals_free_their_place(
    harness: Harness, sandbox: SandboxServer
) -> None:
    # More refusals than places come first: the accepted jobs run only if each refusal frees
    # the place it held.
    refused = [f"refused {i} [[fault:banned]]" for i in range(ADMITTED + 4)]
    accepted = [f"picture {i}" for i in range(6)]
    prompts = refused + accepted
    async with asyncio.timeout(30):  # a place never freed would leave commands waiting
        await asyncio.gather(*(
            harness.command("imagine", prompt, user=f"u{i}", chat=f"c{i}")
            for i, prompt in enumerate(prompts)
        ))

    shown = await wait_results(harness, len(accepted))
    await settle(harness)
    assert sorted(s.ref.chat.chat_id for s in shown) == sorted(
        f"c{i}" for i in range(len(refused), len(prompts))
    )
    turned_down = [
        s for s in harness.channel.messages
        if s.reply is not None and "does not allow this prompt" in s.reply.text
    ]
    assert len(turned_down) == len(refused)
    assert sandbox.hits[SUBMIT_IMAGINE] == len(prompts)
    done = await harness.services.store.list_jobs([JobStatus.SUCCESS])
    assert len(done) == len(accepted) and all(job.delivered for job in done)
