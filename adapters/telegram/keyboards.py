"""The core's button rows as Telegram inline keyboards; callback_data is the core's token."""

from __future__ import annotations

import logging

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import Button, TextRequest

log = logging.getLogger(__name__)

MAX_PER_ROW = 8
MAX_BUTTONS = 100
MAX_DATA_BYTES = 64
MAX_PLACEHOLDER = 64


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """An inline keyboard mirroring `rows` (long rows wrapped at 8); None without buttons."""
    out: list[list[InlineKeyboardButton]] = []
    count = 0
    for row in rows:
        line: list[InlineKeyboardButton] = []
        for button in row:
            if len(button.token.encode()) > MAX_DATA_BYTES:
                log.error("button token longer than Telegram's callback data; left out")
                continue
            if count == MAX_BUTTONS:
                break
            line.append(InlineKeyboardButton(button.caption, callback_data=button.token))
            count += 1
            if len(line) == MAX_PER_ROW:
                out.append(line)
                line = []
        if line:
            out.append(line)
    return InlineKeyboardMarkup(out) if out else None


def force_reply(request: TextRequest) -> ForceReply:
    """The reply box a text request opens: selective, so in a group only the presser gets it."""
    hint = (request.placeholder or request.label)[:MAX_PLACEHOLDER]
    return ForceReply(selective=True, input_field_placeholder=hint or None)


def prompt_text(request: TextRequest) -> str:
    """The words above the reply box: the title, what to write, and the current value."""
    lines = [request.title, request.label]
    if request.default:
        lines.append(request.default)
    return "\n".join(line for line in lines if line)
