"""The Vary (Region) mask: chat platforms have no drawing surface, so the centre is the region."""

from __future__ import annotations

import asyncio
import io
import logging

from bot.media import data_url
from bot.services import Services
from bot.upstream import UpstreamError

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1024, 1024)


def centre_mask_png(size: tuple[int, int]) -> bytes:
    """A black PNG of `size` with the middle half (each way) white: the part Midjourney redraws."""
    # Pillow (~5 MB) is loaded only by the few who use Vary (Region).
    from PIL import Image, ImageDraw

    width, height = size
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle(
        (width // 4, height // 4, width * 3 // 4 - 1, height * 3 // 4 - 1), fill=255
    )
    out = io.BytesIO()
    mask.save(out, format="PNG")
    return out.getvalue()


def _size_of(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.size


async def centre_mask(services: Services, image_url: str) -> str:
    """A centre mask as a PNG data URL, sized like the image at `image_url` when it can be read."""
    size = DEFAULT_SIZE
    if image_url:
        try:
            got = await services.client.download(image_url)
            size = await asyncio.to_thread(_size_of, got.data)
        except (UpstreamError, OSError, ValueError):
            log.warning("could not read the image to size a mask; using %sx%s", *DEFAULT_SIZE)
    png = await asyncio.to_thread(centre_mask_png, size)
    return data_url(png, "image/png")
