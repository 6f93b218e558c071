"""No interaction left "thinking…" across a restart, including a kill -9 of the real process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.server import SandboxServer
from storage.sql_store import SqlStore
from tests.discord.conftest import BOT_TOKEN, start_adapter
from tests.discord.stub_inbound import StubInbound
from tests.discord.users import ALICE, BOB, button, press, slash
from tests.fakes.discord_api import FakeDiscord

REPO = Path(__file__).resolve().parents[2]
LOADING = 128


def bot_env(tmp_path: Path, fake: FakeDiscord, sandbox: SandboxServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith(("DISCORD_", "TELEGRAM_", "UPSTREAM_"))}
    env.update(
        PYTHONPATH=str(REPO), DISCORD_BOT_TOKEN=BOT_TOKEN, DISCORD_API_BASE_URL=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url, UPSTREAM_BASE_URL=sandbox.url,
        UPSTREAM_API_KEY="sk-test-key-123",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        MJ_POLL_MIN_INTERVAL_S="0.2", MJ_POLL_MAX_INTERVAL_S="0.5", LOG_LEVEL="DEBUG")
    return env


@contextlib.asynccontextmanager
async def bot_process(env: dict[str, str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, cwd=REPO,
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.fixture
async def slow_sandbox() -> AsyncIterator[SandboxServer]:
    """A grid takes about 8 s here: time to kill the bot while it is drawing."""
    server = SandboxServer(host="127.0.0.1", port=0, speed=4.0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_after_kill_9_the_pending_grid_replaces_the_response_and_its_buttons_work(
    tmp_path: Path, fake: FakeDiscord, slow_sandbox: SandboxServer
) -> None:
    env = bot_env(tmp_path, fake, slow_sandbox)
    log = tmp_path / "bot.log"
    async with bot_process(env, log) as first:
        await fake.wait_for(lambda: fake.connections == 1, 60)
        inter = await slash(fake, "imagine", prompt="a castle on a hill")
        # Killed once the upstream is drawing (a job killed before its submit is not resumed).
        await fake.wait_for(lambda: "15%" in (fake.original(inter) or {}).get("content", ""), 30)
        first.kill()  # SIGKILL: no cleanup at all
        await first.wait()
    assert fake.original(inter)["components"] == []  # type: ignore[index]  # still drawing

    async with bot_process(env, log):
        await fake.wait_for(lambda: (m := fake.original(inter)) and m["components"], 60)
        grid = fake.original(inter)
        assert grid is not None and grid["attachments"]  # the grid replaced @original
        channel = inter.channel_id
        count = len(fake.channel_messages(channel))
        pressed = await press(fake, grid, button(grid, "U1"), user=ALICE)
        await fake.wait_for(lambda: len(fake.channel_messages(channel)) > count
                            and pressed.acked_at is not None, 30)
        assert pressed.ack_type in (4, 6)
        refused = await press(fake, grid, button(grid, "U2"), user=BOB)
        await fake.wait_for(lambda: refused.acked_at is not None, 10)
        assert refused.ack_type == 4 and fake.original(refused)["flags"] & 64  # type: ignore[index]
    text = log.read_text(errors="replace")
    assert BOT_TOKEN not in text and inter.token not in text


async def test_a_command_deferred_but_never_answered_gets_an_apology_on_restart(
    fake: FakeDiscord, store: SqlStore, keep_endpoints: None
) -> None:
    stuck = StubInbound(command_delay=60.0)
    first = await start_adapter(fake, stuck, store)
    try:
        inter = await slash(fake, "echo", text="hello")
        await fake.wait_for(lambda: inter.acked_at is not None)
        await asyncio.sleep(0.2)  # the interaction is stored right after the deferral
    finally:
        await first.close(drain=0.0)  # the process "dies" before the core answered
    assert fake.original(inter)["flags"] & LOADING  # type: ignore[index]  # still "thinking…"
    second = await start_adapter(fake, StubInbound(), store)
    try:
        await fake.wait_for(lambda: (m := fake.original(inter)) and not m["flags"] & LOADING)
        assert "restarted" in fake.original(inter)["content"]  # type: ignore[index]
    finally:
        await second.close()


async def test_after_the_token_expired_a_late_result_is_posted_mentioning_its_owner(
    fake: FakeDiscord, stub: StubInbound, store: SqlStore, keep_endpoints: None
) -> None:
    now = [1000.0]
    adapter = await start_adapter(fake, stub, store, clock=lambda: now[0])
    try:
        inter = await slash(fake, "imagine", prompt="a slow one")
        await fake.wait_for(lambda: (m := fake.original(inter)) and "70" in m["content"])
        now[0] += 16 * 60  # past the token's 15 minutes
        fake.expire(inter)
        stub.release.set()
        channel = inter.channel_id
        await fake.wait_for(lambda: any(m["components"] and m["id"] != inter.original_id
                                        for m in fake.channel_messages(channel)))
        late = next(m for m in fake.channel_messages(channel) if m["components"])
        assert late["content"].startswith(f"<@{ALICE}>")
        assert late["attachments"] and fake.pings == [(late["id"], False, [ALICE])]
    finally:
        await adapter.close()


