"""Checks of what users send to the commands that take images; failures are UserErrors.

Every check runs before anything is encoded or sent: sizes first, then the image's header.
"""

from __future__ import annotations

from bot.inbound import Attachment
from bot.media import (
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    ImageRefused,
    check_image,
    data_url,
    data_url_size,
)
from bot.services import UserError

PROMPT_LIMIT = 4000  # DALL·E 3's limit; Midjourney prompts are far shorter in practice
# Room left in a request for its JSON and prompt besides the images.
REQUEST_OVERHEAD = 64 * 1024


def prompt_of(text: str, command: str, limit: int = PROMPT_LIMIT) -> str:
    """The prompt, stripped; empty or over `limit` characters is a UserError."""
    prompt = text.strip()
    if not prompt:
        raise UserError("input.empty_prompt", command=command)
    if len(prompt) > limit:
        raise UserError("input.too_long", length=len(prompt), limit=limit)
    return prompt


def checked_image(attachment: Attachment, number: int) -> str:
    """The MIME type of an attachment that is a whole, sane image; a UserError otherwise."""
    name = attachment.filename or f"#{number}"
    if len(attachment.data) > MAX_IMAGE_BYTES:
        raise UserError(
            "mj.image_too_big",
            name=name,
            size_mb=round(len(attachment.data) / 2**20, 1),
            limit_mb=MAX_IMAGE_BYTES // 2**20,
        )
    try:
        return check_image(attachment.data)
    except ImageRefused as exc:
        if exc.reason == "too_many_pixels":
            raise UserError(
                "mj.image_too_many_pixels",
                name=name,
                megapixels=exc.megapixels,
                limit=MAX_IMAGE_PIXELS // 1_000_000,
            ) from None
        key = "mj.image_broken" if exc.reason == "broken" else "mj.not_an_image"
        raise UserError(key, name=name) from None


def check_request_size(images: list[tuple[Attachment, str]], max_request_mb: float) -> None:
    """Refuse images that, encoded, would make one request larger than the gateway takes."""
    total = REQUEST_OVERHEAD + sum(data_url_size(len(a.data), mime) for a, mime in images)
    if total > max_request_mb * 2**20:
        raise UserError(
            "input.request_too_big",
            size_mb=round(total / 2**20, 1),
            limit_mb=round(max_request_mb, 1),
        )


def image_data_urls(attachments: tuple[Attachment, ...], max_request_mb: float) -> list[str]:
    """Every attachment as an image data URL, once each is checked and all fit one request."""
    checked = [
        (attachment, checked_image(attachment, number))
        for number, attachment in enumerate(attachments, start=1)
    ]
    check_request_size(checked, max_request_mb)
    return [data_url(attachment.data, mime) for attachment, mime in checked]


def is_set(value: str | None) -> bool:
    """A flag option's truth: present (even empty) and not an explicit no."""
    return value is not None and value.strip().lower() not in ("0", "false", "no", "off")
