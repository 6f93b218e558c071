"""Telegram updates as core events: commands, messages, photos, albums, voice, presses, answers.

Only translation lives here: which messages are for the bot, what they carry, and how a press's
answer is shown (toast, alert, ForceReply prompt). What to do with them is the core's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Bot, CallbackQuery, Message, MessageEntity, User
from telegram.constants import ChatType
from telegram.error import TelegramError

from adapters.telegram import texts
from adapters.telegram.channel import PLATFORM, TelegramChannel, message_ref
from adapters.telegram.keyboards import prompt_text
from adapters.telegram.media import DOWNLOAD_LIMIT, FileInfo, TooBig, fetch, files_of
from adapters.telegram.options import BadOption, split_options
from adapters.telegram.redact import redact
from adapters.telegram.render import Chunk
from bot.channel import Actor, ChatRef, MessageRef
from bot.inbound import (
    Accepted,
    AskText,
    Attachment,
    CommandInfo,
    CommandRequest,
    Inbound,
    Notice,
    Press,
    TextSubmit,
)
from bot.replies import text_reply

log = logging.getLogger(__name__)

ALERT_LIMIT = 200


def chat_ref(message: Message) -> ChatRef:
    """The core's reference to a message's chat (and forum topic)."""
    thread = message.message_thread_id if message.is_topic_message else None
    return ChatRef(
        PLATFORM,
        str(message.chat.id),
        is_private=message.chat.type == ChatType.PRIVATE,
        thread_id=str(thread) if thread else None,
    )


def actor_of(user: User) -> Actor:
    """The core's view of a Telegram user."""
    return Actor(PLATFORM, str(user.id), name=user.full_name, language=user.language_code)


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A command's name (lower case, no @bot) and the text after it."""

    name: str
    args: str


def parse_command(
    text: str, entities: Sequence[MessageEntity], username: str
) -> ParsedCommand | None:
    """`/cmd@bot args` at the start of the text; None if absent or meant for another bot."""
    first = next((e for e in entities if e.type == MessageEntity.BOT_COMMAND), None)
    if first is None or first.offset != 0 or not text.startswith("/"):
        return None
    word = text[: first.length]
    name, _, target = word[1:].partition("@")
    if target and target.lower() != username.lower():
        return None
    return ParsedCommand(name.lower(), text[first.length :].strip())


def mentions(text: str, entities: Sequence[MessageEntity], me: User) -> bool:
    """Whether the text @mentions the bot (by username or as a text mention)."""
    handle = f"@{me.username}".lower() if me.username else None
    units = text.encode("utf-16-le")
    for e in entities:
        if e.type == MessageEntity.MENTION and handle:
            word = units[2 * e.offset : 2 * (e.offset + e.length)].decode("utf-16-le", "replace")
            if word.lower() == handle:
                return True
        if e.type == MessageEntity.TEXT_MENTION and e.user and e.user.id == me.id:
            return True
    return False


def without_mention(text: str, me: User) -> str:
    """The text with the bot's @username taken out."""
    if not me.username:
        return text
    handle = f"@{me.username}"
    start = text.lower().find(handle.lower())
    if start < 0:
        return text
    return (text[:start] + text[start + len(handle) :]).strip()


class _DownloadFailed(Exception):
    """Telegram did not hand over a file the user sent."""


class UpdateHandlers:
    """Turns one message, album or press into the core call it stands for."""

    def __init__(
        self, inbound: Inbound, channel: TelegramChannel, me: User,
        *, download_limit: int = DOWNLOAD_LIMIT,
    ) -> None:
        self.inbound = inbound
        self.channel = channel
        self.bot: Bot = channel.bot
        self.me = me
        self.download_limit = download_limit
        self._specs: dict[str, CommandInfo] | None = None
        self._binding: dict[tuple[str, str], asyncio.Future[None]] = {}

    # --- messages ---------------------------------------------------------------------------

    async def on_messages(self, messages: Sequence[Message]) -> None:
        """One message, or an album's messages (the one with the caption speaks for all)."""
        lead = next((m for m in messages if m.text or m.caption), messages[0])
        chat, actor = chat_ref(lead), actor_of(lead.from_user) if lead.from_user else None
        if actor is None or (lead.from_user and lead.from_user.is_bot):
            return
        text = lead.text or lead.caption or ""
        entities = lead.entities or lead.caption_entities or ()
        ref = message_ref(chat, lead.message_id)
        reply = lead.reply_to_message
        to_me = bool(reply and reply.from_user and reply.from_user.id == self.me.id)
        command = parse_command(text, entities, self.me.username or "")
        own_files = [f for m in messages for f in files_of(m)]
        try:
            if (
                command is None
                and to_me
                and reply is not None
                and await self._asked(chat, reply.message_id)
            ):
                submit = TextSubmit(
                    actor, chat, text, answered=message_ref(chat, reply.message_id)
                )
                await self.inbound.handle_text_submit(submit, self.channel)
                return
            if command is not None:
                args, options = split_options(command.args, self._spec(command.name))
                files = own_files or files_of(reply)
                attachments = await self._fetch(files)
                request = CommandRequest(
                    actor, chat, command.name, args, tuple(attachments), options, message=ref
                )
                await self.inbound.handle_command(request, self.channel)
                return
            if not self._for_me(lead, text, entities, to_me, own_files):
                return
            if not chat.is_private:
                text = without_mention(text, self.me)
            attachments = await self._fetch(own_files)
            request = CommandRequest(actor, chat, "", text, tuple(attachments), message=ref)
            await self.inbound.handle_message(request, self.channel)
        except BadOption as exc:
            words = texts.say(
                actor.language, "bad_option", name=exc.name, value=exc.value,
                choices=", ".join(exc.choices),
            )
            await self._tell(chat, ref, actor, words)
        except _DownloadFailed:
            await self._tell(chat, ref, actor, texts.say(actor.language, "download_failed"))
        except TooBig as exc:
            log.info("file of %d bytes refused in chat %s", exc.size, chat.chat_id)
            await self._tell(
                chat, ref, actor,
                texts.say(actor.language, "too_big", size=_mb(exc.size),
                          limit=_mb(self.download_limit)),
            )

    def _spec(self, name: str) -> CommandInfo | None:
        if self._specs is None:
            self._specs = {}
            for info in self.inbound.commands("en"):
                for alias in (info.name, *info.aliases):
                    self._specs[alias] = info
        return self._specs.get(name)

    def _for_me(
        self, message: Message, text: str, entities: Sequence[MessageEntity], to_me: bool,
        files: list[FileInfo],
    ) -> bool:
        """Private chats: everything. Groups: a mention of the bot or a reply to it."""
        if message.chat.type == ChatType.PRIVATE:
            return bool(text.strip() or files)
        if any(f.is_audio for f in files) and not text.strip():
            return False  # voice in groups: only on /transcribe as a reply
        return mentions(text, entities, self.me) or to_me

    async def _fetch(self, files: list[FileInfo]) -> list[Attachment]:
        try:
            return await fetch(self.bot, files, self.download_limit)
        except TelegramError as exc:
            log.warning("file download failed: %s", redact(repr(exc)))
            raise _DownloadFailed from None

    # --- presses ----------------------------------------------------------------------------

    async def on_press(self, query: CallbackQuery) -> None:
        """Decide the press, answer it at once (toast or alert), open a prompt if asked."""
        message = query.message
        actor = actor_of(query.from_user)
        if message is None or not query.data:
            await self._answer(query, texts.say(actor.language, "failed"), alert=True)
            return
        chat = (
            chat_ref(message)
            if isinstance(message, Message)
            else ChatRef(
                PLATFORM, str(message.chat.id), is_private=message.chat.type == ChatType.PRIVATE
            )
        )
        ref = message_ref(chat, message.message_id)
        press = Press(actor, chat, query.data, message=ref)
        answer = await self.inbound.handle_press(press, self.channel)
        if isinstance(answer, Notice):
            await self._answer(query, answer.text, alert=True)
        elif isinstance(answer, Accepted):
            await self._answer(query, answer.notice, alert=False)
        elif isinstance(answer, AskText):
            await self._answer(query, "", alert=False)
            await self._ask(chat, ref, query.from_user, answer)

    async def _ask(self, chat: ChatRef, ref: MessageRef, user: User, ask: AskText) -> None:
        # In a group the (selective) reply box opens for the people the prompt mentions.
        words = Chunk(prompt_text(ask.request)) if chat.is_private else _addressed(user, ask)
        prompt = await self.channel.ask_text(chat, words, ask.request, reply_to=ref)
        # A reply may arrive before the core has stored which message asked: it waits for this.
        key = (chat.chat_id, prompt.message_id)
        binding = asyncio.ensure_future(self.inbound.bind_text_request(ask.token, prompt))
        self._binding[key] = binding
        try:
            await binding
        finally:
            self._binding.pop(key, None)

    async def _asked(self, chat: ChatRef, message_id: int) -> bool:
        """Whether the message replied to is one of our prompts (bound, or being bound)."""
        binding = self._binding.get((chat.chat_id, str(message_id)))
        if binding is not None:
            await asyncio.wait([binding])
        return await self.inbound.awaits_text(message_ref(chat, message_id))

    async def _answer(self, query: CallbackQuery, text: str, *, alert: bool) -> None:
        try:
            await query.answer(text[:ALERT_LIMIT] or None, show_alert=alert and bool(text))
        except Exception as exc:  # a late answer must not stop the action itself
            log.info("callback answer failed: %s", redact(repr(exc)))

    async def _tell(self, chat: ChatRef, ref: MessageRef, actor: Actor, text: str) -> None:
        try:
            await self.channel.send(chat, text_reply(text), reply_to=ref)
        except Exception as exc:
            log.warning("could not tell chat %s: %s", chat.chat_id, redact(repr(exc)))


def _addressed(user: User, ask: AskText) -> Chunk:
    name = user.first_name or "you"
    body = prompt_text(ask.request)
    return Chunk(
        f"{name}, {body}",
        (MessageEntity(MessageEntity.TEXT_MENTION, 0, len(name.encode("utf-16-le")) // 2,
                       user=user),),
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
