"""The dispatcher: what adapters call (`bot.inbound.Inbound`). Never raises; errors end as messages.

Commands run to their end in `handle_command`. A press is decided at once from the store (not
yours, expired, needs text first) and its work, like a text submit's, runs as a background task
the dispatcher owns: `drain()` waits for them, `close()` cancels them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from bot.channel import Actor, Channel, MessageRef
from bot.commands import BUTTONS, COMMANDS
from bot.commands.registry import ButtonKind, CommandTable, SubmitHandler
from bot.inbound import (
    Accepted,
    AskText,
    CommandInfo,
    CommandRequest,
    Notice,
    ParamInfo,
    Press,
    PressAnswer,
    TextSubmit,
)
from bot.replies import text_reply
from bot.services import CommandContext, Denied, Services, UserError
from bot.upstream import UpstreamError
from storage.base import PendingText

log = logging.getLogger(__name__)

MAX_SUGGESTIONS = 25  # Discord's autocomplete limit
# 12 random bytes -> 16 URL-safe characters: fits a Discord custom_id and Telegram callback
# data, and 96 bits cannot be guessed.
TEXT_TOKEN_BYTES = 12
SUGGESTIONS_TTL_S = 60.0  # autocomplete asks on every keystroke: the candidates are kept a while


class Dispatcher:
    """Neutral requests, presses and text submits in; command runs and button actions out."""

    def __init__(
        self,
        services: Services,
        commands: CommandTable = COMMANDS,
        buttons: Mapping[str, ButtonKind] = BUTTONS,
    ) -> None:
        self.services = services
        self.commands_table = commands
        self.buttons = buttons
        self._background: set[asyncio.Task[None]] = set()
        self._opening: set[asyncio.Task[None]] = set()  # text requests being written
        self._answering: set[str] = set()  # text requests whose answer is being handled
        self._candidates: dict[tuple[str, str], tuple[float, list[str]]] = {}

    # --- commands and messages --------------------------------------------------------------
    async def handle_command(self, request: CommandRequest, channel: Channel) -> None:
        """Run a slash command; every failure ends as a message in the user's chat."""
        ctx = await self._context(request, channel)
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
            message=request.message,
        )
        await self.handle_command(routed, channel)

    async def _run_command(self, ctx: CommandContext) -> None:
        spec = self.commands_table.get(ctx.request.command)
        if spec is None:
            await ctx.say("command.unknown", command=ctx.request.command)
            return
        await spec.handler(ctx)

    # --- presses ----------------------------------------------------------------------------
    async def handle_press(self, press: Press, channel: Channel) -> PressAnswer:
        """Decide a press from the store alone; accepted work goes on in the background."""
        # What the press leads to answers the message that carried the button.
        request = CommandRequest(
            actor=press.actor,
            chat=press.chat,
            command="button",
            text=press.token,
            message=press.message,
        )
        ctx = CommandContext(
            self.services, request, channel, self.services.catalog.default_language, press.message
        )
        try:
            await self._load_prefs(ctx)
            return await self._decide(ctx, press.token)
        except UserError as exc:
            return Notice(ctx.t(exc.key, **exc.values))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deciding a press by %s failed", press.actor.key)
            return Notice(ctx.t("error.generic"))

    async def _decide(self, ctx: CommandContext, token: str) -> PressAnswer:
        store = self.services.store
        action = await store.resolve_token(token)
        kind = self.buttons.get(action.kind) if action is not None else None
        if action is None or kind is None:
            log.info("unknown or expired button token from %s", ctx.actor.key)
            return Notice(ctx.t("button.unknown"))
        if not self._may_act(ctx.actor, action.platform, action.owner_id):
            log.info("%s pressed a button owned by %s", ctx.actor.key, action.owner_id)
            return Notice(ctx.t("button.not_yours"))
        prompt = await kind.prompt(ctx, action) if kind.prompt is not None else None
        if prompt is not None:
            pending = PendingText(
                kind=kind.name,
                mode=prompt.mode,
                job_id=action.job_id,
                owner_id=action.owner_id,
                platform=action.platform,
                payload=action.payload,
                expires_at=time.time() + self.services.settings.text_request_ttl_s,
                token=secrets.token_urlsafe(TEXT_TOKEN_BYTES),
            )
            # Answered before the write lands: a Discord modal must be the press's first
            # response within 3 s, and the store's one writer may be busy with a burst. The
            # answer cannot come back before the question is shown; what reads the request
            # waits for the write first (`_opened`).
            self._spawn_opening(pending)
            return AskText(pending.token, prompt.request)
        press = kind.press
        if press is None:
            return Notice(ctx.t("button.unknown"))
        self._spawn(self._guarded(ctx, lambda c: press(c, action)))
        return Accepted()

    def _may_act(self, actor: Actor, platform: str, owner_id: str) -> bool:
        owner = actor.platform == platform and actor.user_id == owner_id
        return owner or self.services.is_admin(actor)

    # --- text submits -----------------------------------------------------------------------
    async def handle_text_submit(self, submit: TextSubmit, channel: Channel) -> None:
        """Complete the action a text request was opened for; an expired one is told so.

        Store reads only before it returns (a Discord modal submit wants an answer within 3 s);
        the completion runs in the background.
        """
        request = CommandRequest(
            actor=submit.actor, chat=submit.chat, command="text", message=submit.answered
        )
        ctx = await self._context(request, channel)
        try:
            pending = await self._pending(submit)
            if pending is None or pending.expires_at <= time.time():
                await self._tell(ctx, ctx.t("text.expired"))
                return
            if not self._may_act(submit.actor, pending.platform, pending.owner_id):
                await self._tell(ctx, ctx.t("text.not_yours"))
                return
            kind = self.buttons.get(pending.kind)
            complete = kind.submit if kind is not None else None
            if complete is None or pending.token in self._answering:
                await self._tell(ctx, ctx.t("text.expired"))
                return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a text submit by %s failed", submit.actor.key)
            await self._tell(ctx, ctx.t("error.generic"))
            return
        self._answering.add(pending.token)
        self._spawn(self._guarded(ctx, lambda c: self._answer(c, pending, complete, submit.text)))

    async def _answer(
        self, ctx: CommandContext, pending: PendingText, complete: SubmitHandler, text: str
    ) -> None:
        try:
            # Closed first, so a request is answered once (a double submit, a retried update,
            # another process): whoever deletes it completes it.
            if not await self.services.store.close_text_request(pending.token):
                await ctx.say("text.expired")
                return
            await complete(ctx, pending, text)
        finally:
            self._answering.discard(pending.token)

    async def _pending(self, submit: TextSubmit) -> PendingText | None:
        await self._opened()
        store = self.services.store
        if submit.token is not None:
            return await store.find_text_request(submit.token)
        if submit.answered is not None:
            return await store.find_text_request(
                platform=submit.answered.chat.platform,
                chat_id=submit.answered.chat.chat_id,
                message_id=submit.answered.message_id,
            )
        return None

    async def bind_text_request(self, token: str, asked: MessageRef) -> None:
        """Remember which message asked for the text (Telegram's ForceReply prompt)."""
        try:
            await self._opened()
            await self.services.store.bind_text_request(
                token, asked.chat.chat_id, asked.message_id
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not remember the message that asked for text")

    async def awaits_text(self, message: MessageRef) -> bool:
        """Whether `message` asked for text: a reply to it is a text submit."""
        try:
            await self._opened()
            found = await self.services.store.find_text_request(
                platform=message.chat.platform,
                chat_id=message.chat.chat_id,
                message_id=message.message_id,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("could not look up a text request")
            return False
        return found is not None

    # --- menus ------------------------------------------------------------------------------
    def commands(self, language: str) -> list[CommandInfo]:
        """The visible commands, described in `language` where the catalog has it."""
        catalog = self.services.catalog
        infos: list[CommandInfo] = []
        for spec in self.commands_table.specs():
            if spec.hidden:
                continue
            key = f"help.cmd.{spec.name}"
            description = (
                catalog.t(language, key) if catalog.has(language, key) else spec.description
            )
            params = tuple(
                ParamInfo(
                    p.name, p.kind, p.description, p.required, p.choices, p.count, p.suggests
                )
                for p in spec.params
            )
            infos.append(CommandInfo(spec.name, description, params, spec.aliases))
        return infos

    async def suggest(self, command: str, param: str, typed: str, actor: Actor) -> list[str]:
        """Values to suggest while `param` of `command` is typed, at most MAX_SUGGESTIONS."""
        spec = self.commands_table.get(command)
        if spec is None or spec.suggest is None:
            return []
        try:
            candidates = await self._suggestion_candidates(spec.name, param, spec.suggest)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("no suggestions for /%s %s: %r", command, param, exc)
            return []
        wanted = typed.strip().lower()
        starts = [c for c in candidates if c.lower().startswith(wanted)]
        inside = [c for c in candidates if wanted in c.lower() and c not in starts]
        return (starts + inside)[:MAX_SUGGESTIONS]

    async def _suggestion_candidates(
        self, command: str, param: str, source: Callable[[Services, str], Awaitable[list[str]]]
    ) -> list[str]:
        key = (command, param)
        cached = self._candidates.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        candidates = await source(self.services, param)
        self._candidates[key] = (time.monotonic() + SUGGESTIONS_TTL_S, candidates)
        return candidates

    # --- background work --------------------------------------------------------------------
    async def drain(self) -> None:
        """Wait until the background work of presses and submits (and what it started) is done."""
        await self._opened()
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        """Cancel background work (shutdown); what it stored stays."""
        await self._opened()  # a request being written is kept: its answer may come later
        tasks = list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn_opening(self, pending: PendingText) -> None:
        task = asyncio.create_task(self._open(pending))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    async def _open(self, pending: PendingText) -> None:
        try:
            await self.services.store.open_text_request(pending)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Its answer will be told the request expired: nothing was sent anywhere yet.
            log.exception("could not store a text request for %s", pending.owner_id)

    async def _opened(self) -> None:
        """Wait for text requests still being written (they are read next)."""
        if self._opening:
            await asyncio.gather(*self._opening, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- the guard --------------------------------------------------------------------------
    async def _context(self, request: CommandRequest, channel: Channel) -> CommandContext:
        ctx = CommandContext(
            self.services, request, channel, self.services.catalog.default_language
        )
        try:
            await self._load_prefs(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("preferences of %s not loaded; using the defaults", request.actor.key)
        return ctx

    async def _load_prefs(self, ctx: CommandContext) -> None:
        ctx.prefs = await self.services.store.get_prefs(ctx.actor.platform, ctx.actor.user_id)
        ctx.language = self.services.catalog.resolve_language(
            ctx.prefs.language or ctx.actor.language
        )

    async def _guarded(
        self, ctx: CommandContext, run: Callable[[CommandContext], Awaitable[None]]
    ) -> None:
        try:
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
            await ctx.channel.send(ctx.chat, text_reply(text), reply_to=ctx.request.message)
        except Exception:
            log.exception("could not deliver an error message to %s", ctx.chat)

