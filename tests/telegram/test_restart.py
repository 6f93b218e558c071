"""A restart of the bot on Telegram: jobs in flight land in their chats, old keyboards work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.server import SandboxServer
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram.e2e_support import button, telegram_bot
from tests.telegram.support import TOKEN, wait_for

ALICE, GROUP = 4001, -9001


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[SandboxServer]:
    """Slow enough (a grid takes over a second) that the restart lands in the middle of a job."""
    server = SandboxServer(host="127.0.0.1", port=0, speed=25.0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_grid_pending_at_a_restart_lands_in_its_chat_and_old_buttons_still_work(
    tmp_path: Path, slow_sandbox: SandboxServer
) -> None:
    fake = FakeTelegram(TOKEN, limits=False)
    await fake.start()
    fake.add_chat(GROUP, "group", "Team")
    try:
        async with telegram_bot(tmp_path, slow_sandbox, fake, grace_s=0) as first:
            fake.user_message(ALICE, "/imagine an old grid")
            old = await first.photo_in(ALICE, bound=30)
            fake.user_message(GROUP, "/imagine a job in flight", user_id=ALICE)
            await wait_for(lambda: fake.bot_messages(GROUP), 15, "the progress message")
            # Stop once the job is with the upstream (not while it is being submitted).
            await wait_for(lambda: slow_sandbox.hits.get("POST /mj/submit/imagine") == 2)
            await wait_for(lambda: "Working on" in fake.bot_messages(GROUP)[-1].text, 15)
        assert first.results(GROUP) == [], "finished before the restart"

        async with telegram_bot(tmp_path, slow_sandbox, fake) as second:
            grid = await second.photo_in(GROUP, bound=30)
            assert "a job in flight" in grid.text
            query = fake.press(ALICE, old.message_id, button(old, "U1"), user_id=ALICE)
            await second.photo_in(ALICE, 2, bound=30)
            assert not fake.answers(query)[0].get("show_alert")
    finally:
        await fake.stop()
