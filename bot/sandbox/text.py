"""Deterministic answers: the echo rule, filler words, rough token counts and stream pieces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import cycle, islice
from typing import Any

from bot.sandbox.faults import strip_markers

_FILLER = (
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
    "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua",
)
_PIECE = re.compile(r"\s*\S+")


def count_tokens(text: str) -> int:
    """A rough token count: one per word (the sandbox needs stable numbers, not exact ones)."""
    return len(text.split())


def pieces(text: str) -> list[str]:
    """Stream pieces, one word each with its leading whitespace; they join back to `text`."""
    found = _PIECE.findall(text)
    tail = text[sum(len(p) for p in found):]
    if tail and found:
        found[-1] += tail
    return found or ([text] if text else [])


@dataclass(frozen=True, slots=True)
class UserTurn:
    """Text and image count of one message's content."""

    text: str
    images: int


def read_content(content: Any) -> UserTurn:
    """Text (markers removed) and image parts of a string or array-of-parts content."""
    if isinstance(content, str):
        return UserTurn(strip_markers(content), 0)
    texts: list[str] = []
    images = 0
    if isinstance(content, list):
        for part in content:
            if not isinstance(part, dict):
                continue
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "image_url":
                images += 1
    return UserTurn(strip_markers(" ".join(texts)), images)


def last_user_turn(messages: list[Any]) -> UserTurn:
    """The last message with role user (empty when there is none)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return read_content(message.get("content"))
    return UserTurn("", 0)


def echo_line(turn: UserTurn, message_count: int) -> str:
    """`Echo: <text>` [+ ` [images: N]`] + ` [context: M messages]`."""
    line = f"Echo: {turn.text}"
    if turn.images:
        line += f" [images: {turn.images}]"
    return line + f" [context: {message_count} messages]"


def with_filler(text: str, tokens: int | None) -> str:
    """`text` followed by filler words until it counts `tokens` tokens."""
    if tokens is None:
        return text
    missing = tokens - count_tokens(text)
    if missing <= 0:
        return text
    return text + " " + " ".join(islice(cycle(_FILLER), missing))


def truncate_tokens(text: str, limit: int | None) -> tuple[str, bool]:
    """At most `limit` tokens of `text`; the flag says whether it was cut."""
    if limit is None:
        return text, False
    parts = pieces(text)
    if len(parts) <= limit:
        return text, False
    return "".join(parts[:limit]), True


def prompt_tokens(messages: list[Any]) -> int:
    """Prompt size: words of every message plus a small per-message overhead, like OpenAI's."""
    total = 3
    for message in messages:
        if isinstance(message, dict):
            turn = read_content(message.get("content"))
            total += 4 + count_tokens(turn.text) + 85 * turn.images
    return total
