"""Inputs are checked as what they claim to be before any paid call; text is cleaned once."""

from __future__ import annotations

import struct
import time
import zlib

from bot.context import conversation_key
from bot.inbound import Attachment
from bot.sandbox.server import SandboxServer
from tests.core.mj_helpers import SUBMIT_IMAGINE, png
from tests.support.harness import Harness

CHAT = "POST /v1/chat/completions"
BLEND = "POST /mj/submit/blend"
DESCRIBE = "POST /mj/submit/describe"


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`×`height` pixels, with a few bytes of data (a bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(
        b"IEND", b""
    )


def last_text(h: Harness) -> str:
    return h.channel.last().reply.text  # type: ignore[union-attr]


async def test_a_truncated_image_is_refused_and_never_sent(
    harness: Harness, sandbox: SandboxServer
) -> None:
    whole = png(size=(256, 256))
    cut = Attachment(whole[: len(whole) // 2], "image/png", "half.png")
    await harness.command("imagine", "a cat", attachments=(cut,))
    assert "half.png" in last_text(harness) and "damaged or cut off" in last_text(harness)
    assert sandbox.hits[SUBMIT_IMAGINE] == 0


async def test_a_file_that_only_claims_to_be_an_image_is_refused(
    harness: Harness, sandbox: SandboxServer
) -> None:
    fake = Attachment(b"\x89PNG\r\n\x1a\n" + b"not really" * 50, "image/png", "fake.png")
    await harness.command("describe", attachments=(fake,))
    assert "fake.png" in last_text(harness)
    assert "damaged" in last_text(harness) or "not an image" in last_text(harness)
    assert sandbox.hits[DESCRIBE] == 0


async def test_a_decompression_bomb_is_refused_from_its_header_alone(
    harness: Harness, sandbox: SandboxServer
) -> None:
    bomb = Attachment(png_claiming(30000, 30000), "image/png", "bomb.png")
    started = time.perf_counter()
    await harness.command("describe", attachments=(bomb,))
    # Decoding 900 megapixels would take seconds and gigabytes; reading a header takes nothing.
    assert time.perf_counter() - started < 2.0
    assert "bomb.png" in last_text(harness) and "megapixels" in last_text(harness)
    assert sandbox.hits[DESCRIBE] == 0


async def test_a_large_but_sane_image_header_still_passes(
    harness: Harness, sandbox: SandboxServer
) -> None:
    # 4000×3000 (a phone photo) is well inside the limit; only its header is read here.
    await harness.command(
        "describe", attachments=(Attachment(png_claiming(4000, 3000), "image/png", "big.png"),)
    )
    assert sandbox.hits[DESCRIBE] == 1
    assert not any("megapixels" in t for t in harness.channel.texts())


async def test_images_that_together_exceed_the_request_limit_are_refused_before_encoding(
    harness: Harness, sandbox: SandboxServer
) -> None:
    # Five images of 7 MB each pass the per-file check but make a 47 MB request once encoded.
    big = png() + b"\0" * (7 * 2**20)
    pictures = tuple(Attachment(big, "image/png", f"p{n}.png") for n in range(5))
    await harness.command("blend", attachments=pictures)
    text = last_text(harness)
    assert "32" in text and "MB" in text and "fewer or smaller" in text
    assert sandbox.hits[BLEND] == 0


async def test_an_attachment_ask_cannot_use_is_named_and_the_question_still_answered(
    harness: Harness, sandbox: SandboxServer
) -> None:
    notes = Attachment(b"shopping: milk, eggs\n", "text/plain", "notes.txt")
    await harness.command("ask", "what is 2+2?", attachments=(notes,))
    texts = harness.channel.texts()
    assert any("notes.txt" in t and "/ask uses only images" in t for t in texts)
    assert sandbox.hits[CHAT] == 1


async def test_a_command_without_attachments_says_it_ignored_them(harness: Harness) -> None:
    await harness.command("shorten", "a very long prompt about a cat", attachments=(
        Attachment(png(), "image/png", "cat.png"),
    ))
    assert any("cat.png" in t and "does not use attachments" in t for t in harness.channel.texts())


async def test_invalid_bytes_and_control_characters_are_cleaned_and_the_command_runs(
    harness: Harness, sandbox: SandboxServer
) -> None:
    # What an adapter hands over after decoding bad UTF-8 with surrogateescape, plus a NUL,
    # a terminal escape and a carriage return.
    raw = "hel\x00lo \x1b[31mworld\udcff\r\nline two\tend"
    await harness.command("ask", raw)
    assert sandbox.hits[CHAT] == 1
    key = conversation_key(harness.chat("c1"), harness.actor("alice"), "user")
    stored = await harness.services.store.load_context(key)
    assert stored[0].content == "hello [31mworld\ufffd\nline two\tend"
