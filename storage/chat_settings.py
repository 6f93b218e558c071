"""Per-chat switches (/settings) on the store's engine: read often (every message), set rarely.

Kept apart from `SqlStore` so the store's own write path stays as it is; a setting is written in
its own short transaction. On a database of this process alone (SQLite: one process per file) the
few configured chats are loaded once and served from memory, so a burst of commands reads
nothing; on a shared one (PostgreSQL) reads go through a small cache with a TTL, as another
process may change a setting.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.schema import chat_settings

CACHE_TTL_S = 30.0
CACHE_SIZE = 20_000
FIELDS = ("answer_all", "auto_transcribe", "context_scope")


@dataclass(frozen=True, slots=True)
class StoredChatSettings:
    """A chat's switches as stored; None means "the operator's default"."""

    answer_all: bool | None = None
    auto_transcribe: bool | None = None
    context_scope: str | None = None


_UNSET = StoredChatSettings()

_GET = sa.select(
    chat_settings.c.answer_all, chat_settings.c.auto_transcribe, chat_settings.c.context_scope
).where(
    chat_settings.c.platform == sa.bindparam("platform"),
    chat_settings.c.chat_id == sa.bindparam("chat_id"),
)


class ChatSettingsStore:
    """Reads and writes the `chat_settings` table through an open engine."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        shared: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._shared = shared
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, StoredChatSettings]] = OrderedDict()
        # Not shared: every configured chat, once `load()` ran (None before).
        self._all: dict[tuple[str, str], StoredChatSettings] | None = None

    async def load(self) -> None:
        """Read every configured chat once (only for a database no other process writes)."""
        if self._shared:
            return
        columns = (chat_settings.c.platform, chat_settings.c.chat_id, *_GET.selected_columns)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(sa.select(*columns))).all()
        self._all = {(row[0], row[1]): StoredChatSettings(*row[2:]) for row in rows}

    async def get(self, platform: str, chat_id: str) -> StoredChatSettings:
        """The chat's switches (all None for a chat never configured)."""
        key = (platform, chat_id)
        if self._all is not None:
            return self._all.get(key, _UNSET)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self._engine.connect() as conn:
            row = (await conn.execute(_GET, {"platform": platform, "chat_id": chat_id})).first()
        found = StoredChatSettings() if row is None else StoredChatSettings(*row)
        self._remember(key, found)
        return found

    async def set(self, platform: str, chat_id: str, **changes: Any) -> StoredChatSettings:
        """Change the given switches (answer_all, auto_transcribe, context_scope); returns all."""
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise TypeError(f"unknown chat settings: {sorted(unknown)}")
        values = {"platform": platform, "chat_id": chat_id, "updated_at": self._clock(), **changes}
        insert = (
            postgresql.insert(chat_settings)
            if self._engine.dialect.name == "postgresql"
            else sqlite.insert(chat_settings)
        )
        stmt = insert.values(values).on_conflict_do_update(
            index_elements=[chat_settings.c.platform, chat_settings.c.chat_id],
            set_={name: values[name] for name in (*changes, "updated_at")},
        )
        # The upsert comes first: on SQLite it takes the write lock (waiting out the store's own
        # writer), so the read after it sees the committed row.
        async with self._engine.begin() as conn:
            await conn.execute(stmt)
            row = (await conn.execute(_GET, {"platform": platform, "chat_id": chat_id})).one()
        found = StoredChatSettings(*row)
        self._remember((platform, chat_id), found)
        return found

    def _remember(self, key: tuple[str, str], found: StoredChatSettings) -> None:
        if self._all is not None:
            self._all[key] = found
            return
        self._cache[key] = (time.monotonic() + CACHE_TTL_S, found)
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
