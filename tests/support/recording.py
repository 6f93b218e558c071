"""A Channel that records what the core shows, for tests that read the chat like a user would."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channel import ChatRef, MessageRef
from bot.replies import Progress, Reply, text_reply


@dataclass
class Shown:
    """One message as the user sees it now: its latest reply and every progress state it had."""

    ref: MessageRef
    reply: Reply | None = None
    progress: list[Progress] = field(default_factory=list)
    edits: int = 0
    reply_to: MessageRef | None = None
    streamed: list[str] = field(default_factory=list)  # every text a stream offered, in order
    deleted: bool = False


class RecordingStream:
    """A TextStream that records every offered text and the final reply on its message."""

    def __init__(self, channel: RecordingChannel, shown: Shown) -> None:
        self.channel = channel
        self.shown = shown
        self.finished = False

    def update(self, markdown: str) -> None:
        # Shown at once: the recording channel has no platform pace to wait for.
        self.shown.streamed.append(markdown)
        self.shown.reply = text_reply(markdown)

    async def finish(self, reply: Reply) -> MessageRef:
        self.shown.reply = reply
        self.finished = True
        await self.channel._notify()
        return self.shown.ref


class RecordingChannel:
    """Implements the Channel protocol in memory."""

    def __init__(self, platform: str = "test") -> None:
        self.platform = platform
        self.messages: list[Shown] = []
        self.typing_in: list[ChatRef] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()

    # --- Channel protocol -------------------------------------------------------------
    async def send(
        self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        ref = MessageRef(chat, str(next(self._ids)))
        self.messages.append(Shown(ref, reply, reply_to=reply_to))
        await self._notify()
        return ref

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        shown = self._find(message)
        shown.reply = reply
        shown.edits += 1
        await self._notify()
        return message

    async def progress(
        self, message: MessageRef | None, chat: ChatRef, state: Progress
    ) -> MessageRef:
        if message is None:
            message = MessageRef(chat, str(next(self._ids)))
            self.messages.append(Shown(message))
        self._find(message).progress.append(state)
        await self._notify()
        return message

    def open_stream(self, chat: ChatRef, *, reply_to: MessageRef | None = None) -> RecordingStream:
        shown = Shown(MessageRef(chat, str(next(self._ids))), reply_to=reply_to)
        self.messages.append(shown)
        return RecordingStream(self, shown)

    async def delete(self, message: MessageRef) -> None:
        for shown in self.messages:
            if shown.ref.message_id == message.message_id:
                shown.deleted = True
        await self._notify()

    async def typing(self, chat: ChatRef) -> None:
        self.typing_in.append(chat)

    # --- reading it back ------------------------------------------------------------------
    def _find(self, ref: MessageRef) -> Shown:
        for shown in self.messages:
            if shown.ref.message_id == ref.message_id:
                return shown
        raise KeyError(f"no message {ref.message_id} was sent in this chat")

    def texts(self, chat_id: str | None = None) -> list[str]:
        """The current text of every message, in order (optionally of one chat)."""
        return [
            s.reply.text
            for s in self.messages
            if s.reply is not None and (chat_id is None or s.ref.chat.chat_id == chat_id)
        ]

    def last(self, chat_id: str | None = None) -> Shown:
        shown = [s for s in self.messages if chat_id is None or s.ref.chat.chat_id == chat_id]
        if not shown:
            raise AssertionError("nothing was shown")
        return shown[-1]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], bound: float = 10.0) -> None:
        """Wait until `predicate()` holds after some message change; fails the test on timeout."""

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(_wait(), bound)
        except TimeoutError:
            raise AssertionError(
                f"condition not met; messages shown: {self.texts()!r}"
            ) from None
