"""A streamed answer on Telegram: a draft (private chats) or one message edited as text grows.

`update` only records the latest text and offers a step to the chat's lane; each step makes one
request towards showing that text, so steps follow the chat's pace and a newer text simply
replaces an older one. `finish` always delivers the whole final text, however many 429s stand
in the way.
"""

from __future__ import annotations

import itertools
import logging
from typing import Protocol

from telegram import Bot, ForceReply, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest

from adapters.telegram.keyboards import keyboard
from adapters.telegram.pacing import Lane
from adapters.telegram.redact import redact
from adapters.telegram.render import Chunk, render
from bot.channel import ChatRef, MessageRef
from bot.replies import Reply, Text

log = logging.getLogger(__name__)

_draft_ids = itertools.count(1)
_stream_ids = itertools.count(1)


class Sender(Protocol):
    """What a stream needs of the channel (adapters.telegram.channel.TelegramChannel)."""

    bot: Bot

    def lane(self, chat: ChatRef) -> Lane: ...

    async def send(
        self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef: ...

    async def send_text(
        self, chat: ChatRef, chunk: Chunk,
        markup: InlineKeyboardMarkup | ForceReply | None = None, reply_to: int | None = None,
    ) -> Message: ...

    async def edit_text(
        self, chat: ChatRef, message_id: int, chunk: Chunk,
        markup: InlineKeyboardMarkup | ForceReply | None = None,
    ) -> None: ...

    async def delete(self, message: MessageRef) -> None: ...


class TelegramStream:
    """Implements `bot.channel.TextStream`."""

    def __init__(
        self, channel: Sender, chat: ChatRef, reply_to: MessageRef | None,
        *, use_draft: bool,
    ) -> None:
        self._channel = channel
        self._chat = chat
        self._chat_id = int(chat.chat_id)
        self._thread = int(chat.thread_id) if chat.thread_id else None
        self._reply_to = int(reply_to.message_id) if reply_to else None
        self._use_draft = use_draft
        self._draft_id = next(_draft_ids)
        self._key = f"stream:{next(_stream_ids)}"
        self._latest = ""
        self._finished = False
        self._ids: list[int] = []
        self._shown: list[Chunk] = []
        self._draft_shown: Chunk | None = None
        self._plain = False  # Telegram refused our formatting once: stream plain text
        self._lane = channel.lane(chat)

    def update(self, markdown: str) -> None:
        """Offer the whole text so far; returns at once."""
        if self._finished or markdown == self._latest or not _has_words(markdown):
            return  # a bare placeholder ("…"): the typing action already says we are on it
        self._latest = markdown
        self._lane.offer(self._key, self._step)

    async def _step(self) -> None:
        if self._finished:
            return
        chunks = render(self._latest)
        if self._plain:
            chunks = [c.plain() for c in chunks]
        try:
            if self._use_draft:
                await self._draft(chunks[-1])
                return
            converged = await self._edit_step(chunks)
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            if self._use_draft and "draft" in exc.message.lower():
                log.info("drafts refused in %s; editing a message instead", self._chat_id)
                self._use_draft = False
            elif not self._plain:
                log.info("formatting refused in %s: %s", self._chat_id, redact(exc.message))
                self._plain = True
            else:
                raise
            converged = False
        if not converged and not self._finished:
            self._lane.offer(self._key, self._step)

    async def _draft(self, chunk: Chunk) -> None:
        if chunk == self._draft_shown:
            return
        await self._channel.bot.send_message_draft(
            self._chat_id, self._draft_id, chunk.text, entities=chunk.entities or None,
            message_thread_id=self._thread,
        )
        self._draft_shown = chunk

    async def _edit_step(self, chunks: list[Chunk]) -> bool:
        """One request towards `chunks` on screen; True when they are all there."""
        bot = self._channel.bot
        for i, chunk in enumerate(chunks):
            if i < len(self._ids):
                if self._shown[i] == chunk:
                    continue
                await bot.edit_message_text(
                    chunk.text, self._chat_id, self._ids[i], entities=chunk.entities or None
                )
                self._shown[i] = chunk
            else:
                sent = await bot.send_message(
                    self._chat_id, chunk.text, entities=chunk.entities or None,
                    reply_parameters=_reply(self._reply_to if i == 0 else None),
                    message_thread_id=self._thread,
                )
                self._ids.append(sent.message_id)
                self._shown.append(chunk)
            return i == len(chunks) - 1
        return True

    async def finish(self, reply: Reply) -> MessageRef:
        """Deliver the final reply in full: its text as the stream's messages, then any media."""
        self._finished = True
        self._lane.drop(self._key)
        await self._lane.idle_moment()  # a step already running ends before we look
        channel = self._channel
        media = tuple(p for p in reply.parts if not isinstance(p, Text))
        reply_to = MessageRef(self._chat, str(self._reply_to)) if self._reply_to else None
        if not self._ids:
            return await channel.send(self._chat, reply, reply_to=reply_to)
        chunks = render(reply.text) if reply.text.strip() else []
        markup = keyboard(reply.buttons if not media else ())
        last: MessageRef | None = None
        for i, chunk in enumerate(chunks):
            mark = markup if i == len(chunks) - 1 else None
            if i < len(self._ids):
                if self._shown[i] != chunk or mark is not None:
                    await channel.edit_text(self._chat, self._ids[i], chunk, mark)
                last = MessageRef(self._chat, str(self._ids[i]))
            else:
                sent = await channel.send_text(self._chat, chunk, mark, None)
                last = MessageRef(self._chat, str(sent.message_id))
        for stale in self._ids[len(chunks) :]:
            await channel.delete(MessageRef(self._chat, str(stale)))
        if media or last is None:
            last = await channel.send(self._chat, Reply(parts=media, buttons=reply.buttons))
        return last


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _reply(message_id: int | None) -> ReplyParameters | None:
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None
