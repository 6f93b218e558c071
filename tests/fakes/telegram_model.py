"""What the fake Bot API server keeps: calls, files, messages as users see them, errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def body(self) -> Json:
        out: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


@dataclass
class Call:
    """One request the bot made: method, decoded parameters, uploaded files, when."""

    method: str
    params: Json
    files: dict[str, tuple[str, bytes]]
    at: float
    status: int = 200


@dataclass
class StoredFile:
    data: bytes
    path: str
    size: int


@dataclass
class ChatMessage:
    """A message in a chat as users see it; `history` holds (time, text) for every change."""

    chat_id: int
    message_id: int
    sender: Json
    text: str = ""
    entities: list[Json] = field(default_factory=list)
    kind: str = "text"  # text | photo | voice | audio | document | video_note
    file_id: str = ""
    reply_markup: Json | None = None
    reply_to: int | None = None
    force_reply: bool = False
    deleted: bool = False
    history: list[tuple[float, str]] = field(default_factory=list)

    @property
    def buttons(self) -> list[list[Json]]:
        return list((self.reply_markup or {}).get("inline_keyboard", []))
