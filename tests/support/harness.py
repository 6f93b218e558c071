"""The core wired to the sandbox over real HTTP and a real SQLite store, recording its output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.channel import Actor, Attachment, ChatRef, CommandRequest
from bot.core import Bot, Services
from tests.support.recording import RecordingChannel


@dataclass
class Harness:
    """Drive the bot as users would: commands, presses, and reading the chat back."""

    bot: Bot
    services: Services
    channel: RecordingChannel
    platform: str = "test"

    def actor(self, user: str) -> Actor:
        return Actor(self.platform, user, name=user)

    def chat(self, chat: str, private: bool = True) -> ChatRef:
        return ChatRef(self.platform, chat, is_private=private)

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user: str = "alice",
        chat: str = "c1",
        private: bool = True,
        attachments: tuple[Attachment, ...] = (),
        options: dict[str, str] | None = None,
    ) -> None:
        request = CommandRequest(
            actor=self.actor(user),
            chat=self.chat(chat, private),
            command=command,
            text=text,
            attachments=attachments,
            options=options or {},
        )
        await self.bot.handle_command(request, self.channel)

    async def message(
        self,
        text: str = "",
        *,
        user: str = "alice",
        chat: str = "c1",
        attachments: tuple[Attachment, ...] = (),
    ) -> None:
        request = CommandRequest(
            actor=self.actor(user), chat=self.chat(chat), command="", text=text,
            attachments=attachments,
        )
        await self.bot.handle_message(request, self.channel)

    async def press(self, token: str, *, user: str = "alice", chat: str = "c1") -> None:
        await self.bot.handle_button(self.actor(user), self.chat(chat), token, self.channel)

    async def wait_for(self, predicate: Callable[[], bool], bound: float = 10.0) -> None:
        await self.channel.wait_for(predicate, bound)
