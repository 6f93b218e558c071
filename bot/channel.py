"""The outbound seam: what the core asks of an adapter, and the references both sides share.

Platform mapping of each method: docs/adapter-guide.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.replies import Progress, Reply


@dataclass(frozen=True, slots=True)
class ChatRef:
    """Where a conversation happens: platform, chat, thread (topic) if any.

    `is_private` is what the platform says (a DM, a private chat), never guessed from ids.
    `guild_id` is the Discord server a channel belongs to (for ALLOWED_GUILDS); it follows from
    the chat, so it takes no part in equality and a ref rebuilt without it is the same chat.
    """

    platform: str
    chat_id: str
    is_private: bool
    thread_id: str | None = None
    guild_id: str | None = field(default=None, compare=False)


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
    """A sent message as the adapter knows it; stored so results can land there after a restart.

    `message_id` is opaque to the core: an adapter may encode in it whatever it needs to find
    the message again (a Discord interaction's token for `@original`, say).
    """

    chat: ChatRef
    message_id: str


class TextStream(Protocol):
    """One message that grows while an answer streams in (see `Channel.open_stream`)."""

    def update(self, markdown: str) -> None:
        """Offer the whole text so far; returns at once. The adapter paces and coalesces."""

    async def finish(self, reply: Reply) -> MessageRef:
        """Deliver the final reply in full (after any rate-limit wait); may span messages."""


class Channel(Protocol):
    """What the core asks of an adapter. Pacing, splitting and rate limits are the adapter's."""

    async def send(
        self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
        """Send a reply, as an answer to `reply_to` where given.

        A reply may span several platform messages (long text split at the platform's limit, an
        album plus its buttons); the returned ref is the message that carries the buttons, or
        the last one.
        """

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        """Replace a message's content; returns a new ref when the platform must resend.

        Telegram cannot turn text into a photo: the adapter sends the new message and deletes
        the old one, and the core keeps the returned ref.
        """

    async def progress(
        self, message: MessageRef | None, chat: ChatRef, state: Progress
    ) -> MessageRef:
        """Show the latest progress; create the progress message when `message` is None.

        With a message, this is an offer: it returns at once and the adapter shows the latest
        state when the platform's pace allows (latest wins, never an identical edit).
        """

    def open_stream(self, chat: ChatRef, *, reply_to: MessageRef | None = None) -> TextStream:
        """Start a message that grows as a streamed answer arrives."""

    async def delete(self, message: MessageRef) -> None:
        """Delete a message; one already gone is not an error."""

    async def typing(self, chat: ChatRef) -> None:
        """Show a working indicator for a few seconds (Telegram chat action, Discord typing)."""
