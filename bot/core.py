"""The dispatcher: neutral requests and button presses in, command runs out, errors as messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.channel import Actor, Channel, ChatRef, CommandRequest, MessageRef
from bot.commands.registry import CommandTable
from bot.config import Settings
from bot.i18n import Catalog
from bot.policy import Cost, Policy
from bot.replies import Reply, text_reply
from bot.upstream import UpstreamClient, UpstreamError
from storage.base import ButtonAction, Store, UserPrefs

if TYPE_CHECKING:
    from bot.tasks.tracker import TaskTracker

log = logging.getLogger(__name__)


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


ButtonHandler = Callable[["CommandContext", ButtonAction], Awaitable[None]]


@dataclass(slots=True)
class Services:
    """Everything a command may use, built once by the composition root."""

    settings: Settings
    client: UpstreamClient
    store: Store
    catalog: Catalog
    policy: Policy
    channels: dict[str, Channel] = field(default_factory=dict)
    tracker: TaskTracker | None = None
    commands: CommandTable = field(default_factory=CommandTable)
    buttons: dict[str, ButtonHandler] = field(default_factory=dict)
    # Running background work started by commands (streams, jobs); awaited on shutdown.
    background: set[asyncio.Task[None]] = field(default_factory=set)

    def channel_for(self, platform: str) -> Channel | None:
        return self.channels.get(platform)

    def is_admin(self, actor: Actor) -> bool:
        return actor.key in self.settings.admins


@dataclass(slots=True)
class CommandContext:
    """One command (or button press) being handled: the request, where to answer, and helpers."""

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
        return await self.channel.send(self.chat, reply)

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


class Bot:
    """What adapters call: `handle_command`, `handle_message`, `handle_button`. Never raises."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle_command(self, request: CommandRequest, channel: Channel) -> None:
        """Run a slash command; every failure ends as a message in the user's chat."""
        language = self.services.catalog.default_language
        ctx = CommandContext(self.services, request, channel, language)
        await self._guarded(ctx, self._run_command)

    async def handle_message(self, request: CommandRequest, channel: Channel) -> None:
        """A plain message (no command): voice notes are transcribed, text goes to /ask."""
        has_audio = any(a.is_audio for a in request.attachments)
        command = "transcribe" if has_audio and not request.text.strip() else "ask"
        routed = CommandRequest(
            actor=request.actor,
            chat=request.chat,
            command=command,
            text=request.text,
            attachments=request.attachments,
            options=request.options,
        )
        await self.handle_command(routed, channel)

    async def handle_button(
        self,
        actor: Actor,
        chat: ChatRef,
        token: str,
        channel: Channel,
        message: MessageRef | None = None,
    ) -> None:
        """A press of one of our buttons, identified by its opaque token."""
        request = CommandRequest(actor=actor, chat=chat, command="button", text=token)
        ctx = CommandContext(
            self.services, request, channel, self.services.catalog.default_language, message
        )
        await self._guarded(ctx, self._run_button)

    async def _run_command(self, ctx: CommandContext) -> None:
        spec = self.services.commands.get(ctx.request.command)
        if spec is None:
            await ctx.say("command.unknown", command=ctx.request.command)
            return
        await spec.handler(ctx)

    async def _run_button(self, ctx: CommandContext) -> None:
        action = await self.services.store.resolve_token(ctx.request.text)
        handler = self.services.buttons.get(action.kind) if action else None
        if action is None or handler is None:
            log.info("unknown or expired button token from %s", ctx.actor.key)
            await ctx.say("button.unknown")
            return
        owner_ok = action.owner_id == ctx.actor.user_id and action.platform == ctx.actor.platform
        if not owner_ok and not self.services.is_admin(ctx.actor):
            log.info("%s pressed a button owned by %s", ctx.actor.key, action.owner_id)
            await ctx.say("button.not_yours")
            return
        await handler(ctx, action)

    async def _guarded(
        self, ctx: CommandContext, run: Callable[[CommandContext], Awaitable[None]]
    ) -> None:
        try:
            ctx.prefs = await self.services.store.get_prefs(ctx.actor.platform, ctx.actor.user_id)
            ctx.language = self.services.catalog.resolve_language(
                ctx.prefs.language or ctx.actor.language
            )
            await run(ctx)
        except UserError as exc:
            log.info("bad input for /%s from %s: %s", ctx.request.command, ctx.actor.key, exc.key)
            await self._tell(ctx, ctx.t(exc.key, **exc.values))
        except Denied as exc:
            log.info("policy denied /%s to %s", ctx.request.command, ctx.actor.key)
            await self._tell(ctx, ctx.t("error.denied", reason=exc.reason))
        except UpstreamError as exc:
            log.warning(
                "upstream error in /%s for %s: %s (status=%s code=%s)",
                ctx.request.command,
                ctx.actor.key,
                type(exc).__name__,
                exc.status,
                exc.code,
            )
            await self._tell(ctx, ctx.t("error.upstream", message=exc.user_message))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("/%s failed for %s", ctx.request.command, ctx.actor.key)
            await self._tell(ctx, ctx.t("error.generic"))

    async def _tell(self, ctx: CommandContext, text: str) -> None:
        # The chat itself may be what failed; losing the notice must not kill the loop.
        try:
            await ctx.channel.send(ctx.chat, text_reply(text))
        except Exception:
            log.exception("could not deliver an error message to %s", ctx.chat)
