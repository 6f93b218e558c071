"""Telegram's intake on disk: each fetched batch of updates with the next offset, and their state.

A batch and the offset that confirms it to Telegram are written in one transaction, before the
next `getUpdates` call; an update is marked started when the core receives it and done when
it ends. After a crash the stored, unstarted updates are handled once (the key is
`update_id`, so a batch fetched twice is stored once).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

metadata = sa.MetaData()

updates_table = sa.Table(
    "telegram_updates",
    metadata,
    sa.Column("bot_id", sa.String(32), nullable=False),
    sa.Column("update_id", sa.BigInteger, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("stored_at", sa.Double, nullable=False),
    sa.PrimaryKeyConstraint("bot_id", "update_id", name="pk_telegram_updates"),
    sa.Index("ix_telegram_updates_state", "bot_id", "state", "update_id"),
)

offsets_table = sa.Table(
    "telegram_offsets",
    metadata,
    sa.Column("bot_id", sa.String(32), primary_key=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)

class UpdateState(IntEnum):
    """Where an update is: stored, started (handed to the core) or done."""

    STORED = 0
    STARTED = 1
    DONE = 2


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    """One update as fetched: its id and Telegram's JSON text."""

    update_id: int
    payload: str


class TelegramUpdates:
    """The intake tables of one bot (keyed by the bot's id, never its token)."""

    def __init__(self, engine: AsyncEngine, bot_id: str) -> None:
        # On SQLite the store's engine begins every transaction IMMEDIATE (storage/engine.py):
        # a read-then-write transaction takes the write lock up front.
        self._engine = engine
        self._bot = bot_id

    async def next_offset(self) -> int:
        """The offset to ask Telegram for: one past the last update stored (0 before any)."""
        async with self._engine.begin() as conn:
            value = await conn.scalar(
                sa.select(offsets_table.c.next_offset).where(offsets_table.c.bot_id == self._bot)
            )
        return int(value or 0)

    async def store_batch(self, batch: Iterable[StoredUpdate], next_offset: int) -> list[int]:
        """Store a batch and the offset that confirms it, in one transaction; the new ids."""
        rows = {u.update_id: u for u in batch}
        now = time.time()
        async with self._engine.begin() as conn:
            known: set[int] = set()
            if rows:
                result = await conn.execute(
                    sa.select(updates_table.c.update_id).where(
                        updates_table.c.bot_id == self._bot,
                        updates_table.c.update_id.in_(list(rows)),
                    )
                )
                known = {int(r[0]) for r in result}
            fresh = [u for uid, u in sorted(rows.items()) if uid not in known]
            if fresh:
                await conn.execute(
                    updates_table.insert(),
                    [
                        {
                            "bot_id": self._bot, "update_id": u.update_id, "payload": u.payload,
                            "state": int(UpdateState.STORED), "stored_at": now,
                        }
                        for u in fresh
                    ],
                )
            updated = await conn.execute(
                offsets_table.update()
                .where(offsets_table.c.bot_id == self._bot)
                .values(next_offset=sa.func.max(offsets_table.c.next_offset, next_offset))
                if conn.dialect.name == "sqlite"
                else offsets_table.update()
                .where(offsets_table.c.bot_id == self._bot)
                .values(next_offset=sa.func.greatest(offsets_table.c.next_offset, next_offset))
            )
            if updated.rowcount == 0:
                await conn.execute(
                    offsets_table.insert().values(bot_id=self._bot, next_offset=next_offset)
                )
        return [u.update_id for u in fresh]

    async def in_state(self, state: UpdateState) -> list[StoredUpdate]:
        """Updates in `state`, oldest first."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                sa.select(updates_table.c.update_id, updates_table.c.payload)
                .where(updates_table.c.bot_id == self._bot, updates_table.c.state == int(state))
                .order_by(updates_table.c.update_id)
            )
            return [StoredUpdate(int(r[0]), str(r[1])) for r in result]

    async def mark(self, update_ids: Iterable[int], state: UpdateState) -> None:
        """Move updates to `state`."""
        ids = list(update_ids)
        if not ids:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                updates_table.update()
                .where(updates_table.c.bot_id == self._bot, updates_table.c.update_id.in_(ids))
                .values(state=int(state))
            )

    async def prune(self, older_than_s: float = 24 * 3600.0) -> int:
        """Forget done updates older than this (Telegram itself keeps updates 24 h)."""
        cutoff = time.time() - older_than_s
        async with self._engine.begin() as conn:
            result = await conn.execute(
                updates_table.delete().where(
                    updates_table.c.bot_id == self._bot,
                    updates_table.c.state == int(UpdateState.DONE),
                    updates_table.c.stored_at < cutoff,
                )
            )
        return int(result.rowcount or 0)
