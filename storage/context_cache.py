"""The newest turns of recently active conversations, kept in memory by the sole writer (SQLite).

Every /ask loads its context; with this cache a turn reads it from memory instead of the file.
It is only correct where this process is the database's one writer, so the store creates it
for such dialects only. Writes for a scope go through `writing()`; loads fill the cache only
when no write for that scope ran or was under way while they read.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from storage.base import ConversationKey, StoredMessage

# How many turns of one conversation are kept (the store loads at most this many anyway),
# and how many turns in all before the least recently used conversations are dropped.
WINDOW = 200
TOTAL = 20_000


@dataclass
class _Window:
    turns: deque[StoredMessage] = field(default_factory=lambda: deque(maxlen=WINDOW))
    # True when `turns` holds the whole conversation (it had fewer than WINDOW turns).
    whole: bool = False


@dataclass(frozen=True, slots=True)
class Ticket:
    """What a load saw before it read the database: fill only if nothing changed since."""

    key: ConversationKey
    version: int


class ContextCache:
    """Recent turns per conversation scope, updated in commit order by the store's writes."""

    def __init__(self, window: int = WINDOW, total: int = TOTAL) -> None:
        self._window = window
        self._total = total
        self._windows: OrderedDict[ConversationKey, _Window] = OrderedDict()
        self._count = 0
        self._versions: dict[ConversationKey, int] = {}
        self._writing: dict[ConversationKey, int] = {}

    def get(self, key: ConversationKey, limit: int) -> list[StoredMessage] | None:
        """The newest `limit` turns oldest first, or None when the cache cannot tell."""
        window = self._windows.get(key)
        if window is None or self._writing.get(key):
            return None
        if len(window.turns) < limit and not window.whole:
            return None
        self._windows.move_to_end(key)
        turns = list(window.turns)
        return turns[-limit:] if limit < len(turns) else turns

    def ticket(self, key: ConversationKey) -> Ticket:
        """Call before reading the database for `key`."""
        return Ticket(key, self._versions.get(key, 0))

    def fill(self, ticket: Ticket, turns: list[StoredMessage], whole: bool) -> None:
        """Remember what a load read, unless a write for the scope ran or runs meanwhile."""
        key = ticket.key
        if self._writing.get(key) or self._versions.get(key, 0) != ticket.version:
            return
        self._drop(key)
        window = _Window(deque(turns[-self._window :], maxlen=self._window), whole)
        self._windows[key] = window
        self._count += len(window.turns)
        self._evict()

    @contextlib.contextmanager
    def writing(self, key: ConversationKey) -> Iterator[list[StoredMessage]]:
        """Around one write for `key`: put the committed new turns in the yielded list.

        An exception means the outcome is unknown to us, so the scope is forgotten.
        """
        self._writing[key] = self._writing.get(key, 0) + 1
        committed: list[StoredMessage] = []
        try:
            yield committed
        except BaseException:
            self._drop(key)
            raise
        else:
            window = self._windows.get(key)
            if window is not None:
                before = len(window.turns)
                window.turns.extend(committed)
                window.whole = window.whole and len(window.turns) < self._window
                self._count += len(window.turns) - before
                self._evict()
        finally:
            self._versions[key] = self._versions.get(key, 0) + 1
            left = self._writing[key] - 1
            if left:
                self._writing[key] = left
            else:
                del self._writing[key]

    def forget(self, key: ConversationKey) -> None:
        """Drop the scope (a reset, or a write whose turns the cache cannot follow)."""
        self._drop(key)
        self._versions[key] = self._versions.get(key, 0) + 1

    def _drop(self, key: ConversationKey) -> None:
        window = self._windows.pop(key, None)
        if window is not None:
            self._count -= len(window.turns)

    def _evict(self) -> None:
        while self._count > self._total and len(self._windows) > 1:
            _, window = self._windows.popitem(last=False)
            self._count -= len(window.turns)
