"""The core wired to the sandbox over real HTTP and a real SQLite store, recording its output."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.app import Core
from bot.channel import Actor, ChatRef, MessageRef
from bot.dispatcher import Dispatcher
from bot.inbound import (
    Attachment,
    CommandRequest,
    Press,
    PressAnswer,
    TextSubmit,
)
from bot.services import Services
from bot.tasks.tracker import TaskTracker
from tests.support.recording import RecordingChannel


@dataclass
class Harness:
    """Drive the bot as users would: commands, presses, text answers, and reading the chat."""

    core: Core
    channel: RecordingChannel
    platform: str = "test"

    @property
    def bot(self) -> Dispatcher:
        return self.core.dispatcher

    @property
    def services(self) -> Services:
        return self.core.services

    @property
    def tracker(self) -> TaskTracker:
        return self.core.tracker

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
        message: str | None = None,
    ) -> None:
        where = self.chat(chat, private)
        request = CommandRequest(
            actor=self.actor(user),
            chat=where,
            command=command,
            text=text,
            attachments=attachments,
            options=options or {},
            message=MessageRef(where, message) if message else None,
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
        )  # fmt: skip
        await self.bot.handle_message(request, self.channel)

    async def press(
        self,
        token: str,
        *,
        user: str = "alice",
        chat: str = "c1",
        message: MessageRef | None = None,
        wait: bool = True,
    ) -> PressAnswer:
        """Press a button (under `message`); with `wait`, return once its work is done."""
        press = Press(self.actor(user), self.chat(chat), token, message)
        answer = await self.bot.handle_press(press, self.channel)
        if wait:
            await self.bot.drain()
        return answer

    async def submit(
        self,
        text: str,
        *,
        token: str | None = None,
        answered: MessageRef | None = None,
        user: str = "alice",
        chat: str = "c1",
    ) -> None:
        """Send the text a press asked for (a modal submit, or a reply to the asking message)."""
        submit = TextSubmit(self.actor(user), self.chat(chat), text, token, answered)
        await self.bot.handle_text_submit(submit, self.channel)
        await self.bot.drain()

    async def wait_for(self, predicate: Callable[[], bool], bound: float = 10.0) -> None:
        await self.channel.wait_for(predicate, bound)
