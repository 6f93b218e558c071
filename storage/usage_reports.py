"""Read-only usage queries for quotas and reports (/usage, /stats), on the store's engine.

Rows are summed per model so the caller can price them (prices live in the core, not here).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.schema import usage


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """Sums of usage rows sharing a user (or "" when summed over users), command and model."""

    user: str  # "platform:user_id", or "" when not grouped by user
    command: str
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    units: float


_SUMS = (
    sa.func.count(),
    sa.func.coalesce(sa.func.sum(usage.c.prompt_tokens), 0),
    sa.func.coalesce(sa.func.sum(usage.c.completion_tokens), 0),
    sa.func.coalesce(sa.func.sum(usage.c.units), 0.0),
)


class UsageReports:
    """Usage sums since a time, by subject (a user, a chat) or for everyone by user."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def of_user(self, platform: str, user_id: str, since: float) -> list[UsageTotal]:
        """One user's usage at or after `since`, per command and model."""
        return await self._totals(
            since, usage.c.platform == platform, usage.c.user_id == user_id, by_user=False
        )

    async def of_chat(self, platform: str, chat_id: str, since: float) -> list[UsageTotal]:
        """Everyone's usage in one chat at or after `since`, per command and model."""
        return await self._totals(
            since, usage.c.platform == platform, usage.c.chat_id == chat_id, by_user=False
        )

    async def by_user(self, since: float) -> list[UsageTotal]:
        """Every user's usage at or after `since`, per user, command and model."""
        return await self._totals(since, by_user=True)

    async def _totals(
        self, since: float, *conditions: sa.ColumnElement[bool], by_user: bool
    ) -> list[UsageTotal]:
        keys: list[sa.ColumnElement[str]] = [usage.c.command, usage.c.model]
        if by_user:
            keys = [usage.c.platform, usage.c.user_id, *keys]
        stmt = (
            sa.select(*keys, *_SUMS)
            .where(usage.c.created_at >= since, *conditions)
            .group_by(*keys)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        totals = []
        for row in rows:
            values = tuple(row)
            user = f"{values[0]}:{values[1]}" if by_user else ""
            rest = values[2:] if by_user else values
            command, model, calls, prompt, completion, units = rest
            totals.append(
                UsageTotal(
                    user,
                    str(command),
                    str(model),
                    int(calls),
                    int(prompt),
                    int(completion),
                    float(units),
                )
            )
        return totals
