"""Checks of what users send to the Midjourney commands; failures are UserErrors."""

from __future__ import annotations

from bot.inbound import Attachment
from bot.media import MAX_IMAGE_BYTES, data_url, sniff_image
from bot.services import UserError

PROMPT_LIMIT = 4000  # DALL·E 3's limit; Midjourney prompts are far shorter in practice


def prompt_of(text: str, command: str, limit: int = PROMPT_LIMIT) -> str:
    """The prompt, stripped; empty or over `limit` characters is a UserError."""
    prompt = text.strip()
    if not prompt:
        raise UserError("input.empty_prompt", command=command)
    if len(prompt) > limit:
        raise UserError("input.too_long", length=len(prompt), limit=limit)
    return prompt


def image_data_urls(attachments: tuple[Attachment, ...]) -> list[str]:
    """Every attachment as an image data URL; a non-image or a too-big file is a UserError."""
    urls: list[str] = []
    for number, attachment in enumerate(attachments, start=1):
        name = attachment.filename or f"#{number}"
        mime = sniff_image(attachment.data)
        if mime is None:
            raise UserError("mj.not_an_image", name=name)
        if len(attachment.data) > MAX_IMAGE_BYTES:
            raise UserError(
                "mj.image_too_big",
                name=name,
                size_mb=round(len(attachment.data) / 2**20, 1),
                limit_mb=MAX_IMAGE_BYTES // 2**20,
            )
        urls.append(data_url(attachment.data, mime))
    return urls


def is_set(value: str | None) -> bool:
    """A flag option's truth: present (even empty) and not an explicit no."""
    return value is not None and value.strip().lower() not in ("0", "false", "no", "off")
