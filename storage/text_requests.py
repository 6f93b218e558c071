"""SQL for pending text requests (see `PendingText`): the statements and the row mapping."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from storage.base import PendingText
from storage.schema import text_requests

INSERT = text_requests.insert()
_COLUMNS = (
    text_requests.c.token,
    text_requests.c.kind,
    text_requests.c.mode,
    text_requests.c.job_id,
    text_requests.c.owner_id,
    text_requests.c.platform,
    text_requests.c.payload,
    text_requests.c.expires_at,
    text_requests.c.asked_chat_id,
    text_requests.c.asked_message_id,
)


def row_values(request: PendingText, token: str, now: float) -> dict[str, Any]:
    """The row that stores `request` under `token`."""
    return {
        "token": token,
        "kind": request.kind,
        "mode": request.mode,
        "job_id": request.job_id,
        "owner_id": request.owner_id,
        "platform": request.platform,
        "payload": request.payload,
        "asked_chat_id": request.asked_chat_id,
        "asked_message_id": request.asked_message_id,
        "expires_at": request.expires_at,
        "created_at": now,
    }


def bind(token: str, chat_id: str, message_id: str) -> sa.Update:
    return (
        text_requests.update()
        .where(text_requests.c.token == token)
        .values(asked_chat_id=chat_id, asked_message_id=message_id)
    )


def by_token(token: str) -> sa.Select[Any]:
    return sa.select(*_COLUMNS).where(text_requests.c.token == token)


def by_asked(platform: str, chat_id: str, message_id: str) -> sa.Select[Any]:
    return sa.select(*_COLUMNS).where(
        text_requests.c.platform == platform,
        text_requests.c.asked_chat_id == chat_id,
        text_requests.c.asked_message_id == message_id,
    )


def delete(token: str) -> sa.Delete:
    return text_requests.delete().where(text_requests.c.token == token)


def delete_expired(now: float) -> sa.Delete:
    return text_requests.delete().where(text_requests.c.expires_at <= now)


def from_row(row: sa.Row[Any]) -> PendingText:
    token, kind, mode, job_id, owner_id, platform, payload, expires_at, chat_id, message_id = tuple(
        row
    )
    return PendingText(
        kind, mode, job_id, owner_id, platform, payload, float(expires_at), token,
        chat_id, message_id,
    )  # fmt: skip
