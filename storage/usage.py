"""The `usage` table: one row per billable call, for quotas and reports."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from storage.base import UsageEvent
from storage.database import Database, all_rows, executing
from storage.schema import usage

INSERT_USAGE = usage.insert()
COUNTERS = ("calls", "prompt_tokens", "completion_tokens", "units")


def usage_row(event: UsageEvent, now: float) -> dict[str, Any]:
    """The row recording `event` at `now` (also written with the turns it paid for)."""
    return {
        "platform": event.platform,
        "user_id": event.user_id,
        "chat_id": event.chat_id,
        "command": event.command,
        "model": event.model,
        "prompt_tokens": event.prompt_tokens,
        "completion_tokens": event.completion_tokens,
        "units": event.units,
        "created_at": now,
    }


class UsageTable:
    """Records billable calls and sums them per user."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record_usage(self, event: UsageEvent) -> None:
        """Remember one billable call, stamped now."""
        await self._db.write(executing(INSERT_USAGE, usage_row(event, self._db.clock())))

    async def usage_summary(self, platform: str, user_id: str, since: float) -> dict[str, Any]:
        """Totals of one user's usage recorded at or after `since` (see `Store.usage_summary`)."""
        stmt = (
            sa.select(
                usage.c.command,
                sa.func.count().label("calls"),
                sa.func.coalesce(sa.func.sum(usage.c.prompt_tokens), 0).label("prompt_tokens"),
                sa.func.coalesce(sa.func.sum(usage.c.completion_tokens), 0).label(
                    "completion_tokens"
                ),
                sa.func.coalesce(sa.func.sum(usage.c.units), 0.0).label("units"),
            )
            .where(
                usage.c.platform == platform,
                usage.c.user_id == user_id,
                usage.c.created_at >= since,
            )
            .group_by(usage.c.command)
            .order_by(usage.c.command)
        )
        by_command = {
            row.command: {
                "calls": int(row.calls),
                "prompt_tokens": int(row.prompt_tokens),
                "completion_tokens": int(row.completion_tokens),
                "units": float(row.units),
            }
            for row in await self._db.read(all_rows(stmt))
        }
        totals: dict[str, Any] = {
            key: sum(entry[key] for entry in by_command.values()) for key in COUNTERS
        }
        totals["units"] = float(totals["units"])
        totals["by_command"] = by_command
        return totals
