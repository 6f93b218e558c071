"""The inbound seam: the events adapters hand the core, and the answers a press gets back.

Adapters call an `Inbound` (the dispatcher) and nothing else of the core.
Platform mapping of each event: docs/adapter-guide.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from bot.channel import Actor, Channel, ChatRef, MessageRef
from bot.replies import TextRequest


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
    """A user's command, platform-neutral: `/imagine a cat --ar 16:9` with any attachments.

    `message` is the user's own message (or interaction) the answer should reply to.
    """

    actor: Actor
    chat: ChatRef
    command: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    message: MessageRef | None = None


@dataclass(frozen=True, slots=True)
class Press:
    """A press of one of our buttons: who pressed, where, the button's token, which message."""

    actor: Actor
    chat: ChatRef
    token: str
    message: MessageRef | None = None


@dataclass(frozen=True, slots=True)
class TextSubmit:
    """Text the user sent for an earlier `AskText`: a modal submit, a ForceReply answer.

    `token` is the request's token where the platform carries it (a modal's custom_id);
    otherwise `answered` is the message the user replied to (Telegram's ForceReply prompt).
    """

    actor: Actor
    chat: ChatRef
    text: str
    token: str | None = None
    answered: MessageRef | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """The press is taken: its work runs in the background; `notice` is an optional toast."""

    notice: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """Answer the presser alone and do nothing else (not yours, expired, already done)."""

    text: str


@dataclass(frozen=True, slots=True)
class AskText:
    """Open a text request as the press's answer: a Discord modal, a Telegram ForceReply.

    The submitted text comes back as `Inbound.handle_text_submit` with this `token`.
    """

    token: str
    request: TextRequest


PressAnswer = Accepted | Notice | AskText


@dataclass(frozen=True, slots=True)
class ParamInfo:
    """One parameter of a command, as native command menus show it (Discord options); the
    commands declare theirs with it too (`bot.commands.registry.Param`)."""

    name: str
    kind: Literal["text", "image", "audio", "choice", "flag"]
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    count: int = 1  # how many attachments of this kind the platform should offer
    suggests: bool = False  # the core can suggest values as the user types (autocomplete)
    names: tuple[str, ...] = ()  # the attachment slots' names in order (else numbered)


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """A command as a menu shows it, with its description in one language."""

    name: str
    description: str
    params: tuple[ParamInfo, ...] = ()
    aliases: tuple[str, ...] = ()  # other names that run it (/start for /help, /new for /reset)


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """A chat's switches as an admin set them with /settings (else the operator's defaults).

    `answer_all`: in a group, answer every message, not only mentions and replies to the bot.
    `auto_transcribe`: voice notes sent to the bot are transcribed without a command.
    `context_scope`: "user" (each member has their own conversation) or "chat" (shared).
    """

    answer_all: bool = False
    auto_transcribe: bool = True
    context_scope: Literal["user", "chat"] = "user"


class Inbound(Protocol):
    """What an adapter calls. None of these raise: failures end as messages to the user."""

    async def handle_command(self, request: CommandRequest, channel: Channel) -> None:
        """Run a command to its end (streams and first replies included)."""

    async def handle_message(self, request: CommandRequest, channel: Channel) -> None:
        """A plain message the adapter decided is for the bot: voice is transcribed, text asks."""

    async def handle_press(self, press: Press, channel: Channel) -> PressAnswer:
        """Decide a press quickly (store look-ups only); accepted work continues in background."""

    async def handle_text_submit(self, submit: TextSubmit, channel: Channel) -> None:
        """Complete the action a text request was opened for; an expired one is told so."""

    async def bind_text_request(self, token: str, asked: MessageRef) -> None:
        """Remember which message asked for the text (Telegram's ForceReply prompt)."""

    async def awaits_text(self, message: MessageRef) -> bool:
        """Whether `message` asked for text (bound above): a reply to it is a `TextSubmit`.

        True for an expired request too, so its late answer is told it expired.
        """

    def commands(self, language: str) -> list[CommandInfo]:
        """The commands to offer in menus, described in `language`."""

    async def suggest(self, command: str, param: str, typed: str, actor: Actor) -> list[str]:
        """Values to suggest while `param` is typed (e.g. `/model name`), at most 25."""

    async def chat_settings(self, chat: ChatRef) -> ChatSettings:
        """The chat's switches: whether to pass every group message on, whether voice notes are
        transcribed on their own (cached; a store failure gives the defaults)."""

    async def drain(self) -> None:
        """Wait for the background work presses and submits started (shutdown, piped console)."""
