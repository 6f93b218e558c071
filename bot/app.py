"""Composition root: settings -> store -> client -> core -> the adapters that are configured."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from bot.commands import BUTTONS, COMMANDS
from bot.commands.registry import ButtonKind, CommandTable
from bot.config import Settings
from bot.dispatcher import Dispatcher
from bot.i18n import Catalog
from bot.logging_setup import setup_logging
from bot.policy import Policy
from bot.services import Services
from bot.tasks.tracker import TaskTracker
from bot.upstream import UpstreamClient
from storage import open_store

log = logging.getLogger(__name__)

SANDBOX_NOTICE = (
    "no upstream configured: using the offline sandbox; answers and images are synthetic"
)


@dataclass(slots=True)
class Core:
    """The platform-neutral bot as the composition root built it."""

    services: Services
    tracker: TaskTracker
    dispatcher: Dispatcher


async def build_core(
    settings: Settings,
    *,
    upstream_url: str,
    api_key: str,
    commands: CommandTable = COMMANDS,
    buttons: Mapping[str, ButtonKind] = BUTTONS,
) -> Core:
    """Open the store, connect the client, make the task tracker and the dispatcher.

    `commands` and `buttons` replace the bot's own tables (tests that bring commands of their own).
    """
    store = await open_store(settings.database_url)
    client = UpstreamClient(
        upstream_url,
        api_key,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
    )
    services = Services(
        settings=settings,
        client=client,
        store=store,
        catalog=Catalog(settings.language),
        policy=Policy(),
        menu=commands.menu(),
    )
    tracker = TaskTracker(services)
    services.tracker = tracker
    return Core(services, tracker, Dispatcher(services, commands, buttons))


def freeze_startup_objects() -> None:
    """Exempt what start-up built (modules, models, compiled statements) from garbage collection.

    None of it is ever freed, yet a full collection walked all of it: 125-145 ms with the
    event loop stopped, in the middle of whatever the bot was doing (bench/core_imagine.py),
    against 15 ms once it is frozen.
    """
    gc.collect()
    gc.freeze()


async def close_core(core: Core) -> None:
    """Stop background work, then the client and the store (in that order: work may still write)."""
    await core.dispatcher.close()
    await core.tracker.stop()
    await core.services.client.aclose()
    await core.services.store.close()


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
        core = await build_core(settings, upstream_url=url, api_key=key)
        try:
            if settings.discord_bot_token and not console_only:
                return await run_discord(core, settings)
            if settings.telegram_token and not console_only:
                log.error("the Telegram adapter is not in this build yet; starting the console")
            from adapters.console import ConsoleAdapter

            adapter = ConsoleAdapter(
                core.dispatcher,
                stdin=sys.stdin,
                stdout=sys.stdout,
                output_dir=settings.console_output_dir,
                language=settings.language,
                jobs=core.tracker,
            )
            core.services.channels[adapter.platform] = adapter
            await core.tracker.start()
            freeze_startup_objects()
            if not settings.upstream_base_url:
                adapter.notice(SANDBOX_NOTICE)
            return await adapter.run()
        finally:
            await close_core(core)


# --- Discord (adapters/discord), imported only when DISCORD_BOT_TOKEN is set -----------------
async def run_discord(core: Core, settings: Settings) -> int:
    """Start the Discord adapter, then the tracker (its results find the channel), and serve."""
    from adapters.discord import from_settings
    from storage.sql_store import SqlStore

    store = core.services.store
    if not isinstance(store, SqlStore):
        raise TypeError("the Discord adapter keeps its interactions in the SQL store")
    adapter = from_settings(core.dispatcher, settings, store.engine)
    try:
        await adapter.prepare()  # logged in; no interaction arrives before connect()
        if adapter.channel is None:
            raise RuntimeError("the Discord adapter did not start")
        core.services.channels[adapter.platform] = adapter.channel
        await core.tracker.start()
        await adapter.connect()
        freeze_startup_objects()
        await adapter.wait_closed()
        return 0
    finally:
        await adapter.close()
# --- end of Discord --------------------------------------------------------------------------


def run_app(console_only: bool = False) -> int:
    """Run the bot until its adapters stop; returns the process exit code."""
    settings = Settings()
    setup_logging(settings.log_level)
    try:
        return asyncio.run(_main(settings, console_only))
    except KeyboardInterrupt:
        return 130
