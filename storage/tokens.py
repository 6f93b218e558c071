"""The `button_tokens` table: short opaque strings a button carries, standing for an action."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.base import ButtonAction
from storage.database import Database, executing, first_row
from storage.schema import button_tokens

# 12 random bytes -> 16 URL-safe characters: fits Telegram's 64-byte callback_data with room for
# a prefix, and 96 bits cannot be guessed.
TOKEN_BYTES = 12
MAX_TOKEN_LEN = 20

INSERT_TOKENS = button_tokens.insert()
RESOLVE = sa.select(
    button_tokens.c.kind,
    button_tokens.c.job_id,
    button_tokens.c.owner_id,
    button_tokens.c.platform,
    button_tokens.c.payload,
    button_tokens.c.expires_at,
).where(
    button_tokens.c.token == sa.bindparam("token"),
    button_tokens.c.expires_at > sa.bindparam("now"),
)


class TokenTable:
    """Issues, resolves and purges button tokens."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def issue_tokens(self, actions: list[ButtonAction]) -> list[str]:
        """Store actions and return a short opaque token (<= 20 bytes) for each, in order."""
        if not actions:
            return []
        now = self._db.clock()
        for _attempt in range(3):
            tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in actions]
            rows = [
                {
                    "token": token,
                    "kind": a.kind,
                    "job_id": a.job_id,
                    "owner_id": a.owner_id,
                    "platform": a.platform,
                    "payload": a.payload,
                    "expires_at": a.expires_at,
                    "created_at": now,
                }
                for token, a in zip(tokens, actions, strict=True)
            ]
            try:
                await self._db.write(executing(INSERT_TOKENS, rows))
            except IntegrityError:
                # A 96-bit collision is practically impossible, but a retry costs nothing.
                if len(set(tokens)) == len(tokens) and not await self._any_exists(tokens):
                    raise  # something else (e.g. a job_id that does not exist)
                continue
            return tokens
        raise RuntimeError("could not issue unique button tokens")

    async def _any_exists(self, tokens: list[str]) -> bool:
        stmt = sa.select(button_tokens.c.token).where(button_tokens.c.token.in_(tokens)).limit(1)
        return await self._db.read(first_row(stmt)) is not None

    async def resolve_token(self, token: str) -> ButtonAction | None:
        """The action behind a token; None when unknown or expired."""
        if not token or len(token) > MAX_TOKEN_LEN:
            return None
        row = await self._db.read(first_row(RESOLVE, {"token": token, "now": self._db.clock()}))
        if row is None:
            return None
        return ButtonAction(
            row.kind, row.job_id, row.owner_id, row.platform, row.payload, float(row.expires_at)
        )

    async def purge_expired_tokens(self, now: float) -> int:
        """Delete tokens whose `expires_at` is at or before `now`; returns how many."""
        stmt = button_tokens.delete().where(button_tokens.c.expires_at <= now)

        def write(conn: sa.Connection) -> int:
            return int(conn.execute(stmt).rowcount)

        return await self._db.write(write)
