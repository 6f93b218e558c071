"""What commands and tasks share: the services, one command's context, and the user-facing errors.

Below both commands and tasks, so imports read top-down (adapters -> dispatcher -> commands ->
tasks -> services, store, client).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from bot.channel import Actor, Channel, ChatRef, MessageRef
from bot.config import Settings
from bot.i18n import Catalog
from bot.inbound import ChatSettings, CommandRequest
from bot.metrics import Metrics
from bot.policy import Cost, Policy
from bot.prices import PriceTable
from bot.quotas import QuotaLedger, keep_reservations
from bot.replies import Reply, text_reply
from bot.upstream import UpstreamClient, UpstreamError
from storage.base import JobRecord, Store, UserPrefs
from storage.chat_settings import ChatSettingsStore
from storage.usage_reports import UsageReports

log = logging.getLogger(__name__)

# Platforms show "typing…" for about five seconds; renewed a little before it fades.
TYPING_RENEW_S = 4.0


class UserError(Exception):
    """Bad input from the user: shown in their chat from the catalog key `key`."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class Denied(Exception):
    """The policy said no; `reason` is already user-facing text (in the user's language)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobWatcher(Protocol):
    """What submits need of the task tracker: its admission gate and `watch`."""

    admission: asyncio.Semaphore

    def watch(self, job: JobRecord, language: str | None = None) -> None:
        """Start polling a job that now has an upstream id."""

    def recover(self, job_id: int) -> None:
        """Look for a job whose submit's fate is unknown among the gateway's recent tasks."""

    def poll_lease_until(self) -> float | None:
        """Until when a job submitted now is held for this process's polling (epoch seconds,
        stored with its upstream id); None when the store is not shared."""


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """A command as /help lists it (built from the command table by the composition root)."""

    name: str
    description: str
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class Services:
    """Everything a command may use, built once by the composition root."""

    settings: Settings
    client: UpstreamClient
    store: Store
    catalog: Catalog
    policy: Policy
    channels: dict[str, Channel] = field(default_factory=dict)
    tracker: JobWatcher | None = None
    menu: tuple[MenuEntry, ...] = ()
    prices: PriceTable = field(default_factory=PriceTable)
    # Daily limits (None when the store offers no usage reports).
    quotas: QuotaLedger | None = None
    # Per-chat switches (/settings) and usage reports (/usage, /stats), on the store's engine.
    chat_store: ChatSettingsStore | None = None
    reports: UsageReports | None = None
    metrics: Metrics = field(default_factory=Metrics)

    def channel_for(self, platform: str) -> Channel | None:
        return self.channels.get(platform)

    async def chat_settings(self, chat: ChatRef) -> ChatSettings:
        """The chat's switches, the operator's defaults where an admin set none."""
        default_scope = self.settings.context_scope
        if self.chat_store is None:
            return ChatSettings(context_scope=default_scope)
        stored = await self.chat_store.get(chat.platform, chat.chat_id)
        scope = stored.context_scope if stored.context_scope in ("user", "chat") else None
        return ChatSettings(
            answer_all=bool(stored.answer_all),
            auto_transcribe=stored.auto_transcribe is not False,
            context_scope="chat" if (scope or default_scope) == "chat" else "user",
        )

    def upstream_failed(self, exc: UpstreamError) -> None:
        """Note a gateway error the command handles: counted by kind, and when the gateway may
        have charged for it, the command's quota reservations count as spent."""
        self.metrics.upstream_errors.labels(type(exc).__name__).inc()
        if exc.maybe_charged:
            keep_reservations()

    def is_admin(self, actor: Actor) -> bool:
        return actor.key in self.settings.admins


@dataclass(slots=True)
class CommandContext:
    """One command (or button press, or text submit) being handled: request, channel, helpers."""

    services: Services
    request: CommandRequest
    channel: Channel
    language: str
    # For button presses: the message that carried the button.
    message: MessageRef | None = None
    # The actor's preferences as loaded when the command started (saves commands a second read).
    prefs: UserPrefs = field(default_factory=UserPrefs)
    # The chat's switches as loaded when the command started.
    chat_settings: ChatSettings = field(default_factory=ChatSettings)
    # Set when the command told the user of a gateway error itself (its outcome, for metrics).
    upstream_error: bool = False

    @property
    def actor(self) -> Actor:
        return self.request.actor

    @property
    def chat(self) -> ChatRef:
        return self.request.chat

    def t(self, key: str, **values: object) -> str:
        """A catalog message in the user's language."""
        return self.services.catalog.t(self.language, key, **values)

    async def reply(self, reply: Reply) -> MessageRef:
        """Answer in the chat, as a reply to the user's own message where there is one."""
        return await self.channel.send(self.chat, reply, reply_to=self.request.message)

    async def say(self, key: str, **values: object) -> MessageRef:
        """Send one catalog message as a text reply."""
        return await self.reply(text_reply(self.t(key, **values)))

    def upstream_failed(self, exc: UpstreamError) -> None:
        """The command shows a gateway error itself: counted, and its outcome says so."""
        self.upstream_error = True
        self.services.upstream_failed(exc)

    async def check_policy(self, cost: Cost, command: str | None = None) -> None:
        """Ask the policy before an upstream call; raises Denied with a user-facing reason."""
        decision = await self.services.policy.check(
            self.actor, self.chat, command or self.request.command, cost
        )
        if not decision.allowed:
            if not decision.key:
                raise Denied(decision.reason)
            values = dict(decision.values)
            if "kind" in values:  # a limit's kind, named in the user's words
                values["kind"] = self.t(f"quota.kind.{values['kind']}")
            raise Denied(self.t(decision.key, **values))

    @contextlib.asynccontextmanager
    async def typing(self) -> AsyncIterator[None]:
        """Show the working indicator while the body runs (renewed until it ends)."""
        renewal = _TypingRenewal(self.channel, self.chat)
        await renewal.show()
        try:
            yield
        finally:
            await renewal.stop()


class _TypingRenewal:
    """Shows "typing…" now and again every TYPING_RENEW_S until stopped.

    The renewal is a timer, not a task, so the common short answer costs one call.
    """

    def __init__(self, channel: Channel, chat: ChatRef) -> None:
        self.channel = channel
        self.chat = chat
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None
        self._stopped = False

    async def show(self) -> None:
        try:
            await self.channel.typing(self.chat)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Cosmetic: an indicator that cannot be shown must not fail the command.
            log.info("typing indicator not shown in %s: %r", self.chat.chat_id, exc)
            return
        if not self._stopped:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(TYPING_RENEW_S, self._renew)

    def _renew(self) -> None:
        self._running = asyncio.create_task(self.show())

    async def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
        if self._running is not None:
            self._running.cancel()
            await asyncio.gather(self._running, return_exceptions=True)
