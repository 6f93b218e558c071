"""The tracker against the real gateway's cadence: a job seen only every 15 s of its life."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.server import SandboxServer
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import POLL, captions, settle, until, wait_results


async def test_a_job_that_skipped_every_intermediate_state_is_delivered(tmp_path: Path) -> None:
    # Speed 1 paces the gateway as new-api does: a refresh every 15 s of scenario time, which
    # the test moves by hand, so the tracker polls a job that shows "" and then, one refresh
    # later, SUCCESS: never SUBMITTED, never IN_PROGRESS, never a percentage.
    async with SandboxServer(speed=1.0) as sandbox, running_harness(
        fast_settings(tmp_path), sandbox
    ) as h:
        assert sandbox.refresh_s == 15.0
        await h.command("imagine", "a fox seen rarely")
        await until(lambda: sandbox.hits[POLL] >= 2)
        sandbox.advance(60)
        (shown,) = await wait_results(h, 1)
        await settle(h)
    assert captions(shown)[0] == ["U1", "U2", "U3", "U4", "🔄"]
    assert all(not p.percent for p in shown.progress), shown.progress
