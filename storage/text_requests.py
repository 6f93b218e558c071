"""The `text_requests` table: text asked for by a press (a modal, a ForceReply) not answered yet."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from storage.base import PendingText
from storage.database import Database, executing, first_row
from storage.schema import text_requests
from storage.tokens import MAX_TOKEN_LEN

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


def _row_values(request: PendingText, now: float) -> dict[str, Any]:
    return {
        "token": request.token,
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


def _from_row(row: sa.Row[Any]) -> PendingText:
    token, kind, mode, job_id, owner_id, platform, payload, expires_at, chat_id, message_id = tuple(
        row
    )
    return PendingText(
        kind, mode, job_id, owner_id, platform, payload, float(expires_at), token,
        chat_id, message_id,
    )  # fmt: skip


def _deleting(stmt: sa.Delete) -> Any:
    def write(conn: sa.Connection) -> int:
        return int(conn.execute(stmt).rowcount)

    return write


class TextRequestTable:
    """Opens, binds, finds and closes pending text requests."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def open_text_request(self, request: PendingText) -> None:
        """Store a pending text request under its `token` (chosen by the caller, <= 20 bytes)."""
        if not request.token or len(request.token) > MAX_TOKEN_LEN:
            raise ValueError("a text request needs a token of 1 to 20 characters")
        await self._db.write(executing(INSERT, _row_values(request, self._db.clock())))

    async def bind_text_request(self, token: str, chat_id: str, message_id: str) -> None:
        """Remember the message that asked (answers may come as replies to it)."""
        stmt = (
            text_requests.update()
            .where(text_requests.c.token == token)
            .values(asked_chat_id=chat_id, asked_message_id=message_id)
        )
        await self._db.write(executing(stmt))

    async def find_text_request(
        self,
        token: str | None = None,
        *,
        platform: str = "",
        chat_id: str = "",
        message_id: str = "",
    ) -> PendingText | None:
        """The request by its token, or by the message that asked; expired ones included."""
        if token is not None:
            if not token or len(token) > MAX_TOKEN_LEN:
                return None
            stmt = sa.select(*_COLUMNS).where(text_requests.c.token == token)
        else:
            stmt = sa.select(*_COLUMNS).where(
                text_requests.c.platform == platform,
                text_requests.c.asked_chat_id == chat_id,
                text_requests.c.asked_message_id == message_id,
            )
        row = await self._db.read(first_row(stmt))
        return None if row is None else _from_row(row)

    async def close_text_request(self, token: str) -> bool:
        """Delete a request; True when this call removed it (so it is answered only once)."""
        stmt = text_requests.delete().where(text_requests.c.token == token)
        removed: int = await self._db.write(_deleting(stmt))
        return removed == 1

    async def purge_expired_text_requests(self, now: float) -> int:
        """Delete requests whose `expires_at` is at or before `now`; returns how many."""
        stmt = text_requests.delete().where(text_requests.c.expires_at <= now)
        purged: int = await self._db.write(_deleting(stmt))
        return purged
