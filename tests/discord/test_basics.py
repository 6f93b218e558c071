"""The adapter against a stand-in core: what a Discord user sees for each kind of interaction."""

from __future__ import annotations

import asyncio

from adapters.discord import DiscordAdapter
from tests.discord.stub_inbound import StubInbound
from tests.discord.users import ALICE, BOB, button, press, slash, submit_modal
from tests.fakes.discord_api import FakeDiscord


async def test_a_slow_command_is_acknowledged_at_once_then_answered(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.command_delay = 3.5  # longer than Discord's window
    inter = await slash(fake, "echo", text="hello there")
    await fake.wait_for(lambda: (m := fake.original(inter)) and m["content"] == "hello there")
    assert inter.ack_type == 5  # deferred: "thinking…"
    assert inter.ack_latency is not None and inter.ack_latency < 0.5
    assert inter.late_acks == 0

