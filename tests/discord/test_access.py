"""Server allowlists as Discord users meet them: an allowed server is served, others told why."""

from __future__ import annotations

from pathlib import Path

from adapters.discord import DiscordAdapter
from bot.sandbox.server import SandboxServer
from tests.core.conftest import fast_settings
from tests.discord.conftest import running_bridge
from tests.discord.stub_inbound import StubInbound
from tests.discord.users import ALICE, slash
from tests.fakes import discord_payloads as p
from tests.fakes.discord_api import FakeDiscord


async def test_commands_and_mentions_in_a_server_carry_its_guild_and_dms_none(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    await slash(fake, "echo", text="hi")
    await fake.wait_for(lambda: len(stub.requests) == 1)
    await fake.post_message(fake.channel_ids[0], ALICE, f"<@{p.APP_ID}> hello")
    await fake.wait_for(lambda: len(stub.requests) == 2)
    await fake.post_message(p.snowflake(), ALICE, "hello in private", guild=False)
    await fake.wait_for(lambda: len(stub.requests) == 3)
    assert [r.chat.guild_id for r in stub.requests] == [p.GUILD_ID, p.GUILD_ID, None]


async def test_a_server_on_the_guild_allowlist_is_served_and_another_is_told_why(
    tmp_path: Path, sandbox: SandboxServer, fake: FakeDiscord, keep_endpoints: None
) -> None:
    allowed = fast_settings(tmp_path, allowed_guilds=p.GUILD_ID)
    async with running_bridge(allowed, sandbox, fake):
        inter = await slash(fake, "ask", text="hello there")
        await fake.wait_for(lambda: (m := fake.original(inter)) is not None
                            and m["content"] not in ("", "…") and not m["flags"] & 128, 20)
        assert sandbox.hits["POST /v1/chat/completions"] == 1

    elsewhere = fast_settings(tmp_path / "other", allowed_guilds="123456789012345678")
    async with running_bridge(elsewhere, sandbox, fake):
        inter = await slash(fake, "ask", text="hello there")
        await fake.wait_for(lambda: (m := fake.original(inter)) is not None
                            and "not enabled on this server" in m["content"], 20)
        assert sandbox.hits["POST /v1/chat/completions"] == 1
