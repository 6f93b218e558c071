"""The core's `Channel` on Telegram: replies, edits, progress and streams, paced per chat."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from telegram import Bot, InputMediaPhoto, Message
from telegram.error import BadRequest

from adapters.telegram.keyboards import force_reply, keyboard
from adapters.telegram.outbox import (
    KINDS_KEPT,
    Markup,
    Outbox,
    chat_id_of,
    message_ref,
    not_modified,
    thread_of,
)
from adapters.telegram.pacing import Lane, Pacer
from adapters.telegram.redact import redact
from adapters.telegram.render import MAX_CAPTION, Chunk, caption_and_rest, render
from adapters.telegram.stream import TelegramStream
from bot.channel import ChatRef, MessageRef
from bot.replies import Progress, Reply, TextRequest

log = logging.getLogger(__name__)

PLATFORM = "telegram"
BAR_CELLS = 10

# Re-exported for the handlers: how a Telegram message is named to the core.
__all__ = ["PLATFORM", "TelegramChannel", "chat_id_of", "message_ref", "progress_text"]


def progress_text(state: Progress) -> str:
    """A job's state as words: a bar and percent when known, then its text."""
    if state.percent is None:
        return state.text
    filled = max(0, min(BAR_CELLS, round(state.percent * BAR_CELLS / 100)))
    bar = "▰" * filled + "▱" * (BAR_CELLS - filled)
    return f"{bar} {state.percent}%\n{state.text}".strip()


class TelegramChannel:
    """Implements `bot.channel.Channel` with a PTB `Bot`; every request goes through the pacer."""

    platform = PLATFORM

    def __init__(self, bot: Bot, pacer: Pacer, *, drafts: bool = True) -> None:
        self.bot = bot
        self.pacer = pacer
        self.drafts = drafts
        self.out = Outbox(bot, pacer)
        # Progress messages: what each shows now, and when it last changed.
        self._shown: OrderedDict[tuple[int, int], tuple[str, int]] = OrderedDict()
        self._progress_at: dict[tuple[int, int], float] = {}
        # Messages replaced by a resend (text -> photo): old id -> new id, in each chat.
        self._moved: OrderedDict[tuple[int, int], int] = OrderedDict()
        self._replacing: dict[tuple[int, int], asyncio.Future[MessageRef]] = {}

    def lane(self, chat: ChatRef) -> Lane:
        """The pacing lane of `chat`."""
        return self.pacer.lane(chat_id_of(chat), chat.is_private)

    # --- Channel ----------------------------------------------------------------------------

    async def send(
        self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        """Text as one or more messages, images, voice and files; buttons on the last."""
        markup = keyboard(reply.buttons)
        sent: list[Message] = []
        answer = int(reply_to.message_id) if reply_to else None

        def first_reply() -> int | None:
            return answer if not sent else None

        text = reply.text
        images, media = reply.images, reply.audio + reply.files
        caption: Chunk | None = None
        rest = render(text) if text.strip() else []
        if images or media:
            caption, rest = caption_and_rest(text)
        for i, chunk in enumerate(rest):
            last = i == len(rest) - 1 and not images and not media
            sent.append(
                await self.send_text(chat, chunk, markup if last else None, first_reply())
            )
        if len(images) == 1:
            sent.append(
                await self.out.send_photo(chat, images[0], caption, markup, first_reply())
            )
            caption = None
        elif images:
            # An album cannot carry a keyboard: its words and buttons follow it as a message.
            keyed = markup is not None and not media
            album_caption = None if keyed else caption
            sent.extend(await self.out.send_album(chat, images, album_caption, first_reply()))
            if keyed:
                sent.append(await self.send_text(chat, caption or Chunk("⬆️"), markup, None))
            caption = None
        for i, part in enumerate(media):
            last = i == len(media) - 1
            sent.append(
                await self.out.send_media(
                    chat, part, caption if i == 0 else None, markup if last else None,
                    first_reply(),
                )
            )
        if not sent:
            sent.append(await self.send_text(chat, Chunk("…"), markup, answer))
        return message_ref(chat, sent[-1].message_id)

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        """Edit in place where Telegram can; otherwise send anew and delete the old message."""
        message = await self._settled(message)
        chat, message_id = message.chat, int(message.message_id)
        self._end_progress(message)
        kind = self.out.kind_of(chat, message_id)
        markup = keyboard(reply.buttons)
        images = reply.images
        simple = not reply.audio and not reply.files
        if simple and len(images) == 1 and kind == "photo":
            caption, rest = caption_and_rest(reply.text)
            if not rest:
                await self.out.edit_photo(chat, message_id, images[0], caption, markup)
                return message
        if simple and not images:
            chunks = render(reply.text)
            if len(chunks) == 1 and kind != "photo":
                await self.edit_text(chat, message_id, chunks[0], markup)
                return message
            if len(chunks) == 1 and kind == "photo" and len(chunks[0].text) <= MAX_CAPTION:
                await self.out.edit_caption(chat, message_id, chunks[0], markup)
                return message
        new = await self.send(chat, reply)
        self._moved_to(message, new)
        await self._delete(message)
        return new

    async def progress(
        self, message: MessageRef | None, chat: ChatRef, state: Progress
    ) -> MessageRef:
        """A progress message (bar, percent, preview photo), edited at most every few seconds."""
        text = progress_text(state)
        message = await self._settled(message) if message is not None else None
        if message is None:
            if state.preview is not None:
                sent = await self.out.send_photo(chat, state.preview, Chunk(text[:MAX_CAPTION]))
            else:
                sent = await self.send_text(chat, Chunk(text), None, None)
            key = (chat_id_of(chat), sent.message_id)
            self._shown[key] = (text, _digest(state))
            self._progress_at[key] = time.monotonic()
            while len(self._shown) > KINDS_KEPT:
                self._progress_at.pop(self._shown.popitem(last=False)[0], None)
            return message_ref(chat, sent.message_id)
        key = (chat_id_of(chat), int(message.message_id))
        shown = self._shown.get(key)
        if shown == (text, _digest(state)):
            return message
        if state.preview is not None and (self.out.kind_of(chat, key[1]) or "text") == "text":
            # The first preview: Telegram cannot put a photo into a text message, so the
            # progress moves to a photo message (once per job) and the core keeps the new ref.
            # Shielded: a caller cancelled half-way must not leave two progress messages.
            move = asyncio.ensure_future(self._to_photo(message, state, text))
            self._replacing[key] = move
            move.add_done_callback(lambda _: self._replacing.pop(key, None))
            return await asyncio.shield(move)

        async def show() -> None:
            if key not in self._shown or self._shown[key] == (text, _digest(state)):
                return  # no longer a progress message (it became the result), or no change
            await self._show_progress(message, state, text)
            self._shown[key] = (text, _digest(state))
            self._progress_at[key] = time.monotonic()

        lane = self.lane(chat)
        due = self._progress_at.get(key, 0.0) + lane.pace.progress_gap
        lane.offer(f"progress:{message.message_id}", show, not_before=due)
        return message

    def open_stream(self, chat: ChatRef, *, reply_to: MessageRef | None = None) -> TelegramStream:
        """A growing answer: a draft in private chats, else one message edited as it grows."""
        return TelegramStream(self, chat, reply_to, use_draft=self.drafts and chat.is_private)

    async def delete(self, message: MessageRef) -> None:
        """Delete a message; one already gone (or too old to delete) is not an error."""
        message = await self._settled(message)
        await self._delete(message)

    def _end_progress(self, message: MessageRef) -> None:
        """`message` shows something else now: drop its pending progress."""
        key = (chat_id_of(message.chat), int(message.message_id))
        self.lane(message.chat).drop(f"progress:{message.message_id}")
        self._shown.pop(key, None)
        self._progress_at.pop(key, None)

    async def _delete(self, message: MessageRef) -> None:
        self._end_progress(message)
        await self.out.delete(message)

    async def typing(self, chat: ChatRef) -> None:
        """The "typing…" action; a failure only costs the indicator."""
        try:
            await self.bot.send_chat_action(
                chat_id_of(chat), "typing", message_thread_id=thread_of(chat)
            )
        except Exception as exc:
            log.info("typing action failed in %s: %s", chat.chat_id, redact(repr(exc)))

    # --- beyond the protocol: what the adapter itself needs --------------------------------

    async def ask_text(
        self, chat: ChatRef, words: Chunk, request: TextRequest, reply_to: MessageRef | None
    ) -> MessageRef:
        """A ForceReply prompt saying `words`; the user's reply to it is the requested text."""
        answer = int(reply_to.message_id) if reply_to else None
        sent = await self.send_text(chat, words, force_reply(request), answer)
        return message_ref(chat, sent.message_id)

    async def send_text(
        self, chat: ChatRef, chunk: Chunk, markup: Markup = None, reply_to: int | None = None
    ) -> Message:
        """One text message (see Outbox.send_text)."""
        return await self.out.send_text(chat, chunk, markup, reply_to)

    async def edit_text(
        self, chat: ChatRef, message_id: int, chunk: Chunk, markup: Markup = None
    ) -> None:
        """Edit one text message (see Outbox.edit_text)."""
        await self.out.edit_text(chat, message_id, chunk, markup)

    async def _show_progress(self, message: MessageRef, state: Progress, text: str) -> None:
        # Called from the lane's worker: plain calls here, not lane.run (that would wait on
        # the very worker running this).
        chat_id, message_id = chat_id_of(message.chat), int(message.message_id)
        kind = self.out.kind_of(message.chat, message_id) or "text"
        try:
            if kind == "photo" and state.preview is not None:
                media = InputMediaPhoto(
                    state.preview.data, filename=state.preview.filename,
                    caption=text[:MAX_CAPTION],
                )
                await self.bot.edit_message_media(media, chat_id, message_id)
            elif kind == "photo":
                await self.bot.edit_message_caption(chat_id, message_id, caption=text[:MAX_CAPTION])
            else:
                await self.bot.edit_message_text(text[:4096], chat_id, message_id)
        except BadRequest as exc:
            if not not_modified(exc) and "not found" not in exc.message.lower():
                raise

    async def _to_photo(self, message: MessageRef, state: Progress, text: str) -> MessageRef:
        chat = message.chat
        assert state.preview is not None
        sent = await self.out.send_photo(chat, state.preview, Chunk(text[:MAX_CAPTION]))
        new = message_ref(chat, sent.message_id)
        self._moved_to(message, new)
        key = (chat_id_of(chat), sent.message_id)
        self._shown[key], self._progress_at[key] = (text, _digest(state)), time.monotonic()
        await self._delete(message)
        return new

    async def _settled(self, message: MessageRef) -> MessageRef:
        """`message` as it is now: after a replacement in flight ends, and followed to where
        a replacement moved it."""
        pending = self._replacing.get((chat_id_of(message.chat), int(message.message_id)))
        if pending is not None:
            await asyncio.wait([pending])
        return self.current(message)

    def current(self, message: MessageRef) -> MessageRef:
        """The message that replaced `message` (a resend), for callers holding an older ref."""
        chat_id, message_id = chat_id_of(message.chat), int(message.message_id)
        seen = 0
        while (moved := self._moved.get((chat_id, message_id))) is not None and seen < 8:
            message_id, seen = moved, seen + 1
        return message if not seen else message_ref(message.chat, message_id)

    def _moved_to(self, old: MessageRef, new: MessageRef) -> None:
        self._moved[(chat_id_of(old.chat), int(old.message_id))] = int(new.message_id)
        if len(self._moved) > KINDS_KEPT:
            self._moved.popitem(last=False)


def _digest(state: Progress) -> int:
    return hash(state.preview.data) if state.preview is not None else 0
