"""The core's `Channel` on Discord: replies into the deferred response first, paced edits after.

The command being handled is known through a context variable (`answering`): its deferred
response (`@original`, "thinking…") is the first thing a reply, a progress message or a stream
fills; everything after it is a follow-up or a channel message.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from adapters.discord.messenger import Messenger
from adapters.discord.pacing import Pacer
from adapters.discord.refs import ChannelMessage, InteractionMessage, Ref, bucket, decode
from adapters.discord.render import Outgoing, Upload, outgoing, progress_text
from adapters.discord.stream import DiscordStream
from bot.channel import ChatRef, MessageRef
from bot.replies import Progress, Reply
from storage.discord_interactions import InteractionRecord, InteractionState

log = logging.getLogger(__name__)
PLATFORM = "discord"
KEEP = 10_000  # progress messages and moved refs remembered at most


@dataclass
class Answering:
    """The interaction a command runs for; `claimed` once its response shows something."""

    record: InteractionRecord
    ref: InteractionMessage
    claimed: bool = False

    def claim(self, reply_to: MessageRef | None) -> bool:
        if self.claimed or (reply_to is not None and reply_to.message_id != self.ref.encode()):
            return False
        self.claimed = True
        return True


answering: ContextVar[Answering | None] = ContextVar("discord_answering", default=None)


@dataclass
class _ProgressItem:
    """A progress message's latest state, shown by the pacer (latest wins, never identical)."""

    channel: DiscordChannel
    chat: ChatRef
    ref: Ref
    latest: Progress | None = None
    shown: tuple[str, bytes | None] | None = None
    failures: int = field(default=0)

    @staticmethod
    def key_of(state: Progress) -> tuple[str, bytes | None]:
        return progress_text(state), state.preview.data if state.preview else None

    @property
    def pending(self) -> bool:
        return self.latest is not None and self.key_of(self.latest) != self.shown

    urgent = False  # progress is never final: the result is an edit of its own

    async def step(self) -> bool:
        if self.latest is None:
            return False
        state = self.latest
        key = self.key_of(state)
        if key == self.shown:
            return False
        uploads = (Upload(state.preview.data, state.preview.filename),) if state.preview else ()
        new_ref = await self.channel.messenger.edit(
            self.ref, key[0], chat_id=int(self.chat.chat_id), uploads=uploads, result=False)
        self.shown = key
        if new_ref != self.ref:
            self.channel.moved(self.ref, new_ref)
            self.ref = new_ref
        return True

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.failures >= 3:
            self.latest = None  # give up on progress; the final result is an edit of its own


class DiscordChannel:
    """Implements `bot.channel.Channel` for Discord."""

    platform = PLATFORM

    def __init__(self, messenger: Messenger, pacer: Pacer) -> None:
        self.messenger = messenger
        self.pacer = pacer
        self._moved: OrderedDict[str, str] = OrderedDict()
        # Progress messages whose latest state is kept for the pacer; the result's edit ends
        # each one, and the oldest go first should a job never end.
        self._progress: OrderedDict[str, _ProgressItem] = OrderedDict()

    # --- bookkeeping ---------------------------------------------------------------------------
    def moved(self, old: Ref, new: Ref) -> None:
        """A message was replaced by another (token expired): later uses of `old` go to `new`."""
        self._moved[old.encode()] = new.encode()
        _trim(self._moved)

    def resolve(self, message: MessageRef) -> Ref | None:
        key = message.message_id
        seen = 0
        while key in self._moved and seen < 8:
            key, seen = self._moved[key], seen + 1
        return decode(key)

    async def _mark(self, ref: Ref, state: InteractionState) -> None:
        if isinstance(ref, InteractionMessage):
            await self.messenger.store.set_state(str(ref.interaction_id), state,
                                                 str(ref.message_id))

    # --- Channel protocol ----------------------------------------------------------------------
    async def send(self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
                   ) -> MessageRef:
        out = outgoing(reply)
        current = answering.get()
        if current is not None and current.claim(reply_to):
            refs = await self._fill(current.ref, chat, out)
            await self._mark(current.ref, InteractionState.DONE)
        else:
            refs = await self._post(chat, out, self.resolve(reply_to) if reply_to else None)
        return MessageRef(chat, _carrier(refs, out).encode())

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        ref = self.resolve(message)
        if ref is None:
            return await self.send(message.chat, reply)
        await self._stop_progress(message.chat, ref)
        refs = await self._fill(ref, message.chat, outgoing(reply))
        if refs[0] != ref:
            self.moved(ref, refs[0])
        return MessageRef(message.chat, _carrier(refs, outgoing(reply)).encode())

    async def progress(self, message: MessageRef | None, chat: ChatRef, state: Progress
                       ) -> MessageRef:
        if message is None:
            current = answering.get()
            text = progress_text(state)
            uploads = (Upload(state.preview.data, state.preview.filename),) if state.preview \
                else ()
            if current is not None and current.claim(None):
                ref: Ref = await self.messenger.edit(current.ref, text, chat_id=int(chat.chat_id),
                                                     uploads=uploads)
                await self._mark(current.ref, InteractionState.ANSWERED)
            else:
                ref = await self.messenger.post(int(chat.chat_id), text, uploads=uploads)
            item = _ProgressItem(self, chat, ref, state, _ProgressItem.key_of(state))
            self._progress[ref.encode()] = item
            _trim(self._progress)
            return MessageRef(chat, ref.encode())
        resolved = self.resolve(message)
        if resolved is None:
            return await self.progress(None, chat, state)
        found = self._progress.get(resolved.encode())
        if found is None:
            found = self._progress[resolved.encode()] = _ProgressItem(self, chat, resolved)
            _trim(self._progress)
        item = found
        item.latest = state
        self.pacer.offer(bucket(item.ref), resolved.encode(), item)
        return MessageRef(chat, item.ref.encode())

    def open_stream(self, chat: ChatRef, *, reply_to: MessageRef | None = None) -> DiscordStream:
        current = answering.get()
        if current is not None and current.claim(reply_to):
            return DiscordStream(self.messenger, self.pacer, chat, fallback=self.send,
                                 into=current.ref)
        target = self.resolve(reply_to) if reply_to else None
        return DiscordStream(self.messenger, self.pacer, chat, fallback=self.send,
                             reply_to=target)

    async def delete(self, message: MessageRef) -> None:
        ref = self.resolve(message)
        if ref is None:
            return
        await self._stop_progress(message.chat, ref)
        await self.messenger.delete(ref)

    async def typing(self, chat: ChatRef) -> None:
        try:
            await self.messenger.typing(int(chat.chat_id))
        except Exception as exc:  # a working indicator is never worth an error
            log.debug("typing failed: %s", type(exc).__name__)

    # --- helpers -------------------------------------------------------------------------------
    async def _stop_progress(self, chat: ChatRef, ref: Ref) -> None:
        if self._progress.pop(ref.encode(), None) is not None:
            await self.pacer.forget(bucket(ref), ref.encode())

    async def _fill(self, first: Ref, chat: ChatRef, out: Outgoing) -> list[Ref]:
        """Replace `first`'s content with the reply; pieces past the first follow it."""
        pieces = out.pieces or (("🔊",) if out.voice is not None and not out.uploads else ("",))
        last = len(pieces) - 1
        refs: list[Ref] = []
        head = await self.messenger.edit(
            first, pieces[0] or None, chat_id=int(chat.chat_id),
            uploads=out.uploads if last == 0 else (), rows=out.rows if last == 0 else ())
        refs.append(head)
        for index, piece in enumerate(pieces[1:], start=1):
            refs.append(await self._follow(head, chat, piece, out if index == last else None))
        voice_ref = await self._voice(chat, out, refs[-1])
        if voice_ref is not None:
            refs.append(voice_ref)
        return refs

    async def _follow(self, after: Ref, chat: ChatRef, content: str, out: Outgoing | None) -> Ref:
        uploads = out.uploads if out else ()
        rows = out.rows if out else ()
        if isinstance(after, InteractionMessage):
            record = await self.messenger.live_record(after.interaction_id)
            if record is not None:
                return await self.messenger.followup(record, content, uploads=uploads, rows=rows)
        return await self.messenger.post(int(chat.chat_id), content, uploads=uploads, rows=rows)

    async def _post(self, chat: ChatRef, out: Outgoing, reply_to: Ref | None) -> list[Ref]:
        pieces = out.pieces or (("",) if out.has_extras or out.voice is None else ())
        last = len(pieces) - 1
        refs: list[Ref] = []
        record = None
        if isinstance(reply_to, InteractionMessage):
            record = await self.messenger.live_record(reply_to.interaction_id)
        for index, piece in enumerate(pieces):
            uploads = out.uploads if index == last else ()
            rows = out.rows if index == last else ()
            if record is not None:
                refs.append(await self.messenger.followup(record, piece, uploads=uploads,
                                                          rows=rows))
            else:
                reply_id = reply_to.message_id if reply_to is not None and index == 0 else None
                refs.append(await self.messenger.post(int(chat.chat_id), piece, uploads=uploads,
                                                      rows=rows, reply_to=reply_id))
        voice_ref = await self._voice(chat, out, refs[-1] if refs else reply_to)
        if voice_ref is not None:
            refs.append(voice_ref)
        return refs

    async def _voice(self, chat: ChatRef, out: Outgoing, after: Ref | None) -> Ref | None:
        if out.voice is None:
            return None
        from adapters.discord.voice import send_voice_message, voice_file

        audio = out.voice
        reply_to = after.message_id if after is not None else None
        voice = await voice_file(audio.data, audio.duration_s)
        if voice is not None:
            try:
                await self.messenger.budget.take()
                message_id = await send_voice_message(self.messenger.client, int(chat.chat_id),
                                                      voice, reply_to)
                return ChannelMessage(int(chat.chat_id), message_id)
            except Exception as exc:
                log.warning("voice message refused (%s); sending an audio file", type(exc).__name__)
        upload = (Upload(audio.data, audio.filename),)
        if isinstance(after, InteractionMessage):
            # In a channel the bot cannot post in (a user-installed app), only follow-ups work.
            record = await self.messenger.live_record(after.interaction_id)
            if record is not None:
                return await self.messenger.followup(record, None, uploads=upload)
        return await self.messenger.post(int(chat.chat_id), None, uploads=upload,
                                         reply_to=reply_to)

    async def close(self) -> None:
        await self.pacer.close()


def _trim(table: OrderedDict[str, Any], keep: int = KEEP) -> None:
    while len(table) > keep:
        table.popitem(last=False)


def _carrier(refs: list[Ref], out: Outgoing) -> Ref:
    """The message a reply's ref names: the one with the buttons, else the last."""
    if not refs:
        raise RuntimeError("a reply produced no message")
    return refs[-1] if out.voice is None or len(refs) == 1 else refs[-2]

