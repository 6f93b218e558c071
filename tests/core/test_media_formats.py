"""Attachments are recognised by their bytes: every format we accept, and the near misses we must
refuse (a WAV is not a WebP picture, an iPhone HEIC photo is not an m4a recording)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import soundfile
from PIL import Image

from bot.inbound import Attachment
from bot.media import (
    MAX_AUDIO_BYTES,
    MAX_IMAGE_BYTES,
    data_url,
    image_attachments,
    sniff_audio,
    sniff_image,
)


def picture(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


def recording(fmt: str, subtype: str | None = None) -> bytes:
    tone = 0.2 * np.sin(np.linspace(0, 200, 8000, dtype=np.float32))
    out = io.BytesIO()
    soundfile.write(out, tone, 8000 if fmt != "MP3" else 16000, format=fmt, subtype=subtype)
    return out.getvalue()


def iso_media(brand: bytes) -> bytes:
    """The start of an ISO base media file (MP4 family): an `ftyp` box with its major brand."""
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"isom" + b"\0" * 16


WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01webm" + b"\0" * 16
WAV_HEADER = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\0" * 20
AVI_HEADER = b"RIFF\x24\x00\x00\x00AVI LIST" + b"\0" * 20


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_every_picture_format_we_accept_is_recognised(fmt: str, mime: str) -> None:
    assert sniff_image(picture(fmt)) == mime


def test_both_gif_versions_are_pictures() -> None:
    assert sniff_image(b"GIF87a" + b"\0" * 20) == "image/gif"
    assert sniff_image(b"GIF89a" + b"\0" * 20) == "image/gif"


@pytest.mark.parametrize(
    "data",
    [
        WAV_HEADER,  # RIFF, but sound: must not pass as image/webp
        AVI_HEADER,  # RIFF, but video
        b"RIFX\x24\x00\x00\x00WEBPVP8 ",  # WEBP without a RIFF header
        b"RIFF\x24\x00\x00\x00WEB",  # cut short
        b"\x89PNG\r\n\x1a",  # the PNG signature less its last byte
        b" \x89PNG\r\n\x1a\n",  # the signature not at the start
        b"\xff\xd8",  # half a JPEG marker
        b"GIF88a" + b"\0" * 10,
        b"BM" + b"\0" * 40,  # BMP: not a format the gateway takes
        b"",
        b"hello, this is text",
    ],
)
def test_near_misses_are_not_pictures(data: bytes) -> None:
    assert sniff_image(data) is None


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (recording("OGG", "OPUS"), "ogg"),  # a Telegram voice note
        (recording("OGG", "VORBIS"), "ogg"),
        (recording("WAV"), "wav"),
        (recording("FLAC"), "flac"),
        (recording("MP3"), "mp3"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\0" * 20, "mp3"),  # tagged MP3
        (b"\xff\xfb\x90\x64" + b"\0" * 20, "mp3"),  # MPEG-1 layer III frame
        (b"\xff\xf3\x64\xc4" + b"\0" * 20, "mp3"),  # MPEG-2 layer III frame
        (b"\xff\xe3\x64\xc4", "mp3"),  # MPEG-2.5, and just a frame header
        (iso_media(b"M4A "), "m4a"),  # iPhone voice memo
        (iso_media(b"isom"), "m4a"),  # MP4 with sound: the transcriber takes it
        (iso_media(b"3gp4"), "m4a"),
        (WEBM, "webm"),  # a browser recording
    ],
)
def test_every_recording_format_we_accept_is_recognised(data: bytes, kind: str) -> None:
    assert sniff_audio(data) == kind


@pytest.mark.parametrize(
    "data",
    [
        picture("PNG"),
        picture("JPEG"),  # FF D8 FF: frame-sync-like, but not MPEG audio
        picture("WEBP"),  # RIFF, but a picture
        AVI_HEADER,
        iso_media(b"heic"),  # an iPhone photo
        iso_media(b"mif1"),
        iso_media(b"avif"),
        b"\xff\xf1\x50\x80" + b"\0" * 20,  # AAC in ADTS (layer 0)
        b"\xff\xeb\x90\x64" + b"\0" * 20,  # MPEG version bits "reserved"
        b"\xff\xf8\x90\x64" + b"\0" * 20,  # layer bits "reserved"
        b"\x00\xfb\x90\x64" + b"\0" * 20,  # sync bits in the second byte only
        b"\xff\x1a\x90\x64" + b"\0" * 20,  # 0xFF then no sync bits
        b"\xff\xfb\x90",  # shorter than a frame header
        b"\xff",
        b"Ogg",
        b"fLa",
        b"ID",
        b"",
        b"just some text, no sound",
    ],
)
def test_near_misses_are_not_recordings(data: bytes) -> None:
    assert sniff_audio(data) is None


def test_only_real_pictures_are_taken_from_attachments_with_their_true_types() -> None:
    png, jpeg = picture("PNG"), picture("JPEG")
    attachments = (
        Attachment(png, "image/png", "a.png"),
        Attachment(WAV_HEADER, "image/webp", "b.webp"),  # a client's label is not trusted
        Attachment(jpeg, "image/png", "c.png"),
    )
    found = image_attachments(attachments)
    assert [(a.filename, mime) for a, mime in found] == [("a.png", "image/png"),
                                                          ("c.png", "image/jpeg")]
    assert image_attachments(()) == []


def test_a_data_url_carries_the_type_and_the_exact_bytes() -> None:
    assert data_url(b"\x00\x01\x02", "image/png") == "data:image/png;base64,AAEC"
    png = picture("PNG")
    head, _, body = data_url(png, "image/png").partition(",")
    assert head == "data:image/png;base64" and base64.b64decode(body) == png


def test_upload_limits_are_discords_and_whispers() -> None:
    assert MAX_IMAGE_BYTES == 10 * 1024 * 1024
    assert MAX_AUDIO_BYTES == 25 * 1024 * 1024
