"""Checks and conversions for user attachments: sniffed types, size limits, data URLs."""

from __future__ import annotations

import base64

from bot.inbound import Attachment

MAX_IMAGE_BYTES = 10 * 2**20  # Discord's default upload limit; Telegram photos are smaller still
MAX_AUDIO_BYTES = 25 * 2**20  # whisper-1's per-request limit

_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The image MIME type from the bytes themselves (clients mislabel files), or None."""
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def sniff_audio(data: bytes) -> str | None:
    """The audio container from the bytes, as a file extension the transcriber accepts, or None."""
    if data.startswith(b"OggS"):
        return "ogg"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"fLaC"):
        return "flac"
    if data[4:8] == b"ftyp":
        return "m4a"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    return None


def data_url(data: bytes, mime: str) -> str:
    """`data:<mime>;base64,...` as the gateway's image fields expect."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_attachments(attachments: tuple[Attachment, ...]) -> list[tuple[Attachment, str]]:
    """The attachments that really are images, each with its sniffed MIME type."""
    found: list[tuple[Attachment, str]] = []
    for attachment in attachments:
        mime = sniff_image(attachment.data)
        if mime is not None:
            found.append((attachment, mime))
    return found
