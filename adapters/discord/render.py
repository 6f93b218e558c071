"""A core `Reply` as Discord message parts: text pieces, uploads, a voice message, buttons."""

from __future__ import annotations

import io
from dataclasses import dataclass

import discord

from adapters.discord.splitting import split_message
from bot.replies import Audio, Button, Progress, Reply

UPLOAD_LIMIT = 10 * 2**20  # Discord's default per file (more only on boosted servers)


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    filename: str

    def file(self) -> discord.File:
        """A fresh `discord.File` (one is consumed by each request)."""
        return discord.File(io.BytesIO(self.data), filename=self.filename)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What to send: text pieces (<= 2000 each), uploads and buttons for the last piece."""

    pieces: tuple[str, ...]
    uploads: tuple[Upload, ...] = ()
    voice: Audio | None = None
    rows: tuple[tuple[Button, ...], ...] = ()

    @property
    def has_extras(self) -> bool:
        return bool(self.uploads or self.rows)


def outgoing(reply: Reply) -> Outgoing:
    """Discord takes the model's markdown as it is; images and files become uploads (bytes).

    A file over Discord's default upload limit is left out and said so (Discord would refuse
    the whole message with 40005).
    """
    uploads = [Upload(i.data, i.filename) for i in reply.images]
    uploads += [Upload(f.data, f.filename) for f in reply.files]
    voice: Audio | None = None
    for audio in reply.audio:
        if audio.voice and audio.format == "opus" and voice is None and \
                len(audio.data) <= UPLOAD_LIMIT:
            voice = audio
        else:
            uploads.append(Upload(audio.data, audio.filename))
    too_big = [u for u in uploads if len(u.data) > UPLOAD_LIMIT]
    uploads = [u for u in uploads if len(u.data) <= UPLOAD_LIMIT]
    notes = [f"*({u.filename}: {len(u.data) / 2**20:.1f} MB, over Discord's "
             f"{UPLOAD_LIMIT // 2**20} MB upload limit)*" for u in too_big]
    text = "\n".join([reply.text, *notes]).strip()
    pieces = tuple(split_message(text)) if text else ()
    return Outgoing(pieces, tuple(uploads), voice, reply.buttons)


def progress_text(state: Progress) -> str:
    if state.percent is not None and f"{state.percent}%" not in state.text:
        return f"{state.text} ({state.percent}%)"
    return state.text or "…"
