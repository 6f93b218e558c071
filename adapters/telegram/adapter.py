"""The Telegram adapter: a PTB `Bot`, our intake, the router and the channel, started together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from adapters.telegram.channel import TelegramChannel
from adapters.telegram.commands_menu import register_commands
from adapters.telegram.handlers import UpdateHandlers
from adapters.telegram.intake import POLL_TIMEOUT_S, Intake
from adapters.telegram.media import DOWNLOAD_LIMIT
from adapters.telegram.pacing import Pacer
from adapters.telegram.redact import protect, scrubbed
from adapters.telegram.router import Router
from bot.inbound import Inbound
from storage.telegram_updates import TelegramUpdates

log = logging.getLogger(__name__)

DEFAULT_API_ROOT = "https://api.telegram.org"
# Concurrent requests to the Bot API (PTB's default pool holds one connection).
POOL_SIZE = 256
# Start-up while Telegram is unreachable: retry with these delays, this many times.
CONNECT_RETRY_MIN_S = 1.0
CONNECT_RETRY_MAX_S = 60.0
CONNECT_ATTEMPTS = 12


def make_bot(token: str, api_root: str = DEFAULT_API_ROOT, *, poll_timeout: float = 25.0) -> Bot:
    """A PTB Bot for `{root}/bot{token}/{method}` and `{root}/file/bot{token}/{path}`."""
    root = api_root.rstrip("/")
    return Bot(
        token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=HTTPXRequest(connection_pool_size=POOL_SIZE, pool_timeout=30.0),
        get_updates_request=HTTPXRequest(read_timeout=poll_timeout + 10.0),
    )


class TelegramAdapter:
    """`start()` connects (getMe), sets the menus and begins polling; `stop()` winds down.

    `channel` (the core's `Channel` for platform "telegram") exists once `connect()` returned,
    so the composition root can register it before stored work is replayed.
    """

    platform = "telegram"

    def __init__(
        self, inbound: Inbound, engine: AsyncEngine, token: str,
        api_root: str = DEFAULT_API_ROOT, *, poll_timeout: float = POLL_TIMEOUT_S,
        pacer: Pacer | None = None, drafts: bool = True, download_limit: int = DOWNLOAD_LIMIT,
        connect_attempts: int = CONNECT_ATTEMPTS,
        on_rate_limited: Callable[[], None] | None = None,
    ) -> None:
        protect(token)
        self.inbound = inbound
        self.engine = engine
        self.bot = make_bot(token, api_root, poll_timeout=poll_timeout)
        self.pacer = pacer or Pacer()
        # Each 429 Telegram sends (sending or polling) is counted here (the operator's metric).
        self.on_rate_limited = on_rate_limited
        if on_rate_limited is not None:
            self.pacer.on_rate_limited = on_rate_limited
        self.channel = TelegramChannel(self.bot, self.pacer, drafts=drafts)
        self.poll_timeout = poll_timeout
        self.download_limit = download_limit
        self.connect_attempts = connect_attempts
        self.intake: Intake | None = None
        self.router: Router | None = None
        self._connected = False

    async def connect(self) -> None:
        """getMe (raises a token-free error when Telegram refuses), then the command menus."""
        if self._connected:
            return
        delay = CONNECT_RETRY_MIN_S
        for attempt in range(1, self.connect_attempts + 1):
            try:
                await self.bot.initialize()
                await self.bot.delete_webhook()  # getUpdates and a webhook exclude each other
                break
            except BadRequest as exc:
                raise scrubbed(exc) from None
            except NetworkError as exc:  # Telegram unreachable for now: wait and try again
                if attempt == self.connect_attempts:
                    raise scrubbed(exc) from None
                log.warning("Telegram unreachable (%s); retrying in %.0f s", scrubbed(exc), delay)
                await asyncio.sleep(delay)
                delay = min(CONNECT_RETRY_MAX_S, delay * 2)
            except TelegramError as exc:  # a wrong token, a refused call: no use retrying
                raise scrubbed(exc) from None
        self._connected = True
        log.info("Telegram: connected as @%s", self.bot.username)
        await register_commands(self.bot, self.inbound)

    async def start(self) -> None:
        """Connect if needed, replay stored updates, and poll for new ones."""
        await self.connect()
        store = TelegramUpdates(self.engine, str(self.bot.id))
        handlers = UpdateHandlers(
            self.inbound, self.channel, self.bot.bot, download_limit=self.download_limit
        )
        self.router = Router(handlers, store)
        self.intake = Intake(self.bot, store, self.router, poll_timeout=self.poll_timeout,
                             on_rate_limited=self.on_rate_limited)
        await self.intake.start()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop polling, let running handlers and queued sends finish (up to `grace_s`)."""
        if self.intake is not None:
            await self.intake.stop()
        if self.router is not None:
            await self.router.drain(grace_s)
            await self.router.close()
        await self.pacer.settle(grace_s)
        await self.pacer.close()
        if self._connected:
            try:
                await self.bot.shutdown()
            except TelegramError as exc:
                log.info("Telegram shutdown: %s", scrubbed(exc))
