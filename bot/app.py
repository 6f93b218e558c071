"""Composition root: settings -> store -> client -> core -> the adapters that are configured."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator

from bot.commands import load_commands
from bot.config import Settings
from bot.core import Bot, Services
from bot.i18n import Catalog
from bot.logging_setup import setup_logging
from bot.policy import Policy
from bot.upstream import UpstreamClient
from storage import open_store

log = logging.getLogger(__name__)

SANDBOX_NOTICE = (
    "no upstream configured: using the offline sandbox; answers and images are synthetic"
)


async def build_services(settings: Settings, *, upstream_url: str, api_key: str) -> Services:
    """Open the store, connect the client, load the commands and make the task tracker."""
    from bot.tasks.tracker import TaskTracker

    store = await open_store(settings.database_url)
    client = UpstreamClient(
        upstream_url,
        api_key,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
    )
    commands, buttons = load_commands()
    services = Services(
        settings=settings,
        client=client,
        store=store,
        catalog=Catalog(settings.language),
        policy=Policy(),
        commands=commands,
        buttons=buttons,
    )
    services.tracker = TaskTracker(services)
    return services


def freeze_startup_objects() -> None:
    """Exempt what start-up built (modules, models, compiled statements) from garbage collection.

    None of it is ever freed, yet a full collection walked all of it: 125-145 ms with the
    event loop stopped, in the middle of whatever the bot was doing (bench/core_imagine.py),
    against 15 ms once it is frozen.
    """
    gc.collect()
    gc.freeze()


async def close_services(services: Services) -> None:
    """Stop background work, then the client and the store (in that order: work may still write)."""
    if services.tracker is not None:
        await services.tracker.stop()
    for task in list(services.background):
        task.cancel()
    await asyncio.gather(*services.background, return_exceptions=True)
    await services.client.aclose()
    await services.store.close()


@contextlib.asynccontextmanager
async def upstream_endpoint(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """The configured gateway, or an in-process sandbox when none is configured."""
    if settings.upstream_base_url:
        key = settings.upstream_api_key.get_secret_value() if settings.upstream_api_key else ""
        yield settings.upstream_base_url, key
        return
    from bot.sandbox.server import SandboxServer

    sandbox = SandboxServer(host="127.0.0.1", port=0, speed=settings.sandbox_speed)
    await sandbox.start()
    log.warning(SANDBOX_NOTICE)
    try:
        yield sandbox.url, "sk-sandbox"
    finally:
        await sandbox.stop()


async def _main(settings: Settings, console_only: bool) -> int:
    async with upstream_endpoint(settings) as (url, key):
        services = await build_services(settings, upstream_url=url, api_key=key)
        bot = Bot(services)
        try:
            wants_platform = settings.discord_token or settings.telegram_bot_token
            if wants_platform and not console_only:
                log.error(
                    "Discord/Telegram adapters are not part of this build yet; starting the console"
                )
            from adapters.console import ConsoleAdapter

            adapter = ConsoleAdapter(bot, stdin=sys.stdin, stdout=sys.stdout)
            services.channels[adapter.platform] = adapter
            if services.tracker is not None:
                await services.tracker.start()
            freeze_startup_objects()
            if not settings.upstream_base_url:
                adapter.notice(SANDBOX_NOTICE)
            return await adapter.run()
        finally:
            await close_services(services)


def run_app(console_only: bool = False) -> int:
    """Run the bot until its adapters stop; returns the process exit code."""
    settings = Settings()
    setup_logging(settings.log_level)
    try:
        return asyncio.run(_main(settings, console_only))
    except KeyboardInterrupt:
        return 130
