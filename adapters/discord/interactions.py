"""Interaction handlers: acknowledge first (inside Discord's 3 s), then hand the core the event.

Nothing awaits the upstream or the store before the acknowledgement. A press is the exception
that proves it: the core decides it from store look-ups only (a modal must be the first
response), bounded by `PRESS_DECIDE_S`, after which the press is deferred regardless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import discord

from adapters.discord.attachments import Wanted, audio_of, download, refusal
from adapters.discord.channel import PLATFORM, Answering, DiscordChannel, answering
from adapters.discord.mentions import NOBODY
from adapters.discord.modals import submitted, text_modal
from adapters.discord.redaction import describe_error
from adapters.discord.refs import ChannelMessage, InteractionMessage
from adapters.discord.texts import language_of, text
from bot.channel import Actor, ChatRef, MessageRef
from bot.inbound import (
    AskText,
    CommandRequest,
    Inbound,
    Notice,
    ParamInfo,
    Press,
    PressAnswer,
    TextSubmit,
)
from storage.discord_interactions import InteractionRecord, InteractionState, InteractionStore

log = logging.getLogger(__name__)
PRESS_DECIDE_S = 2.0
ACK_GATE_S = 0.25
SUGGEST_S = 2.0


@dataclass(frozen=True, slots=True)
class Given:
    """One option as the user filled it: the core's parameter and the value Discord sent."""

    param: ParamInfo
    value: Any


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    user = interaction.user
    return Actor(PLATFORM, str(user.id), name=user.display_name,
                 language=language_of(interaction.locale))


def chat_of(interaction: discord.Interaction[Any]) -> ChatRef:
    guild = interaction.guild_id
    return ChatRef(PLATFORM, str(interaction.channel_id), is_private=guild is None,
                   guild_id=str(guild) if guild is not None else None)


class Interactions:
    """Turns interactions into core events; one instance per adapter."""

    def __init__(self, inbound: Inbound, channel: DiscordChannel, store: InteractionStore, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.inbound = inbound
        self.channel = channel
        self.store = store
        self.clock = clock
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unacked = 0
        self._all_acked = asyncio.Event()
        self._all_acked.set()
        self._acking: ContextVar[bool] = ContextVar("discord_acking", default=False)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Count a running handler, so shutdown lets it finish (`drain`)."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)

    @contextlib.contextmanager
    def _tracked(self) -> Iterator[None]:
        """`running`, and its acknowledgement counted until sent (for `_ack_gate`)."""
        self._unacked += 1
        self._all_acked.clear()
        token = self._acking.set(True)
        try:
            with self.running():
                yield
        finally:
            self._acked()
            self._acking.reset(token)

    def _acked(self) -> None:
        """This handler's first response is sent (once per handler)."""
        if self._acking.get():
            self._acking.set(False)
            self._unacked -= 1
            if self._unacked == 0:
                self._all_acked.set()

    async def _ack_gate(self) -> None:
        """Let interactions still waiting for their acknowledgement go first (bounded).

        In a burst, the core's work for the first interactions would otherwise take the event
        loop from the acknowledgements of the next ones.
        """
        self._acked()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_acked.wait(), ACK_GATE_S)

    async def drain(self, bound: float) -> None:
        """Let running handlers finish (streams, first replies) for `bound` s, then stop them."""
        current = asyncio.current_task()
        running = [t for t in self._tasks if t is not current]
        if not running:
            return
        _, late = await asyncio.wait(running, timeout=bound) if bound > 0 else ((), running)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # --- slash commands and the context menu --------------------------------------------------
    async def command(self, interaction: discord.Interaction[Any], name: str,
                      given: list[Given]) -> None:
        with self._tracked():
            await self._command(interaction, name, given)

    async def _command(self, interaction: discord.Interaction[Any], name: str,
                       given: list[Given]) -> None:
        language = language_of(interaction.locale)
        wanted = [Wanted(g.param.kind, g.value) for g in given
                  if g.param.kind in ("image", "audio") and isinstance(g.value, discord.Attachment)]
        if (why := refusal(wanted, interaction.filesize_limit, language)) is not None:
            await interaction.response.send_message(why, ephemeral=True)
            return
        text_value = next((str(g.value) for g in given if g.param.kind == "text"
                           and g.value is not None), "")
        options = {g.param.name: _option(g.value) for g in given
                   if g.param.kind in ("choice", "flag") and g.value is not None}
        await self._run(interaction, name, text_value, options, wanted)

    async def transcribe_menu(self, interaction: discord.Interaction[Any],
                              message: discord.Message) -> None:
        with self._tracked():
            await self._transcribe_menu(interaction, message)

    async def _transcribe_menu(self, interaction: discord.Interaction[Any],
                               message: discord.Message) -> None:
        language = language_of(interaction.locale)
        audio = audio_of(message)
        if audio is None:
            await interaction.response.send_message(text(language, "no_audio"), ephemeral=True)
            return
        wanted = [Wanted("audio", audio)]
        if (why := refusal(wanted, interaction.filesize_limit, language)) is not None:
            await interaction.response.send_message(why, ephemeral=True)
            return
        await self._run(interaction, "transcribe", "", {}, wanted)

    async def _run(self, interaction: discord.Interaction[Any], name: str, text_value: str,
                   options: dict[str, str], wanted: list[Wanted]) -> None:
        language = language_of(interaction.locale)
        try:
            callback = await interaction.response.defer(thinking=True)  # first, always
        except discord.HTTPException as exc:
            # Too late (10062) or already answered (40060): nobody is waiting for this one.
            log.warning("/%s could not be acknowledged: %s", name, describe_error(exc))
            return
        await self._ack_gate()
        message_id = callback.message_id if callback is not None else None
        if message_id is None:
            message_id = (await interaction.original_response()).id
        record = InteractionRecord(
            interaction_id=str(interaction.id), application_id=str(interaction.application_id),
            token=interaction.token, channel_id=str(interaction.channel_id),
            user_id=str(interaction.user.id), created_at=self.clock(),
            message_id=str(message_id), language=language)
        ref = InteractionMessage(interaction.id, message_id)
        current = Answering(record, ref)
        chat = chat_of(interaction)
        try:
            await self.store.add(record)
            attachments = tuple([await download(w) for w in wanted])
        except Exception as exc:
            log.warning("/%s could not start: %s", name, describe_error(exc))
            await self._answer_failed(current, chat, language, "download_failed" if wanted
                                      else "failed", name=wanted[0].attachment.filename
                                      if wanted else "")
            return
        request = CommandRequest(
            actor=actor_of(interaction), chat=chat, command=name, text=text_value,
            attachments=attachments, options=options, message=MessageRef(chat, ref.encode()))
        token = answering.set(current)
        try:
            await self.inbound.handle_command(request, self.channel)
        except Exception as exc:  # the core should not raise; the bot keeps serving regardless
            log.exception("/%s failed: %s", name, describe_error(exc))
            await self._answer_failed(current, chat, language, "failed")
        finally:
            answering.reset(token)
        if not current.claimed:
            await self._answer_failed(current, chat, language, "done")

    async def _answer_failed(self, current: Answering, chat: ChatRef, language: str, key: str,
                             **values: str) -> None:
        """Replace "thinking…" with a short message, so no interaction is left thinking."""
        if current.claimed:
            return
        current.claimed = True
        try:
            await self.channel.messenger.edit(current.ref, text(language, key, **values),
                                              chat_id=int(chat.chat_id))
            await self.store.set_state(current.record.interaction_id, InteractionState.DONE)
        except Exception as exc:
            log.warning("could not answer interaction: %s", describe_error(exc))

    # --- buttons and modals -------------------------------------------------------------------
    async def press(self, interaction: discord.Interaction[Any], token: str) -> None:
        with self._tracked():
            await self._press(interaction, token)

    async def _press(self, interaction: discord.Interaction[Any], token: str) -> None:
        press = Press(actor_of(interaction), chat_of(interaction), token,
                      MessageRef(chat_of(interaction), _message_ref(interaction)))
        decision = asyncio.ensure_future(self.inbound.handle_press(press, self.channel))
        try:
            answer: PressAnswer = await asyncio.wait_for(asyncio.shield(decision),
                                                         PRESS_DECIDE_S)
        except TimeoutError:
            # Too slow to wait any longer for a modal: keep the press alive, answer after.
            await interaction.response.defer()
            answer = await decision
            note = ""
            if isinstance(answer, Notice):
                note = answer.text
            elif isinstance(answer, AskText):
                note = text(language_of(interaction.locale), "slow_press")
            elif answer.notice:
                note = answer.notice
            if note:
                await interaction.followup.send(note, ephemeral=True, allowed_mentions=NOBODY)
            return
        if isinstance(answer, Notice):
            await interaction.response.send_message(answer.text, ephemeral=True)
        elif isinstance(answer, AskText):
            await interaction.response.send_modal(text_modal(answer.token, answer.request))
        elif answer.notice:
            await interaction.response.send_message(answer.notice, ephemeral=True)
        else:
            await interaction.response.defer()

    async def modal_submit(self, interaction: discord.Interaction[Any]) -> None:
        with self._tracked():
            await self._modal_submit(interaction)

    async def _modal_submit(self, interaction: discord.Interaction[Any]) -> None:
        found = submitted(interaction.data)  # type: ignore[arg-type]
        if found is None:
            return
        token, value = found
        try:
            await interaction.response.defer()  # first, always
        except discord.HTTPException as exc:
            log.warning("a modal submit could not be acknowledged: %s", describe_error(exc))
            return
        await self._ack_gate()
        submit = TextSubmit(actor_of(interaction), chat_of(interaction), value, token=token)
        try:
            await self.inbound.handle_text_submit(submit, self.channel)
        except Exception as exc:
            log.exception("modal submit failed: %s", describe_error(exc))

    # --- autocomplete ---------------------------------------------------------------------------
    async def suggest(self, interaction: discord.Interaction[Any], command: str, param: str,
                      typed: str) -> list[str]:
        try:
            values = await asyncio.wait_for(
                self.inbound.suggest(command, param, typed, actor_of(interaction)), SUGGEST_S)
        except (TimeoutError, Exception) as exc:
            log.info("no suggestions for /%s %s: %s", command, param, type(exc).__name__)
            return []
        return [v for v in values if 0 < len(v) <= 100][:25]

    # --- after a restart ------------------------------------------------------------------------
    async def recover(self) -> int:
        """Answer interactions a previous run left deferred or mid-stream; returns how many."""
        done = 0
        for record in await self.store.unfinished():
            key = "restart_apology" if record.state == InteractionState.DEFERRED \
                else "interrupted"
            ref = InteractionMessage(int(record.interaction_id), int(record.message_id or 0))
            try:
                if record.state == InteractionState.DEFERRED:
                    # Killed between showing something and noting it: look before apologising.
                    shown = await self.channel.messenger.webhook(record).fetch_message(
                        ref.message_id)
                    if not shown.flags.loading:
                        await self.store.set_state(record.interaction_id,
                                                   InteractionState.ANSWERED)
                        continue
                    await self.channel.messenger.edit(ref, text(record.language or "en", key),
                                                      chat_id=int(record.channel_id))
                else:
                    await self.channel.messenger.followup(record, text(record.language or "en",
                                                                       key))
                await self.store.set_state(record.interaction_id, InteractionState.DONE)
                done += 1
            except Exception as exc:
                log.warning("could not answer an interaction left by the last run: %s",
                            describe_error(exc))
        await self.store.forget_old()
        return done


def _option(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _message_ref(interaction: discord.Interaction[Any]) -> str:
    message = interaction.message
    if message is None:
        return ""
    meta = message.interaction_metadata
    if meta is not None:  # a response to a command: edited through that command's token
        return InteractionMessage(meta.id, message.id).encode()
    return ChannelMessage(int(interaction.channel_id or 0), message.id).encode()
