"""A real discord.Client (our adapter) against the fake Discord on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from adapters.discord import DiscordAdapter
from bot.app import Core, build_core, close_core
from bot.config import Settings
from bot.inbound import Inbound
from bot.sandbox.server import SandboxServer
from storage.sql_store import SqlStore
from tests.core.conftest import fast_settings
from tests.discord.stub_inbound import StubInbound
from tests.fakes.discord_api import FakeDiscord

# Shaped like a real bot token, so the log masking is tested on the real form.
BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcdE.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def keep_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter sets discord.py's class-level endpoints; put them back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY",
                        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as opened:
        yield opened


async def start_adapter(fake: FakeDiscord, inbound: Inbound, store: SqlStore,
                        **options: Any) -> DiscordAdapter:
    options.setdefault("edit_interval", 0.2)
    adapter = DiscordAdapter(inbound, token=BOT_TOKEN, engine=store.engine,
                             api_base_url=fake.api_base, gateway_url=fake.gateway_url,
                             guild_ready_timeout=0.05, **options)
    await adapter.start(ready_timeout=10)
    return adapter


def assert_every_interaction_answered_once_in_time(fake: FakeDiscord) -> None:
    """What every test also checks: no second acknowledgement, none outside the window, and
    no response left "thinking…"."""
    callbacks = [r for r in fake.requests if r.path.endswith("/callback")]
    assert not [r for r in callbacks if r.status == 400], "an interaction was answered twice"
    for inter in fake.interactions.values():
        if inter.acked_at is not None:
            assert inter.ack_latency is not None and inter.ack_latency < 3.0
        original = fake.original(inter)
        assert original is None or not original["flags"] & 128, "left thinking…"


@pytest.fixture
def stub() -> StubInbound:
    return StubInbound()


@pytest.fixture
async def adapter(fake: FakeDiscord, stub: StubInbound, store: SqlStore,
                  keep_endpoints: None) -> AsyncIterator[DiscordAdapter]:
    running = await start_adapter(fake, stub, store)
    try:
        yield running
    finally:
        await running.close()
    assert_every_interaction_answered_once_in_time(fake)


@dataclass
class Bridge:
    """The real core (sandbox upstream, SQLite) behind the Discord adapter, behind the fake."""

    core: Core
    adapter: DiscordAdapter


@contextlib.asynccontextmanager
async def running_bridge(settings: Settings, sandbox: SandboxServer, fake: FakeDiscord,
                         **options: Any) -> AsyncIterator[Bridge]:
    """Build the core as the app does, start the adapter, register its channel, start jobs."""
    core = await build_core(settings, upstream_url=sandbox.url, api_key="sk-test-key-123")
    store = core.services.store
    assert isinstance(store, SqlStore)
    try:
        adapter = await start_adapter(fake, core.dispatcher, store, **options)
        assert adapter.channel is not None
        core.services.channels[adapter.platform] = adapter.channel
        await core.tracker.start()
        try:
            yield Bridge(core, adapter)
        finally:
            await adapter.close()
    finally:
        await close_core(core)


@pytest.fixture
async def bridge(tmp_path: Path, sandbox: SandboxServer, fake: FakeDiscord,
                 keep_endpoints: None) -> AsyncIterator[Bridge]:
    async with running_bridge(fast_settings(tmp_path), sandbox, fake) as running:
        yield running
    assert_every_interaction_answered_once_in_time(fake)
