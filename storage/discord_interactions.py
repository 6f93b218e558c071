"""Discord interactions the bot acknowledged, with their tokens, so a restart can answer them.

A token lets the bot edit its response (`@original`) and send follow-ups for 15 minutes. Kept
here (not in the job row) so a job's message id stays short and holds no secret. Written with
SQLAlchemy Core on the store's engine; the table comes from migration 0004.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.schema import metadata

TOKEN_LIFE_S = 15 * 60.0
KEEP_S = 30 * 24 * 3600.0  # rows outlive their tokens: a late result still names its owner

discord_interactions = sa.Table(
    "discord_interactions",
    metadata,
    sa.Column("interaction_id", sa.String(32), primary_key=True),
    sa.Column("application_id", sa.String(32), nullable=False),
    sa.Column("token", sa.Text, nullable=False),
    sa.Column("channel_id", sa.String(32), nullable=False),
    sa.Column("user_id", sa.String(32), nullable=False),
    sa.Column("message_id", sa.String(32), nullable=False, server_default=""),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("language", sa.String(16), nullable=False, server_default=""),
    sa.Column("created_at", sa.Double, nullable=False),
)
sa.Index("ix_discord_interactions_state_created_at", discord_interactions.c.state,
         discord_interactions.c.created_at)


class InteractionState(StrEnum):
    """How far the bot got with answering an interaction."""

    DEFERRED = "deferred"  # acknowledged ("thinking…"), nothing shown yet
    ANSWERED = "answered"  # its response shows something (progress, a reply)
    STREAMING = "streaming"  # an answer is being streamed into it
    DONE = "done"  # complete; nothing to do after a restart


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    """One acknowledged interaction. `message_id` is its response message, once known."""

    interaction_id: str
    application_id: str
    token: str
    channel_id: str
    user_id: str
    created_at: float
    state: InteractionState = InteractionState.DEFERRED
    message_id: str = ""
    language: str = ""

    def token_alive(self, now: float, margin: float = 30.0) -> bool:
        """Whether the token can still be used (with a margin for the request itself)."""
        return now < self.created_at + TOKEN_LIFE_S - margin

    def __repr__(self) -> str:  # the token is a credential: never in a repr or a log line
        return f"InteractionRecord({self.interaction_id}, state={self.state})"


class InteractionStore:
    """Reads and writes `discord_interactions`; recent rows are cached (this process wrote them).

    Writes are gathered and committed together a moment later (one transaction for a burst):
    a burst of interactions must not queue their acknowledgements behind a commit each. A row
    lost to a crash in that moment only costs the courtesy of an apology after a restart.
    """

    def __init__(self, engine: AsyncEngine, *, clock: Callable[[], float] = time.time,
                 cache_size: int = 4096, gather_s: float = 0.02) -> None:
        self._engine = engine
        self._clock = clock
        self._cache: OrderedDict[str, InteractionRecord] = OrderedDict()
        self._cache_size = cache_size
        self._gather_s = gather_s
        self._new: list[InteractionRecord] = []
        self._changed: dict[str, dict[str, str]] = {}
        self._flushing: asyncio.Task[None] | None = None

    def _remember(self, record: InteractionRecord) -> InteractionRecord:
        self._cache[record.interaction_id] = record
        self._cache.move_to_end(record.interaction_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return record

    async def add(self, record: InteractionRecord) -> None:
        """Remember an interaction just acknowledged (committed a moment later)."""
        self._remember(record)
        self._new.append(record)
        self._schedule()

    async def get(self, interaction_id: str) -> InteractionRecord | None:
        if (cached := self._cache.get(interaction_id)) is not None:
            return cached
        async with self._engine.connect() as conn:
            row = (await conn.execute(sa.select(discord_interactions).where(
                discord_interactions.c.interaction_id == interaction_id))).mappings().first()
        return None if row is None else self._remember(_record(row))

    async def set_state(self, interaction_id: str, state: InteractionState,
                        message_id: str | None = None) -> None:
        """Move an interaction on (and note its response message once known)."""
        cached = self._cache.get(interaction_id)
        if cached is not None:
            if cached.state == state and (not message_id or cached.message_id == message_id):
                return
            self._remember(replace(cached, state=state,
                                   message_id=message_id or cached.message_id))
        values = self._changed.setdefault(interaction_id, {})
        values["state"] = state.value
        if message_id:
            values["message_id"] = message_id
        self._schedule()

    def _schedule(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_soon(), name="interactions-flush")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._gather_s)
        await self.flush()

    async def flush(self) -> None:
        """Commit what is gathered (shutdown calls this; so do tests that read the table)."""
        while self._new or self._changed:
            new, self._new = self._new, []
            changed, self._changed = self._changed, {}
            table = discord_interactions
            async with self._engine.begin() as conn:
                if new:
                    await conn.execute(sa.insert(table), [{
                        "interaction_id": r.interaction_id, "application_id": r.application_id,
                        "token": r.token, "channel_id": r.channel_id, "user_id": r.user_id,
                        "message_id": r.message_id, "state": r.state.value,
                        "language": r.language, "created_at": r.created_at} for r in new])
                for interaction_id, values in changed.items():
                    await conn.execute(sa.update(table).where(
                        table.c.interaction_id == interaction_id).values(**values))

    async def close(self) -> None:
        """Commit what is gathered and stop."""
        if self._flushing is not None:
            # Not cancelled: a flush in flight holds rows taken off the lists.
            with contextlib.suppress(Exception):
                await self._flushing
        await self.flush()

    async def unfinished(self) -> list[InteractionRecord]:
        """Interactions left deferred or mid-stream whose token still lives (after a restart)."""
        since = self._clock() - TOKEN_LIFE_S
        states = (InteractionState.DEFERRED.value, InteractionState.STREAMING.value)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(discord_interactions).where(
                discord_interactions.c.state.in_(states),
                discord_interactions.c.created_at >= since))).mappings().all()
        return [_record(row) for row in rows]

    async def forget_old(self) -> int:
        """Drop rows past keeping, and blank the tokens of expired ones; returns rows dropped."""
        now = self._clock()
        table = discord_interactions
        async with self._engine.begin() as conn:
            dropped = (await conn.execute(
                sa.delete(table).where(table.c.created_at < now - KEEP_S))).rowcount
            await conn.execute(sa.update(table).where(
                table.c.created_at < now - TOKEN_LIFE_S, table.c.token != "").values(token=""))
        return int(dropped or 0)


def _record(m: sa.RowMapping) -> InteractionRecord:
    return InteractionRecord(
        interaction_id=str(m["interaction_id"]), application_id=str(m["application_id"]),
        token=str(m["token"]), channel_id=str(m["channel_id"]), user_id=str(m["user_id"]),
        created_at=float(m["created_at"]), state=InteractionState(str(m["state"])),
        message_id=str(m["message_id"]), language=str(m["language"]))
