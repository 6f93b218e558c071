"""Images a model answered as markdown links (`![alt](url)`), fetched so they show as images.

The URL comes from model output, which follows what users ask for, so it is fetched only from
the gateway's origin, a host the operator allowed, or a public address (`download_link`).
"""

from __future__ import annotations

import asyncio
import logging
import re

from bot.media import MAX_IMAGE_BYTES, sniff_image
from bot.replies import Image
from bot.upstream import DestinationRefused, UpstreamClient, UpstreamError

log = logging.getLogger(__name__)

# `![alt](url)` and `![alt](url "title")`; the URL has no spaces in markdown.
_IMAGE_LINK = re.compile(r"!\[[^\]]*\]\(\s*<?([^\s)>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MAX_LINKED_IMAGES = 4
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def image_links(markdown: str) -> list[str]:
    """The distinct image URLs in `markdown`, in order, at most MAX_LINKED_IMAGES."""
    found: list[str] = []
    for url in _IMAGE_LINK.findall(markdown):
        if url not in found and url.startswith(("http://", "https://", "/")):
            found.append(url)
    return found[:MAX_LINKED_IMAGES]


async def _fetch(client: UpstreamClient, url: str, index: int) -> Image | None:
    try:
        downloaded = await client.download_link(url, max_bytes=MAX_IMAGE_BYTES)
    except DestinationRefused as exc:
        log.info("linked image from %s refused: %s", exc.host, exc.reason)
        return None
    except UpstreamError as exc:  # any failure leaves the text as it is
        log.info("could not download a linked image: %s: %s", type(exc).__name__, exc)
        return None
    mime = sniff_image(downloaded.data)
    if mime is None:
        log.info("a linked image was not an image (%s)", downloaded.content_type)
        return None
    return Image(downloaded.data, mime, f"image-{index}.{_EXTENSIONS[mime]}")


async def fetch_linked_images(client: UpstreamClient, markdown: str) -> list[Image]:
    """Download the answer's linked images; the ones that fail or are refused are left out."""
    urls = image_links(markdown)
    results = await asyncio.gather(*(_fetch(client, url, i + 1) for i, url in enumerate(urls)))
    return [image for image in results if image is not None]
