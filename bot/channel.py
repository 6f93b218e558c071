"""The small surface protocol each adapter implements, and the neutral request it hands the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.replies import Progress, Reply, TextRequest


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a conversation happens: platform, chat, and thread (topic) if any."""

    platform: str
    chat_id: str
    thread_id: str | None = None
    is_private: bool = True


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: platform user id, display name, and language code if the platform gives one."""

    platform: str
    user_id: str
    name: str = ""
    language: str | None = None

    @property
    def key(self) -> str:
        """The "platform:user_id" form used in the admin list."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A sent message as the adapter knows it; stored so results can land there after a restart."""

    chat: ChatRef
    message_id: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the user sent, already downloaded by the adapter."""

    data: bytes
    mime: str
    filename: str = ""

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")

    @property
    def is_audio(self) -> bool:
        return self.mime.startswith(("audio/", "video/")) or self.mime == "application/ogg"


@dataclass(frozen=True, slots=True)
class CommandRequest:
    """A user's command, platform-neutral: `/imagine a cat --ar 16:9` with any attachments."""

    actor: Actor
    chat: ChatRef
    command: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


class Channel(Protocol):
    """What the core asks of an adapter. Pacing of edits is the adapter's business."""

    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        """Send a new message and return a reference to it."""

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        """Replace a message's content. May return a new ref if the platform must resend."""

    async def progress(
        self, message: MessageRef | None, chat: ChatRef, state: Progress
    ) -> MessageRef:
        """Show the latest progress; create the progress message when `message` is None."""

    async def ask_text(self, chat: ChatRef, actor: Actor, request: TextRequest) -> str | None:
        """Ask the actor for text; None when they cancel or do not answer."""
