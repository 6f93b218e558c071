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
from bot.inbound import CommandRequest
from bot.policy import Cost, Policy
from bot.replies import Reply, text_reply
from bot.upstream import UpstreamClient
from storage.base import JobRecord, Store, UserPrefs

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
    """The policy said no; `reason` is already user-facing text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobWatcher(Protocol):
    """What submits need of the task tracker: its admission gate and `watch`."""

    admission: asyncio.Semaphore

    def watch(self, job: JobRecord, language: str | None = None) -> None:
        """Start polling a job that now has an upstream id."""


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

    def channel_for(self, platform: str) -> Channel | None:
        return self.channels.get(platform)

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

    async def check_policy(self, cost: Cost, command: str | None = None) -> None:
        """Ask the policy before an upstream call; raises Denied with a user-facing reason."""
        decision = await self.services.policy.check(
            self.actor, self.chat, command or self.request.command, cost
        )
        if not decision.allowed:
            raise Denied(decision.reason)

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
