"""Attachments a user gives a command: checked (size, type) before any download, then fetched."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

import discord

from adapters.discord.texts import text
from bot.inbound import Attachment

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
AUDIO_PREFIXES = ("audio/", "video/mp4", "video/webm", "video/mpeg", "application/ogg")


@dataclass(frozen=True, slots=True)
class Wanted:
    """An attachment option's value and the kind the command expects of it."""

    kind: str  # "image" | "audio"
    attachment: discord.Attachment


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def mime_of(att: discord.Attachment) -> str:
    """The declared type, or the one its name suggests (Discord does not always say)."""
    declared = (att.content_type or "").split(";")[0].strip().lower()
    return declared or (mimetypes.guess_type(att.filename)[0] or "")


def refusal(wanted: list[Wanted], size_limit: int, language: str) -> str | None:
    """Why these attachments cannot be used (too big, wrong type), from the payload alone."""
    for item in wanted:
        att = item.attachment
        mime = mime_of(att)
        if att.size > size_limit:
            return text(language, "too_big", name=att.filename, size=_mb(att.size),
                        limit=_mb(size_limit))
        ok = mime in IMAGE_TYPES if item.kind == "image" else mime.startswith(AUDIO_PREFIXES)
        if not ok:
            return text(language, "wrong_type", name=att.filename, kind=text(language, item.kind),
                        mime=mime or "unknown")
    return None


async def download(item: Wanted) -> Attachment:
    """The attachment's bytes with its declared type (the core sniffs them again)."""
    att = item.attachment
    data = await att.read()
    mime = mime_of(att) or "application/octet-stream"
    return Attachment(data=data, mime=mime, filename=att.filename)


def audio_of(message: discord.Message) -> discord.Attachment | None:
    """The voice message or first audio attachment of a message, if it has one."""
    for att in message.attachments:
        mime = mime_of(att)
        if att.is_voice_message() or mime.startswith(AUDIO_PREFIXES):
            return att
    return None
