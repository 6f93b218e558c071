"""`modelbridge run` with a Telegram token: the adapter until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, MutableMapping

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.redact import TelegramFailure
from bot.channel import Channel
from bot.config import Settings
from bot.inbound import Inbound

log = logging.getLogger(__name__)


async def run_telegram(
    inbound: Inbound,
    channels: MutableMapping[str, Channel],
    store: object,
    settings: Settings,
    *,
    start_tracker: Callable[[], Awaitable[None]],
    stop: asyncio.Event | None = None,
) -> int:
    """Connect, register the channel, start the tracker, poll until stopped; the exit code."""
    token = settings.telegram_bot_token
    engine = getattr(store, "engine", None)
    if token is None or engine is None:
        log.error("Telegram needs TELEGRAM_BOT_TOKEN and an SQL store")
        return 2
    adapter = TelegramAdapter(
        inbound, engine, token.get_secret_value(), settings.telegram_api_base_url
    )
    try:
        await adapter.connect()
    except TelegramFailure as exc:
        log.error("Telegram refused to connect: %s", exc)
        return 1
    # Registered before the tracker starts: results of jobs from before a restart land here.
    channels[adapter.platform] = adapter.channel
    await start_tracker()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await adapter.start()
    try:
        await stop.wait()
    finally:
        log.info("Telegram: stopping")
        await adapter.stop()
        await inbound.drain()
    return 0
