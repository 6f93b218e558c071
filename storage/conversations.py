"""The `conversations` and `messages` tables: what each chat remembers, and /reset.

A scope (platform × chat × thread × user) has at most one active conversation; it is created by
the first write that needs it, and a reset only deactivates it (the turns are kept).
"""

from __future__ import annotations

import contextlib
from typing import Any

import sqlalchemy as sa

from storage.base import ConversationKey, StoredMessage, UsageEvent
from storage.context_cache import WINDOW, ContextCache
from storage.database import Database, all_rows, executing, first_row
from storage.schema import ACTIVE, conversations
from storage.schema import messages as turns
from storage.usage import INSERT_USAGE, usage_row

SCOPE_COLUMNS = ("platform", "chat_id", "thread_id", "user_id")


def _scope_values(key: ConversationKey) -> dict[str, str]:
    """The parameters of IN_SCOPE (not named like the columns: UPDATE reserves those)."""
    return {
        "scope_platform": key.platform,
        "scope_chat_id": key.chat_id,
        "scope_thread_id": key.thread_id,
        "scope_user_id": key.user_id,
    }


# Statements built once: executing the same object again skips rebuilding its cache key.
IN_SCOPE = sa.and_(
    *(conversations.c[name] == sa.bindparam(f"scope_{name}") for name in SCOPE_COLUMNS)
)
FIND_ACTIVE = sa.select(conversations.c.id).where(IN_SCOPE, ACTIVE)
# In a write, the conversation's row is locked until the commit (PostgreSQL; SQLite has one
# writer anyway and renders no FOR UPDATE): writes to one conversation then run one after the
# other, so the ids of a turn's messages follow each other and come after every earlier turn's.
LOCK_ACTIVE = FIND_ACTIVE.with_for_update()
# One statement: the partial unique index finds the conversation, then the (conversation_id, id)
# index is walked backwards for exactly `max_messages` rows, whatever the history's length.
LOAD_CONTEXT = (
    sa.select(turns.c.role, turns.c.content, turns.c.tokens, turns.c.image_count)
    .where(turns.c.conversation_id == FIND_ACTIVE.scalar_subquery())
    .order_by(turns.c.id.desc())
    .limit(sa.bindparam("max_messages", type_=sa.Integer))
)
GET_SUMMARY = sa.select(conversations.c.summary).where(IN_SCOPE, ACTIVE)
DEACTIVATE = conversations.update().where(IN_SCOPE, ACTIVE).values(active=False)
SET_SUMMARY = (
    conversations.update()
    .where(conversations.c.id == sa.bindparam("conversation_id"))
    .values(summary=sa.bindparam("summary"))
)
INSERT_TURNS = turns.insert()


class ConversationTable:
    """Turns of context per scope, the summary of trimmed turns, and starting over."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Every /ask loads its context: where this process is the database's only writer
        # (SQLite), recent conversations are served from memory (see context_cache).
        self._cache = ContextCache() if db.single_writer else None

    async def load_context(
        self, key: ConversationKey, max_messages: int = 200
    ) -> list[StoredMessage]:
        """The newest turns of the current conversation, oldest first, at most `max_messages`."""
        if max_messages <= 0:
            return []
        cache = self._cache
        if cache is None:
            return await self._load(key, max_messages)
        cached = cache.get(key, max_messages)
        if cached is not None:
            return cached
        ticket = cache.ticket(key)
        depth = max(max_messages, WINDOW)
        loaded = await self._load(key, depth)
        cache.fill(ticket, loaded, whole=len(loaded) < depth)
        return loaded[-max_messages:]

    async def _load(self, key: ConversationKey, limit: int) -> list[StoredMessage]:
        rows = await self._db.read(
            all_rows(LOAD_CONTEXT, {**_scope_values(key), "max_messages": limit})
        )
        return [StoredMessage(*row) for row in reversed(rows)]

    def _writing(
        self, key: ConversationKey
    ) -> contextlib.AbstractContextManager[list[StoredMessage]]:
        """`ContextCache.writing` where there is a cache; else a list nobody reads."""
        if self._cache is None:
            return contextlib.nullcontext([])
        return self._cache.writing(key)

    async def append_messages(
        self, key: ConversationKey, messages: list[StoredMessage], usage: UsageEvent | None = None
    ) -> None:
        """Add turns atomically, with the usage that paid for them (when given) in the same
        transaction."""
        now = self._db.clock()

        def write(conn: sa.Connection) -> None:
            if usage is not None:
                conn.execute(INSERT_USAGE, usage_row(usage, now))
            if messages:
                conversation_id = self._active_id(conn, key, now)
                rows = [
                    {
                        "conversation_id": conversation_id,
                        "role": m.role,
                        "content": m.content,
                        "tokens": m.tokens,
                        "image_count": m.image_count,
                        "created_at": now,
                    }
                    for m in messages
                ]
                conn.execute(INSERT_TURNS, rows)

        if not messages and usage is None:
            return
        with self._writing(key) as committed:
            await self._db.write(write)
            committed.extend(messages)

    async def reset_conversation(self, key: ConversationKey) -> None:
        """Start a new conversation; the old one is kept but no longer loaded."""

        with self._writing(key):
            await self._db.write(executing(DEACTIVATE, _scope_values(key)))
            if self._cache is not None:
                self._cache.forget(key)
                self._cache.summary_written(key, "")  # the next conversation has none yet

    async def set_summary(self, key: ConversationKey, summary: str) -> None:
        """Remember a summary of turns that were trimmed away."""

        now = self._db.clock()

        def write(conn: sa.Connection) -> None:
            conversation_id = self._active_id(conn, key, now)
            conn.execute(SET_SUMMARY, {"conversation_id": conversation_id, "summary": summary})

        with self._writing(key):
            await self._db.write(write)
            if self._cache is not None:
                self._cache.summary_written(key, summary)

    async def get_summary(self, key: ConversationKey) -> str:
        """The active conversation's summary; "" when there is none."""
        cache = self._cache
        if cache is None:
            return await self._read_summary(key)
        cached = cache.summary(key)
        if cached is not None:
            return cached
        ticket = cache.ticket(key)
        summary = await self._read_summary(key)
        cache.fill_summary(ticket, summary)
        return summary

    async def _read_summary(self, key: ConversationKey) -> str:
        row = await self._db.read(first_row(GET_SUMMARY, _scope_values(key)))
        return "" if row is None else str(row.summary)

    def _active_id(self, conn: sa.Connection, key: ConversationKey, now: float) -> int:
        """Id of the scope's active conversation, created when there is none (in a write)."""
        scope = _scope_values(key)
        found = conn.execute(LOCK_ACTIVE, scope).scalar()
        if found is not None:
            return int(found)
        # ON CONFLICT: another process (PostgreSQL) may create it between our select and insert.
        create: Any = (
            self._db.insert(conversations)
            .values(
                platform=key.platform,
                chat_id=key.chat_id,
                thread_id=key.thread_id,
                user_id=key.user_id,
                created_at=now,
                active=True,
                summary="",
            )
            .on_conflict_do_nothing(
                index_elements=[conversations.c[name] for name in SCOPE_COLUMNS],
                index_where=ACTIVE,
            )
        )
        conn.execute(create)
        return int(conn.execute(LOCK_ACTIVE, scope).scalar_one())
