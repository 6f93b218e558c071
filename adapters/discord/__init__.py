"""The Discord adapter (discord.py): app commands, persistent buttons, modals, voice messages.

One entry point: `DiscordAdapter` (or `from_settings`). `await adapter.start()` logs in, answers
what a previous run left "thinking…", connects to the gateway and syncs the app commands;
`adapter.channel` is the core's outbound `Channel` for platform "discord".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from adapters.discord import endpoints, redaction
from adapters.discord.channel import PLATFORM, DiscordChannel
from adapters.discord.client import BridgeClient
from adapters.discord.interactions import Interactions
from adapters.discord.messenger import Messenger
from adapters.discord.pacing import GlobalBudget, Pacer
from adapters.discord.ratelimits import rate_limit_trace
from storage.discord_interactions import InteractionStore

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.config import Settings
    from bot.inbound import Inbound

log = logging.getLogger(__name__)


class DiscordAdapter:
    """The Discord platform for one bot token."""

    platform = PLATFORM

    def __init__(self, inbound: Inbound, *, token: str, engine: AsyncEngine,
                 guild_ids: Iterable[int] = (), auto_transcribe: Iterable[int] = (),
                 api_base_url: str | None = None, gateway_url: str | None = None,
                 edit_interval: float = 1.3, global_rate: float = 45.0,
                 clock: Callable[[], float] = time.time,
                 on_rate_limited: Callable[[], None] | None = None,
                 **client_options: Any) -> None:
        self._token = token
        self._on_rate_limited = on_rate_limited
        self._api_base_url = api_base_url
        self._gateway_url = gateway_url
        self.store = InteractionStore(engine, clock=clock)
        self.pacer = Pacer(edit_interval)
        self.budget = GlobalBudget(global_rate)
        self._client_options = client_options
        self._guild_ids = list(guild_ids)
        self._auto = list(auto_transcribe)
        self._inbound = inbound
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._redactor: redaction.TokenRedactor | None = None
        self.client: BridgeClient | None = None
        self.channel: DiscordChannel | None = None
        self.interactions: Interactions | None = None

    def _build(self) -> tuple[BridgeClient, DiscordChannel, Interactions]:
        # Built on start: discord.py's client wants the running loop.
        options = dict(self._client_options)
        if self._on_rate_limited is not None:
            # Each client its own trace: aiohttp freezes one when a session takes it.
            options["http_trace"] = rate_limit_trace(self._on_rate_limited)
        client = BridgeClient(self._inbound, guild_ids=self._guild_ids,
                              auto_transcribe=self._auto, **options)
        messenger = Messenger(client, self.store, self.budget, clock=self._clock)
        channel = DiscordChannel(messenger, self.pacer)
        interactions = Interactions(self._inbound, channel, self.store, clock=self._clock)
        client.attach(interactions, channel)
        return client, channel, interactions

    async def start(self, ready_timeout: float = 60.0) -> None:
        """`prepare()` then `connect()`: for callers with nothing to start in between."""
        await self.prepare()
        await self.connect(ready_timeout)

    async def prepare(self) -> None:
        """Log in (REST only) and answer what the last run left "thinking…".

        After this `channel` works; no interaction arrives before `connect()`, so the caller
        can register the channel and start the core's job tracker first.
        """
        self._redactor = redaction.install(self._token)
        endpoints.configure(self._api_base_url, self._gateway_url)
        self.client, self.channel, self.interactions = self._build()
        try:
            await self.client.login(self._token)
            recovered = await self.interactions.recover()
            if recovered:
                log.info("answered %d interactions left by the previous run", recovered)
        except BaseException:
            await self.close()
            raise

    async def connect(self, ready_timeout: float = 60.0) -> None:
        """Open the gateway and wait until Discord says the bot is ready."""
        if self.client is None:
            raise RuntimeError("prepare() first")
        self._task = asyncio.create_task(self.client.connect(), name="discord-gateway")
        ready = asyncio.create_task(self.client.wait_until_ready())
        done, _ = await asyncio.wait({ready, self._task}, timeout=ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready not in done:
            ready.cancel()
            if self._task in done:
                await self.close()
                self._task.result()  # raises the connection's error (the token is redacted)
            await self.close()
            raise TimeoutError("Discord did not become ready in time")

    async def wait_closed(self) -> None:
        """Until the gateway connection ends (close(), or a fatal error)."""
        if self._task is not None:
            await self._task

    async def close(self, drain: float = 10.0) -> None:
        """Let running handlers finish (at most `drain` s), then close the connection."""
        if self.interactions is not None:
            await self.interactions.drain(drain)
        if self.channel is not None:
            await self.channel.close()
        if self.client is not None:
            await self.client.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.store.close()
        if self._redactor is not None:
            redaction.uninstall(self._redactor)
            self._redactor = None


def from_settings(inbound: Inbound, settings: Settings, engine: AsyncEngine, *,
                  on_rate_limited: Callable[[], None] | None = None) -> DiscordAdapter:
    """The adapter as `modelbridge run` configures it (DISCORD_* settings); `on_rate_limited`
    is told of each 429 Discord answers."""
    token = settings.discord_bot_token
    if token is None:
        raise ValueError("DISCORD_BOT_TOKEN is not set")
    return DiscordAdapter(
        inbound, token=token.get_secret_value(), engine=engine,
        guild_ids=settings.discord_guild_ids, auto_transcribe=settings.discord_transcribe_channels,
        api_base_url=settings.discord_api_base_url, gateway_url=settings.discord_gateway_url,
        on_rate_limited=on_rate_limited)


__all__ = ["DiscordAdapter", "from_settings"]
