"""`modelbridge run` with a Telegram and a Discord token: one process serves both platforms."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.server import SandboxServer
from tests.discord.conftest import BOT_TOKEN as DISCORD_TOKEN
from tests.discord.test_restart import bot_env, bot_process
from tests.discord.users import slash
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.telegram.support import TOKEN as TELEGRAM_TOKEN
from tests.telegram.support import wait_for

ALICE_TG = 6101
LOADING = 128


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TELEGRAM_TOKEN, limits=False)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_one_process_answers_on_telegram_and_discord_and_stops_cleanly(
    tmp_path: Path, sandbox: SandboxServer, telegram: FakeTelegram, discord_fake: FakeDiscord
) -> None:
    env = bot_env(tmp_path, discord_fake, sandbox)
    env.update(TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE_URL=telegram.url)
    log = tmp_path / "bot.log"
    async with bot_process(env, log) as proc:
        await discord_fake.wait_for(lambda: discord_fake.connections == 1, 60)
        await wait_for(lambda: telegram.called("getUpdates"), 60, "Telegram polling")

        telegram.user_message(ALICE_TG, "/ask hello from telegram")
        inter = await slash(discord_fake, "ask", text="hello from discord")
        await discord_fake.wait_for(
            lambda: (m := discord_fake.original(inter)) is not None
            and m["content"] not in ("", "…") and not m["flags"] & LOADING, 30)
        answered = await wait_for(lambda: telegram.bot_messages(ALICE_TG), 30, "the answer")
        assert answered[0].text
        assert "hello from telegram" in " ".join(m.text for m in answered)
        original = discord_fake.original(inter)
        assert original is not None and "hello from discord" in original["content"]

        proc.send_signal(signal.SIGTERM)
        assert await proc.wait() == 0, log.read_text(errors="replace")[-2000:]
    logged = log.read_text(encoding="utf-8", errors="replace")
    assert TELEGRAM_TOKEN not in logged and DISCORD_TOKEN not in logged
