"""Composition root: settings -> store -> client -> core -> the adapters that are configured."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot.channel import Channel
from bot.commands import BUTTONS, COMMANDS
from bot.commands.registry import ButtonKind, CommandTable
from bot.config import ConfigError, Settings, load_settings
from bot.dispatcher import Dispatcher
from bot.health_checks import HealthChecks
from bot.i18n import Catalog
from bot.logging_setup import mask_secrets, setup_logging
from bot.metrics import Metrics
from bot.offers import model_problems
from bot.policy import Policy
from bot.prices import PriceError, PriceTable
from bot.probes import HealthReporter, StoreProbe, UpstreamProbe
from bot.quotas import QuotaLedger
from bot.services import Services
from bot.tasks.tracker import TaskTracker
from bot.upstream import CapabilityWatch, FetchRules, UpstreamClient
from storage import create_store
from storage.base import StoreLocked
from storage.chat_settings import ChatSettingsStore
from storage.usage_reports import UsageReports

if TYPE_CHECKING:
    from bot.health import HealthServer

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
    # What /healthz runs: the store and the upstream here, adapters add theirs (`add_adapter`).
    health: HealthChecks
    # Probes the gateway's capabilities now and then; cancelled by `close_core`.
    refresher: asyncio.Task[None] | None = None

    def add_adapter(self, platform: str, channel: Channel, *, reporter: object = None) -> None:
        """Register an adapter: its channel (job results find their chat there), and its health
        check when it (or `reporter`, the object that holds the connection) has one."""
        self.services.channels[platform] = channel
        holder = reporter if reporter is not None else channel
        if isinstance(holder, HealthReporter):
            self.health.add(platform, holder.check_health)


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
    # Read first: a wrong price file stops start-up before anything is opened.
    prices = PriceTable.from_settings(settings.prices_file, settings.price_overrides)
    metrics = Metrics()
    store = create_store(settings.database_url, on_write=metrics.store_write_seconds.observe)
    await store.open()
    reports = UsageReports(store.engine)
    chat_store = ChatSettingsStore(store.engine, shared=store.shared)
    await chat_store.load()
    ledger = QuotaLedger(
        reports, prices, settings.user_daily_limits, settings.chat_daily_limits
    )
    client = UpstreamClient(
        upstream_url,
        api_key,
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        fetch_rules=FetchRules.with_hosts(settings.fetch_allowed_hosts),
    )
    services = Services(
        settings=settings,
        client=client,
        store=store,
        catalog=Catalog(settings.language),
        policy=Policy(settings, prices, ledger),
        menu=commands.menu(),
        prices=prices,
        quotas=ledger,
        chat_store=chat_store,
        reports=reports,
        metrics=metrics,
    )
    tracker = TaskTracker(services)
    services.tracker = tracker
    services.metrics.pending_jobs.set_function(tracker.pending_count)
    health = HealthChecks()
    health.add("store", StoreProbe(store.engine))
    health.add("upstream", UpstreamProbe(client))
    await learn_capabilities(client, settings)
    refresher = asyncio.create_task(_refresh_later(client.capabilities))
    return Core(services, tracker, Dispatcher(services, commands, buttons), health, refresher)


async def learn_capabilities(client: UpstreamClient, settings: Settings) -> None:
    """What the gateway offers, learnt before the first command (menus and /help follow it);
    a configured model it does not list is named in a warning."""
    try:
        caps = await client.capabilities.refresh()
    except Exception:  # unknown is not absent: every command stays offered
        log.exception("could not learn what the gateway offers")
        return
    for problem in model_problems(settings, caps):
        log.warning("%s", problem)


async def _refresh_later(watch: CapabilityWatch) -> None:
    # The first probe ran at start-up; the next ones every max_age_s.
    await asyncio.sleep(watch.max_age_s)
    await watch.keep_fresh()


@contextlib.asynccontextmanager
async def health_server(core: Core, settings: Settings) -> AsyncIterator[HealthServer | None]:
    """/healthz and /metrics on HEALTH_PORT while the bot runs; nothing when it is not set."""
    if settings.health_port is None:
        yield None
        return
    from bot.health import HealthServer

    server = HealthServer(
        core.health, core.services.metrics, host=settings.health_host, port=settings.health_port
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


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
    if core.refresher is not None:
        core.refresher.cancel()
        await asyncio.gather(core.refresher, return_exceptions=True)
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


class StartupError(Exception):
    """Start-up cannot go on; `reason` says what to fix, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _open_core(settings: Settings, url: str, key: str) -> Core:
    try:
        return await build_core(settings, upstream_url=url, api_key=key)
    except PriceError as exc:
        raise StartupError(str(exc)) from None
    except StoreLocked as exc:
        raise StartupError(str(exc)) from None
    except (OSError, SQLAlchemyError) as exc:
        raise StartupError(f"the database at DATABASE_URL cannot be opened: {exc}") from None


async def _main(settings: Settings, console_only: bool) -> int:
    async with upstream_endpoint(settings) as (url, key):
        core = await _open_core(settings, url, key)
        try:
            if not console_only:
                platforms = await open_platforms(core, settings)
                if platforms:
                    return await serve_platforms(core, settings, platforms)
            from adapters.console import ConsoleAdapter
            from adapters.console.terminal import history_path

            adapter = ConsoleAdapter(
                core.dispatcher,
                stdin=sys.stdin,
                stdout=sys.stdout,
                output_dir=settings.console_output_dir,
                history_file=history_path(settings.database_url, settings.console_history_file),
                language=settings.language,
                jobs=core.tracker,
            )
            core.add_adapter(adapter.platform, adapter)
            await core.tracker.start()
            freeze_startup_objects()
            if not settings.upstream_base_url:
                adapter.notice(SANDBOX_NOTICE)
            async with health_server(core, settings):
                return await run_until_stopped(core, settings, adapter.run())
        finally:
            await close_core(core)


async def run_until_stopped(
    core: Core, settings: Settings, adapters: Coroutine[Any, Any, int]
) -> int:
    """Run the adapters until they end, or until SIGTERM: then new commands are turned away,
    running ones (streams) get SHUTDOWN_GRACE_S to finish, and 0 is returned. Midjourney jobs
    still pending stay in the store: the next start resumes them. A second SIGTERM exits now."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def on_sigterm() -> None:
        if stopping.is_set():
            log.warning("second SIGTERM: exiting at once")
            os._exit(128 + signal.SIGTERM)
        log.info("SIGTERM: finishing what is running, taking no new commands")
        stopping.set()

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    running = asyncio.create_task(adapters)
    stopped = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            return running.result()
        core.dispatcher.stop_accepting()
        if not await core.dispatcher.wait_commands(settings.shutdown_grace_s):
            grace = settings.shutdown_grace_s
            log.warning("commands still running after %.0f s; stopping them", grace)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        return 0
    finally:
        stopped.cancel()
        loop.remove_signal_handler(signal.SIGTERM)


@dataclass(slots=True)
class Platform:
    """A chat platform's adapter as the composition root drives it: connected (its channel
    registered, so results of jobs from before a restart find their chat), then started (events
    flow), served until stopped, closed."""

    name: str
    start: Callable[[], Awaitable[None]]
    serve: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]


async def open_platforms(core: Core, settings: Settings) -> list[Platform]:
    """Connect every platform whose token is set (each imported only then)."""
    platforms: list[Platform] = []
    try:
        if settings.telegram_bot_token is not None:
            platforms.append(await _open_telegram(core, settings))
        if settings.discord_bot_token is not None:
            platforms.append(await _open_discord(core, settings))
    except BaseException:
        for platform in platforms:
            await platform.close()
        raise
    return platforms


async def serve_platforms(core: Core, settings: Settings, platforms: list[Platform]) -> int:
    """Start the tracker and the platforms, and serve them until SIGTERM (or all end)."""
    try:
        await core.tracker.start()
        async with health_server(core, settings):
            # Started under the SIGTERM handler: a platform may already take commands while
            # another is still connecting (Discord waits for its guilds), and a stop then must
            # be the graceful one.
            return await run_until_stopped(core, settings, _start_and_serve(platforms))
    finally:
        for platform in platforms:
            await platform.close()


async def _start_and_serve(platforms: list[Platform]) -> int:
    for platform in platforms:
        await platform.start()
    freeze_startup_objects()
    await asyncio.gather(*(platform.serve() for platform in platforms))
    return 0


async def _open_telegram(core: Core, settings: Settings) -> Platform:
    from adapters.telegram.adapter import TelegramAdapter
    from adapters.telegram.redact import TelegramFailure

    token = settings.telegram_bot_token
    assert token is not None
    adapter = TelegramAdapter(
        core.dispatcher,
        core.services.store.engine,
        token.get_secret_value(),
        settings.telegram_api_base_url,
        on_rate_limited=core.services.metrics.rate_limited.labels("telegram").inc,
    )
    try:
        await adapter.connect()
    except TelegramFailure as exc:
        raise StartupError(f"Telegram refused to connect: {exc}") from None
    core.add_adapter(adapter.platform, adapter.channel)
    return Platform(adapter.platform, adapter.start, _until_cancelled, adapter.stop)


async def _open_discord(core: Core, settings: Settings) -> Platform:
    from adapters.discord import from_settings

    adapter = from_settings(
        core.dispatcher,
        settings,
        core.services.store.engine,
        on_rate_limited=core.services.metrics.rate_limited.labels("discord").inc,
    )
    try:
        await adapter.prepare()  # logged in; no interaction arrives before connect()
    except Exception as exc:
        await adapter.close()
        raise StartupError(f"Discord refused to log in: {mask_secrets(str(exc))}") from None
    except BaseException:
        await adapter.close()
        raise
    if adapter.channel is None:
        await adapter.close()
        raise StartupError("the Discord adapter did not start")
    core.add_adapter(adapter.platform, adapter.channel)
    return Platform(adapter.platform, adapter.connect, adapter.wait_closed, adapter.close)


async def _until_cancelled() -> None:
    # Telegram's intake runs in its own tasks: serving it is waiting for the stop.
    await asyncio.Event().wait()


def settings_or_exit() -> Settings:
    """The settings, or each wrong one named on stderr and exit status 2 (no traceback)."""
    try:
        return load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"modelbridge: configuration: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def run_app(console_only: bool = False) -> int:
    """Run the bot until its adapters stop; returns the process exit code."""
    settings = settings_or_exit()
    setup_logging(settings.log_level, settings.log_format)
    try:
        return asyncio.run(_main(settings, console_only))
    except KeyboardInterrupt:
        return 130
    except StartupError as exc:
        # What the operator must fix, on one line: a traceback would bury it.
        log.error("cannot start: %s", exc.reason)
        return 1
