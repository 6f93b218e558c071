"""The core's `Channel` on Telegram: replies, edits, progress and streams, paced per chat."""

from __future__ import annotations

import asyncio
import logging
import time
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

from adapters.telegram.keyboards import force_reply, keyboard
from adapters.telegram.pacing import Lane, Pacer
from adapters.telegram.redact import redact
from adapters.telegram.render import MAX_CAPTION, Chunk, caption_and_rest, render
from adapters.telegram.stream import TelegramStream
from bot.channel import ChatRef, MessageRef
from bot.replies import Audio, File, Image, Progress, Reply, TextRequest

log = logging.getLogger(__name__)

T = TypeVar("T")
PLATFORM = "telegram"
# How many sent messages' kinds (text or media) are remembered, to pick the right edit call.
KINDS_KEPT = 20_000
BAR_CELLS = 10

Markup = InlineKeyboardMarkup | ForceReply | None


def chat_id_of(chat: ChatRef) -> int:
    return int(chat.chat_id)


def message_ref(chat: ChatRef, message_id: int) -> MessageRef:
    return MessageRef(chat, str(message_id))


def not_modified(exc: BadRequest) -> bool:
    return "not modified" in exc.message.lower()


def entities_rejected(exc: BadRequest) -> bool:
    """Telegram refused the formatting, not the message: resend the words as plain text."""
    text = exc.message.lower()
    return "entit" in text or "parse" in text or "can't find end" in text


def progress_text(state: Progress) -> str:
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
        self._kinds: OrderedDict[tuple[int, int], str] = OrderedDict()
        # Progress messages: what each shows now, and when it last changed.
        self._shown: OrderedDict[tuple[int, int], tuple[str, int]] = OrderedDict()
        self._progress_at: dict[tuple[int, int], float] = {}
        # Messages replaced by a resend (text -> photo): old id -> new id, in each chat.
        self._moved: OrderedDict[tuple[int, int], int] = OrderedDict()
        self._replacing: dict[tuple[int, int], asyncio.Future[MessageRef]] = {}

    def lane(self, chat: ChatRef) -> Lane:
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
                await self._send_photo(chat, images[0], caption, markup, first_reply())
            )
            caption = None
        elif images:
            # An album cannot carry a keyboard: its words and buttons follow it as a message.
            keyed = markup is not None and not media
            album_caption = None if keyed else caption
            sent.extend(await self._send_album(chat, images, album_caption, first_reply()))
            if keyed:
                sent.append(await self.send_text(chat, caption or Chunk("⬆️"), markup, None))
            caption = None
        for i, part in enumerate(media):
            last = i == len(media) - 1
            sent.append(
                await self._send_media(
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
        kind = self._kinds.get((chat_id_of(chat), message_id))
        markup = keyboard(reply.buttons)
        images = reply.images
        simple = not reply.audio and not reply.files
        if simple and len(images) == 1 and kind == "photo":
            caption, rest = caption_and_rest(reply.text)
            if not rest:
                await self._edit_photo(chat, message_id, images[0], caption, markup)
                return message
        if simple and not images:
            chunks = render(reply.text)
            if len(chunks) == 1 and kind != "photo":
                await self.edit_text(chat, message_id, chunks[0], markup)
                return message
            if len(chunks) == 1 and kind == "photo" and len(chunks[0].text) <= MAX_CAPTION:
                await self._edit_caption(chat, message_id, chunks[0], markup)
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
                sent = await self._send_photo(chat, state.preview, Chunk(text[:MAX_CAPTION]))
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
        if state.preview is not None and self._kinds.get(key, "text") == "text":
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
        chat_id = chat_id_of(message.chat)
        self._end_progress(message)
        try:
            await self.lane(message.chat).run(
                lambda: self.bot.delete_message(chat_id, int(message.message_id))
            )
        except BadRequest as exc:
            log.info("message not deleted in %s: %s", chat_id, exc.message)
        self._kinds.pop((chat_id, int(message.message_id)), None)

    async def typing(self, chat: ChatRef) -> None:
        """The "typing…" action; a failure only costs the indicator."""
        try:
            await self.bot.send_chat_action(
                chat_id_of(chat), "typing", message_thread_id=_thread(chat)
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
        """One message; re-sent as plain text if Telegram refuses its formatting."""
        chat_id = chat_id_of(chat)

        def op(c: Chunk) -> Callable[[], Awaitable[Message]]:
            return lambda: self.bot.send_message(
                chat_id, c.text, entities=c.entities or None, reply_markup=markup,
                reply_parameters=_reply(reply_to), message_thread_id=_thread(chat),
            )

        sent = await self._with_fallback(chat, chunk, op)
        self._remember(chat_id, sent.message_id, "text")
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

        await self._with_fallback(chat, chunk, op)

    async def _with_fallback(
        self, chat: ChatRef, chunk: Chunk, op: Callable[[Chunk], Callable[[], Awaitable[T]]]
    ) -> T:
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

    # --- media ------------------------------------------------------------------------------

    async def _send_photo(
        self, chat: ChatRef, image: Image, caption: Chunk | None, markup: Markup = None,
        reply_to: int | None = None,
    ) -> Message:
        chat_id = chat_id_of(chat)

        def op(c: Chunk) -> Callable[[], Awaitable[Message]]:
            return lambda: self.bot.send_photo(
                chat_id, image.data, caption=c.text or None,
                caption_entities=c.entities or None, reply_markup=markup,
                reply_parameters=_reply(reply_to), message_thread_id=_thread(chat),
                filename=image.filename,
            )

        try:
            sent = await self._with_fallback(chat, caption or Chunk(""), op)
        except BadRequest as exc:
            if "photo" not in exc.message.lower():
                raise
            # Too big or too oddly shaped for a photo (10 MB, sides): the file goes as a document.
            log.info("photo refused in %s (%s); sent as a file", chat_id, exc.message)
            part = File(image.data, image.filename, image.mime)
            return await self._send_media(chat, part, caption, markup, reply_to)
        self._remember(chat_id, sent.message_id, "photo")
        return sent

    async def _send_album(
        self, chat: ChatRef, images: tuple[Image, ...], caption: Chunk | None,
        reply_to: int | None,
    ) -> list[Message]:
        chat_id = chat_id_of(chat)
        out: list[Message] = []
        for start in range(0, len(images), 10):
            group = images[start : start + 10]
            if len(group) == 1:
                out.append(await self._send_photo(chat, group[0], caption, None, reply_to))
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
                    chat_id, media, reply_parameters=_reply(answer),
                    message_thread_id=_thread(chat),
                )
            )
            out.extend(sent)
            caption, reply_to = None, None
        return out

    async def _send_media(
        self, chat: ChatRef, part: Audio | File, caption: Chunk | None, markup: Markup,
        reply_to: int | None,
    ) -> Message:
        chat_id = chat_id_of(chat)
        c = caption or Chunk("")
        common = {
            "caption": c.text or None, "caption_entities": c.entities or None,
            "reply_markup": markup, "reply_parameters": _reply(reply_to),
            "message_thread_id": _thread(chat), "filename": part.filename,
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
        self._remember(chat_id, sent.message_id, "media")
        return sent

    async def _edit_photo(
        self, chat: ChatRef, message_id: int, image: Image, caption: Chunk | None,
        markup: Markup,
    ) -> None:
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

    async def _edit_caption(
        self, chat: ChatRef, message_id: int, caption: Chunk, markup: Markup
    ) -> None:
        chat_id = chat_id_of(chat)

        def op(c: Chunk) -> Callable[[], Awaitable[object]]:
            return lambda: self.bot.edit_message_caption(
                chat_id, message_id, caption=c.text, caption_entities=c.entities or None,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            )

        await self._with_fallback(chat, caption, op)

    async def _show_progress(self, message: MessageRef, state: Progress, text: str) -> None:
        # Called from the lane's worker: plain calls here, not lane.run (that would wait on
        # the very worker running this).
        chat_id, message_id = chat_id_of(message.chat), int(message.message_id)
        kind = self._kinds.get((chat_id, message_id), "text")
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
        sent = await self._send_photo(chat, state.preview, Chunk(text[:MAX_CAPTION]))
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

    def _remember(self, chat_id: int, message_id: int, kind: str) -> None:
        self._kinds[(chat_id, message_id)] = kind
        if len(self._kinds) > KINDS_KEPT:
            self._kinds.popitem(last=False)


def _digest(state: Progress) -> int:
    return hash(state.preview.data) if state.preview is not None else 0


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


def _thread(chat: ChatRef) -> int | None:
    return int(chat.thread_id) if chat.thread_id else None
