"""Files users send, fetched from Telegram as core attachments; big ones refused unfetched."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Bot, Message
from telegram.error import BadRequest

from bot.inbound import Attachment

# The Bot API's getFile limit (a self-hosted Bot API server has none).
DOWNLOAD_LIMIT = 20 * 1024 * 1024


class TooBig(Exception):
    """A file over the download limit; `size` in bytes (0 when Telegram did not say)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"file of {size} bytes is over the download limit")
        self.size = size


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What a message carries: Telegram's file id, its size, and how the core should see it."""

    file_id: str
    size: int
    mime: str
    filename: str

    @property
    def is_audio(self) -> bool:
        """Voice, audio and video notes: what transcription takes."""
        return self.mime.startswith(("audio/", "video/"))


def files_of(message: Message | None) -> list[FileInfo]:
    """The files of a message: its largest photo size, document, voice, audio or video note."""
    if message is None:
        return []
    out: list[FileInfo] = []
    if message.photo:
        best = message.photo[-1]
        out.append(FileInfo(best.file_id, best.file_size or 0, "image/jpeg", "photo.jpg"))
    if message.document:
        doc = message.document
        mime = doc.mime_type or "application/octet-stream"
        out.append(FileInfo(doc.file_id, doc.file_size or 0, mime, doc.file_name or "file"))
    if message.voice:
        voice = message.voice
        out.append(FileInfo(voice.file_id, voice.file_size or 0, "audio/ogg", "voice.ogg"))
    if message.audio:
        audio = message.audio
        out.append(
            FileInfo(
                audio.file_id, audio.file_size or 0, audio.mime_type or "audio/mpeg",
                audio.file_name or "audio.mp3",
            )
        )
    if message.video_note:
        note = message.video_note
        out.append(FileInfo(note.file_id, note.file_size or 0, "video/mp4", "video_note.mp4"))
    return out


def check_size(files: list[FileInfo], limit: int = DOWNLOAD_LIMIT) -> None:
    """Raise `TooBig` for the first file over the limit, before anything is fetched."""
    for info in files:
        if info.size > limit:
            raise TooBig(info.size)


async def fetch(bot: Bot, files: list[FileInfo], limit: int = DOWNLOAD_LIMIT) -> list[Attachment]:
    """Download the files (size checked first) as attachments."""
    check_size(files, limit)
    out = []
    for info in files:
        try:
            handle = await bot.get_file(info.file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise TooBig(info.size) from None
            raise
        if handle.file_size and handle.file_size > limit:
            raise TooBig(handle.file_size)
        data = await handle.download_as_bytearray()
        out.append(Attachment(bytes(data), info.mime, info.filename))
    return out
