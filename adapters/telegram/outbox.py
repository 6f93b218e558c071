"""Single Telegram messages of every kind, sent and edited through the chat's lane.

Each call is one message (an album: one group) with the fallbacks Telegram makes necessary:
formatting refused -> plain text, "message is not modified" -> done, a picture refused as a
photo -> a file. What a message is (text, photo, other media) is remembered, so an edit can
pick the call Telegram accepts for it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest

from adapters.telegram.pacing import Lane, Pacer
from adapters.telegram.render import Chunk
from bot.channel import ChatRef, MessageRef
from bot.replies import Audio, File, Image

log = logging.getLogger(__name__)

T = TypeVar("T")
# How many sent messages' kinds (text or media) are remembered, to pick the right edit call.
KINDS_KEPT = 20_000

Markup = InlineKeyboardMarkup | ForceReply | None


def chat_id_of(chat: ChatRef) -> int:
    """Telegram's chat id from the core's chat reference."""
    return int(chat.chat_id)


def message_ref(chat: ChatRef, message_id: int) -> MessageRef:
    """The core's reference to a Telegram message."""
    return MessageRef(chat, str(message_id))


def not_modified(exc: BadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing: a success for us."""
    return "not modified" in exc.message.lower()


def entities_rejected(exc: BadRequest) -> bool:
    """Telegram refused the formatting, not the message: resend the words as plain text."""
    text = exc.message.lower()
    return "entit" in text or "parse" in text or "can't find end" in text


def reply_parameters(message_id: int | None) -> ReplyParameters | None:
    """Reply to `message_id`, still sending if that message is gone."""
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


def thread_of(chat: ChatRef) -> int | None:
    """The forum topic to post in, if any."""
    return int(chat.thread_id) if chat.thread_id else None


class Outbox:
    """Sends and edits one message at a time for the channel and streams."""

    def __init__(self, bot: Bot, pacer: Pacer) -> None:
        self.bot = bot
        self.pacer = pacer
        self._kinds: OrderedDict[tuple[int, int], str] = OrderedDict()

    def lane(self, chat: ChatRef) -> Lane:
        """The pacing lane of `chat`."""
        return self.pacer.lane(chat_id_of(chat), chat.is_private)

    def kind_of(self, chat: ChatRef, message_id: int) -> str | None:
        """"text", "photo" or "media" for a message sent here; None when unknown (a restart)."""
        return self._kinds.get((chat_id_of(chat), message_id))

    def forget(self, chat: ChatRef, message_id: int) -> None:
        """Drop what is known about a deleted message."""
        self._kinds.pop((chat_id_of(chat), message_id), None)

    async def delete(self, message: MessageRef) -> None:
        """Delete; a message already gone (or too old to delete) is not an error."""
        chat_id = chat_id_of(message.chat)
        try:
            await self.lane(message.chat).run(
                lambda: self.bot.delete_message(chat_id, int(message.message_id))
            )
        except BadRequest as exc:
            log.info("message not deleted in %s: %s", chat_id, exc.message)
        self.forget(message.chat, int(message.message_id))

    async def send_text(
        self, chat: ChatRef, chunk: Chunk, markup: Markup = None, reply_to: int | None = None
    ) -> Message:
        """One message; re-sent as plain text if Telegram refuses its formatting."""
        chat_id = chat_id_of(chat)

        def op(c: Chunk) -> Callable[[], Awaitable[Message]]:
            return lambda: self.bot.send_message(
                chat_id, c.text, entities=c.entities or None, reply_markup=markup,
                reply_parameters=reply_parameters(reply_to), message_thread_id=thread_of(chat),
            )

        sent = await self.with_fallback(chat, chunk, op)
        self.remember(chat_id, sent.message_id, "text")
        return sent

    async def edit_text(
        self, chat: ChatRef, message_id: int, chunk: Chunk, markup: Markup = None
    ) -> None:
        """Edit a text message; "not modified" counts as done."""
        chat_id = chat_id_of(chat)

        def op(c: Chunk) -> Callable[[], Awaitable[object]]:
            return lambda: self.bot.edit_message_text(
                c.text, chat_id, message_id, entities=c.entities or None,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            )

        await self.with_fallback(chat, chunk, op)

    async def with_fallback(
        self, chat: ChatRef, chunk: Chunk, op: Callable[[Chunk], Callable[[], Awaitable[T]]]
    ) -> T:
        """Run `op(chunk)` in the chat's lane; plain text if the formatting is refused."""
        lane = self.lane(chat)
        try:
            return await lane.run(op(chunk))
        except BadRequest as exc:
            if not_modified(exc):
                return None  # type: ignore[return-value]
            if not chunk.entities or not entities_rejected(exc):
                raise
            log.warning("Telegram refused formatting in %s (%s); sent plain", chat.chat_id, exc)
            return await lane.run(op(chunk.plain()))

    async def send_photo(
        self, chat: ChatRef, image: Image, caption: Chunk | None, markup: Markup = None,
        reply_to: int | None = None,
    ) -> Message:
        """A photo with caption and keyboard; a file when Telegram refuses it as a photo."""
        chat_id = chat_id_of(chat)

        def op(c: Chunk) -> Callable[[], Awaitable[Message]]:
            return lambda: self.bot.send_photo(
                chat_id, image.data, caption=c.text or None,
                caption_entities=c.entities or None, reply_markup=markup,
                reply_parameters=reply_parameters(reply_to), message_thread_id=thread_of(chat),
                filename=image.filename,
            )

        try:
            sent = await self.with_fallback(chat, caption or Chunk(""), op)
        except BadRequest as exc:
            if "photo" not in exc.message.lower():
                raise
            # Too big or too oddly shaped for a photo (10 MB, sides): the file goes as a document.
            log.info("photo refused in %s (%s); sent as a file", chat_id, exc.message)
            part = File(image.data, image.filename, image.mime)
            return await self.send_media(chat, part, caption, markup, reply_to)
        self.remember(chat_id, sent.message_id, "photo")
        return sent

    async def send_album(
        self, chat: ChatRef, images: tuple[Image, ...], caption: Chunk | None,
        reply_to: int | None,
    ) -> list[Message]:
        """Photos as media groups of up to 10, the caption on the first."""
        chat_id = chat_id_of(chat)
        out: list[Message] = []
        for start in range(0, len(images), 10):
            group = images[start : start + 10]
            if len(group) == 1:
                out.append(await self.send_photo(chat, group[0], caption, None, reply_to))
                continue
            media = [
                InputMediaPhoto(
                    img.data, filename=img.filename,
                    caption=caption.text if caption and i == 0 else None,
                    caption_entities=caption.entities if caption and i == 0 else None,
                )
                for i, img in enumerate(group)
            ]
            sent = await self.lane(chat).run(
                lambda media=media, answer=reply_to: self.bot.send_media_group(  # type: ignore[misc]
                    chat_id, media, reply_parameters=reply_parameters(answer),
                    message_thread_id=thread_of(chat),
                )
            )
            out.extend(sent)
            caption, reply_to = None, None
        return out

    async def send_media(
        self, chat: ChatRef, part: Audio | File, caption: Chunk | None, markup: Markup,
        reply_to: int | None,
    ) -> Message:
        """Voice (Ogg/Opus), other audio, or a document."""
        chat_id = chat_id_of(chat)
        c = caption or Chunk("")
        common = {
            "caption": c.text or None, "caption_entities": c.entities or None,
            "reply_markup": markup, "reply_parameters": reply_parameters(reply_to),
            "message_thread_id": thread_of(chat), "filename": part.filename,
        }
        if isinstance(part, Audio) and part.voice and part.format == "opus":
            duration = round(part.duration_s) if part.duration_s else None
            sent: Message = await self.lane(chat).run(
                lambda: self.bot.send_voice(chat_id, part.data, duration=duration, **common)  # type: ignore[arg-type]
            )
        elif isinstance(part, Audio):
            sent = await self.lane(chat).run(
                lambda: self.bot.send_audio(chat_id, part.data, **common)  # type: ignore[arg-type]
            )
        else:
            sent = await self.lane(chat).run(
                lambda: self.bot.send_document(chat_id, part.data, **common)  # type: ignore[arg-type]
            )
        self.remember(chat_id, sent.message_id, "media")
        return sent

    async def edit_photo(
        self, chat: ChatRef, message_id: int, image: Image, caption: Chunk | None,
        markup: Markup,
    ) -> None:
        """Replace a photo message's picture, caption and keyboard."""
        chat_id = chat_id_of(chat)
        c = caption or Chunk("")
        media = InputMediaPhoto(
            image.data, filename=image.filename, caption=c.text or None,
            caption_entities=c.entities or None,
        )
        try:
            await self.lane(chat).run(
                lambda: self.bot.edit_message_media(
                    media, chat_id, message_id,
                    reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
                )
            )
        except BadRequest as exc:
            if not not_modified(exc):
                raise

    async def edit_caption(
        self, chat: ChatRef, message_id: int, caption: Chunk, markup: Markup
    ) -> None:
        """Replace a media message's caption and keyboard."""
        chat_id = chat_id_of(chat)

        def op(c: Chunk) -> Callable[[], Awaitable[object]]:
            return lambda: self.bot.edit_message_caption(
                chat_id, message_id, caption=c.text, caption_entities=c.entities or None,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            )

        await self.with_fallback(chat, caption, op)

    def remember(self, chat_id: int, message_id: int, kind: str) -> None:
        """Note what kind a sent message is (text, photo, media), for later edits."""
        self._kinds[(chat_id, message_id)] = kind
        if len(self._kinds) > KINDS_KEPT:
            self._kinds.popitem(last=False)
