"""A streamed answer growing in Discord messages: edited about once a second, never identically,
continued in follow-ups past 2000 characters (split at lines, outside code blocks)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from adapters.discord.messenger import Messenger
from adapters.discord.pacing import Pacer
from adapters.discord.refs import InteractionMessage, Ref, bucket
from adapters.discord.render import outgoing
from adapters.discord.splitting import split_message
from bot.channel import ChatRef, MessageRef
from bot.replies import Reply
from storage.discord_interactions import InteractionState

log = logging.getLogger(__name__)
MAX_FAILURES = 3


class DiscordStream:
    """`TextStream` for Discord; the pacer calls `step` for one request at a time."""

    def __init__(self, messenger: Messenger, pacer: Pacer, chat: ChatRef, *,
                 fallback: Callable[[ChatRef, Reply], Awaitable[MessageRef]],
                 into: Ref | None = None, reply_to: Ref | None = None) -> None:
        self._messenger = messenger
        self._pacer = pacer
        self._fallback = fallback
        self._chat = chat
        self._reply_to = reply_to
        # refs[i] shows shown[i]; the deferred response exists before it shows anything.
        self._refs: list[Ref] = [into] if into is not None else []
        self._shown: list[str | None] = [None] if into is not None else []
        self._text = ""
        self._split: tuple[str, list[str]] = ("", [])
        self._final: Reply | None = None
        self._extras_done = False
        self._failures = 0
        self._key = f"stream-{id(self)}"
        # Its lane: the interaction's bucket when it fills a response, else the channel's.
        self._lane = bucket(into) if into is not None else f"c{chat.chat_id}"
        self._started = False

    # --- TextStream -------------------------------------------------------------------------
    def update(self, markdown: str) -> None:
        if self._final is not None or markdown == self._text:
            return
        self._text = markdown
        self._pacer.offer(self._lane, self._key, self)

    async def finish(self, reply: Reply) -> MessageRef:
        self._final = reply
        if reply.text:
            self._text = reply.text
        self._pacer.offer(self._lane, self._key, self)
        await self._pacer.settle(self._lane, self._key)
        if self._refs and isinstance(self._refs[0], InteractionMessage):
            await self._messenger.store.set_state(
                str(self._refs[0].interaction_id), InteractionState.DONE)
        if not self._refs:
            # Nothing could be shown at all (every attempt failed): one last plain try.
            return await self._fallback(self._chat, reply)
        return MessageRef(self._chat, self._refs[-1].encode())

    # --- Paced --------------------------------------------------------------------------------
    def _pieces(self) -> list[str]:
        # Discord trims what it shows: compare (and send) what the user will see. Cached: the
        # lane asks on every turn, the text changes on every chunk.
        if self._split[0] != self._text:
            pieces = [p for p in (piece.strip() for piece in split_message(self._text)) if p]
            self._split = (self._text, pieces)
        return self._split[1]

    @property
    def pending(self) -> bool:
        if self._failures >= MAX_FAILURES:
            return False
        pieces = self._pieces()
        if len(pieces) > len(self._shown) or any(
            self._shown[i] != piece for i, piece in enumerate(pieces)
        ):
            return True
        return self._final is not None and not self._extras_done and self._has_extras()

    @property
    def urgent(self) -> bool:
        return self._final is not None

    def _has_extras(self) -> bool:
        return self._final is not None and outgoing(self._final).has_extras

    async def step(self) -> bool:
        pieces = self._pieces()
        messenger = self._messenger
        chat_id = int(self._chat.chat_id)
        for index, piece in enumerate(pieces):
            if index < len(self._shown):
                if self._shown[index] == piece:
                    continue
                ref = await messenger.edit(self._refs[index], piece, chat_id=chat_id)
                if index == 0 and not self._started:
                    self._started = True
                    await self._mark(InteractionState.STREAMING)
                self._refs[index] = ref
                self._shown[index] = piece
                return True
            ref = await self._new_message(piece)
            self._refs.append(ref)
            self._shown.append(piece)
            return True
        if self._final is not None and not self._extras_done and self._has_extras():
            out = outgoing(self._final)
            last = len(self._refs) - 1
            self._refs[last] = await messenger.edit(
                self._refs[last], self._shown[last] or None, chat_id=chat_id,
                uploads=out.uploads, rows=out.rows)
            self._extras_done = True
            return True
        return False

    async def _new_message(self, piece: str) -> Ref:
        messenger = self._messenger
        if self._refs and isinstance(self._refs[0], InteractionMessage):
            record = await messenger.live_record(self._refs[0].interaction_id)
            if record is not None:
                return await messenger.followup(record, piece)
        reply_to = None
        if not self._refs and self._reply_to is not None:
            reply_to = self._reply_to.message_id
        return await messenger.post(int(self._chat.chat_id), piece, reply_to=reply_to)

    async def _mark(self, state: InteractionState) -> None:
        if self._refs and isinstance(self._refs[0], InteractionMessage):
            await self._messenger.store.set_state(
                str(self._refs[0].interaction_id), state, str(self._refs[0].message_id))

    def failed(self, error: BaseException) -> None:
        self._failures += 1
        log.warning("stream update failed (%d): %s", self._failures, type(error).__name__)
        if self._refs and isinstance(self._refs[0], InteractionMessage) and self._failures == 2:
            # The interaction cannot be written any more: carry on in the channel.
            self._refs, self._shown = [], []
