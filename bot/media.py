"""Checks and conversions for user attachments: sniffed types, size limits, data URLs."""

from __future__ import annotations

import base64
import io
import re
import warnings

from bot.inbound import Attachment

MAX_IMAGE_BYTES = 10 * 2**20  # Discord's default upload limit; Telegram photos are smaller still
MAX_AUDIO_BYTES = 25 * 2**20  # whisper-1's per-request limit
# 100 megapixels (10000×10000): far past any picture a model or Midjourney takes, and below
# what a decompression bomb claims; Pillow's own guard stops the rest.
MAX_IMAGE_PIXELS = 100_000_000
_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")

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


# ISO base media files that are pictures (HEIC from iPhones, AVIF), not sound.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1",
                           b"avif", b"avis"})


def _mpeg_audio_frame(data: bytes) -> bool:
    """An MPEG audio frame header (4 bytes): 11 sync bits, then a version and a layer that are
    not the reserved values (layer 0 is AAC in ADTS, which the transcriber does not take)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        return False
    return data[1] & 0x18 != 0x08 and data[1] & 0x06 != 0


def sniff_audio(data: bytes) -> str | None:
    """The audio container from the bytes, as a file extension the transcriber accepts, or None."""
    if data.startswith(b"OggS"):
        return "ogg"
    if data.startswith(b"ID3") or _mpeg_audio_frame(data):
        return "mp3"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"fLaC"):
        return "flac"
    if data[4:8] == b"ftyp" and data[8:12] not in _IMAGE_BRANDS:
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


class ImageRefused(ValueError):
    """An attachment that is not a usable image: `reason` is "not_image", "broken" (truncated,
    damaged) or "too_many_pixels" (with `megapixels`)."""

    def __init__(self, reason: str, megapixels: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.megapixels = megapixels


def check_image(data: bytes) -> str:
    """The MIME type of an image whose header decodes, or ImageRefused.

    Only the header and the file's structure are read (Image.open and verify: chunk checksums,
    no pixel is decoded), so a huge or hostile file costs nothing to refuse.
    """
    # Pillow (~5 MB) is loaded only when someone sends an image.
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Past Pillow's warning size our own limit below decides.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                mime = _FORMATS.get(image.format or "")
                if mime is None:
                    raise ImageRefused("not_image")
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageRefused("too_many_pixels", width * height // 1_000_000)
                image.verify()
    except Image.DecompressionBombError as exc:
        found = _BOMB_PIXELS.search(str(exc))
        raise ImageRefused("too_many_pixels", int(found[1]) // 1_000_000 if found else 0) from None
    except UnidentifiedImageError:
        raise ImageRefused("not_image") from None
    except ImageRefused:
        raise
    except Exception:
        # Pillow reports a damaged file as OSError, SyntaxError, ValueError, struct.error...
        raise ImageRefused("broken") from None
    if _cut_short(data, mime):
        raise ImageRefused("broken")
    return mime


def _cut_short(data: bytes, mime: str) -> bool:
    """Whether a JPEG or WebP ends before its end (verify() checks PNG chunks only)."""
    if mime == "image/jpeg":
        # The end-of-image marker, possibly followed by a little padding.
        return b"\xff\xd9" not in data[-4096:]
    if mime == "image/webp":
        declared = int.from_bytes(data[4:8], "little") + 8
        return len(data) < declared
    return False


def data_url_size(size: int, mime: str) -> int:
    """How many bytes `size` bytes of `mime` take as a data URL (base64 plus its prefix)."""
    return len(f"data:{mime};base64,") + 4 * ((size + 2) // 3)
