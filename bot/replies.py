"""The rendering-free reply model: immutable parts that every adapter knows how to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Text:
    """Markdown text; adapters convert it (Telegram HTML, Discord markdown, plain console)."""

    markdown: str


@dataclass(frozen=True, slots=True)
class Image:
    """Image bytes (never a URL: upstream links expire)."""

    data: bytes
    mime: str = "image/png"
    filename: str = "image.png"


@dataclass(frozen=True, slots=True)
class Audio:
    """Audio bytes; `voice` asks for a native voice message where the platform has one."""

    data: bytes
    format: Literal["opus", "mp3", "wav"] = "opus"
    filename: str = "voice.ogg"
    voice: bool = True
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class File:
    """A document attachment (e.g. a long transcript)."""

    data: bytes
    filename: str
    mime: str = "text/plain"


@dataclass(frozen=True, slots=True)
class Button:
    """A button: `token` is a short opaque id (<= 20 bytes) the store maps back to an action."""

    token: str
    label: str = ""
    emoji: str = ""

    @property
    def caption(self) -> str:
        """What to print on the button when a platform has one text field for it."""
        return f"{self.emoji} {self.label}".strip() or "•"


Part = Text | Image | Audio | File


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: its parts in order and rows of buttons under it."""

    parts: tuple[Part, ...] = ()
    buttons: tuple[tuple[Button, ...], ...] = ()

    @property
    def text(self) -> str:
        """All text parts joined, for adapters and tests that want the words only."""
        return "\n\n".join(p.markdown for p in self.parts if isinstance(p, Text))

    @property
    def images(self) -> tuple[Image, ...]:
        return tuple(p for p in self.parts if isinstance(p, Image))

    @property
    def audio(self) -> tuple[Audio, ...]:
        return tuple(p for p in self.parts if isinstance(p, Audio))

    @property
    def files(self) -> tuple[File, ...]:
        return tuple(p for p in self.parts if isinstance(p, File))


def text_reply(markdown: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Reply:
    """A reply made of one text part."""
    return Reply(parts=(Text(markdown),), buttons=buttons)


@dataclass(frozen=True, slots=True)
class Progress:
    """Latest state of a long job; adapters pace and coalesce edits of it."""

    text: str
    percent: int | None = None
    preview: Image | None = None


@dataclass(frozen=True, slots=True)
class TextRequest:
    """Ask the user for text: a modal on Discord, ForceReply on Telegram, a console prompt."""

    title: str
    label: str
    default: str = ""
    placeholder: str = ""
    max_length: int = 4000
    extra: dict[str, str] = field(default_factory=dict)
