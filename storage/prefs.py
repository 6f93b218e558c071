"""The `users` table: each user's preferences (/model, /language, /voice)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import sqlalchemy as sa

from storage.base import UserPrefs
from storage.database import Database, first_row
from storage.schema import users

PREF_FIELDS = frozenset({"model", "language", "voice"})

# Users whose prefs are kept in memory at most (least recently used go first).
CACHE_SIZE = 50_000

GET_PREFS = sa.select(users.c.model, users.c.language, users.c.voice).where(
    users.c.platform == sa.bindparam("platform"), users.c.user_id == sa.bindparam("user_id")
)


class PrefsTable:
    """Reads and changes users' preferences."""

    def __init__(self, db: Database) -> None:
        self._db = db
        # Every command reads its user's prefs and few change them, so where this process is
        # the database's only writer (SQLite) they are kept in memory, written through.
        self._cache: OrderedDict[tuple[str, str], UserPrefs] | None = (
            OrderedDict() if db.single_writer else None
        )
        self._version = 0  # bumped around every change, so a read racing one is not kept

    async def get_prefs(self, platform: str, user_id: str) -> UserPrefs:
        """The user's preferences; all None for a user never seen."""
        user = (platform, user_id)
        if self._cache is not None and user in self._cache:
            self._cache.move_to_end(user)
            return self._cache[user]
        version = self._version
        row = await self._db.read(first_row(GET_PREFS, {"platform": platform, "user_id": user_id}))
        prefs = UserPrefs() if row is None else UserPrefs(*row)
        if version == self._version:
            self._remember(user, prefs)
        return prefs

    def _remember(self, user: tuple[str, str], prefs: UserPrefs) -> None:
        if self._cache is None:
            return
        self._cache[user] = prefs
        self._cache.move_to_end(user)
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    async def set_prefs(self, platform: str, user_id: str, **changes: str | None) -> UserPrefs:
        """Update the given fields (model, language, voice) and return the new prefs."""
        unknown = set(changes) - PREF_FIELDS
        if unknown:
            raise TypeError(f"unknown preference field(s): {', '.join(sorted(unknown))}")
        if not changes:
            return await self.get_prefs(platform, user_id)
        now = self._db.clock()
        stmt = self._db.insert(users).values(
            platform=platform, user_id=user_id, updated_at=now, **changes
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[users.c.platform, users.c.user_id],
            set_={**{name: stmt.excluded[name] for name in changes}, "updated_at": now},
        ).returning(users.c.model, users.c.language, users.c.voice)

        def write(conn: sa.Connection) -> sa.Row[Any]:
            return conn.execute(stmt).one()

        user = (platform, user_id)
        self._version += 1
        if self._cache is not None:
            self._cache.pop(user, None)  # unknown until the write has settled
        prefs = UserPrefs(*await self._db.write(write))
        self._version += 1
        self._remember(user, prefs)
        return prefs
