"""A minimal PNG writer for the sandbox's drawings: no row filters, zlib level 1.

Pillow's writer tries every row filter on every row, which costs more than the drawing itself
whatever the compression level; a CDN serves files it made once, so the sandbox trades a
slightly larger file for a quarter of the encoding time. The result is an ordinary PNG (8-bit
RGB or palette, tEXt and iTXt chunks) that any decoder, Pillow included, reads back unchanged.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
ZLIB_LEVEL = 1


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(
    image: Image.Image, texts: dict[str, str], itexts: dict[str, str] | None = None
) -> bytes:
    """`image` as PNG bytes, with Latin-1 `texts` and UTF-8 `itexts`.

    A palette image ("P", RGB palette) stays one, a third of the bytes to compress; any other
    mode is converted to RGB.
    """
    palette = image.getpalette("RGB") if image.mode == "P" else None
    pixels = image if image.mode == "RGB" or palette is not None else image.convert("RGB")
    width, height = pixels.size
    raw = pixels.tobytes()
    stride = width * (1 if palette is not None else 3)
    # Filter type 0 (None) in front of every row.
    rows = b"".join(b"\x00" + raw[row : row + stride] for row in range(0, len(raw), stride))
    colour_type = 3 if palette is not None else 2
    chunks = [_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))]
    if palette is not None:
        chunks.append(_chunk(b"PLTE", bytes(palette)))
    for key, value in texts.items():
        chunks.append(_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1")))
    for key, value in (itexts or {}).items():
        # keyword, NUL, compression flag 0 and method 0, empty language tag and translation.
        body = key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + value.encode("utf-8")
        chunks.append(_chunk(b"iTXt", body))
    chunks.append(_chunk(b"IDAT", zlib.compress(rows, ZLIB_LEVEL)))
    chunks.append(_chunk(b"IEND", b""))
    return SIGNATURE + b"".join(chunks)
