"""The newest turns of recently active conversations, kept in memory by the sole writer (SQLite).

Every /ask loads its context (and, with summaries on, the conversation's summary); with this
cache a turn reads them from memory instead of the file. It is only correct where this process is
the database's one writer, so the store creates it for SQLite only. Writes for a scope go
through `writing()`; loads fill the cache only when no write for that scope ran or was under way
while they read.
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
# Summaries kept, in characters (each also costs SUMMARY_OVERHEAD, so empty ones count too).
SUMMARY_TOTAL = 2_000_000
SUMMARY_OVERHEAD = 100


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

    def __init__(
        self, window: int = WINDOW, total: int = TOTAL, summary_total: int = SUMMARY_TOTAL
    ) -> None:
        self._window = window
        self._total = total
        self._windows: OrderedDict[ConversationKey, _Window] = OrderedDict()
        self._count = 0
        self._summary_total = summary_total
        self._summaries: OrderedDict[ConversationKey, str] = OrderedDict()
        self._summary_size = 0
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

    def summary(self, key: ConversationKey) -> str | None:
        """The active conversation's summary, or None when the cache cannot tell."""
        if self._writing.get(key):
            return None
        summary = self._summaries.get(key)
        if summary is not None:
            self._summaries.move_to_end(key)
        return summary

    def fill_summary(self, ticket: Ticket, summary: str) -> None:
        """Remember a summary a load read, unless a write for the scope ran or runs meanwhile."""
        key = ticket.key
        if self._writing.get(key) or self._versions.get(key, 0) != ticket.version:
            return
        self._set_summary(key, summary)

    def summary_written(self, key: ConversationKey, summary: str) -> None:
        """Inside `writing(key)`, once the write that made `summary` current has committed."""
        self._set_summary(key, summary)

    def _set_summary(self, key: ConversationKey, summary: str) -> None:
        self._drop_summary(key)
        self._summaries[key] = summary
        self._summary_size += len(summary) + SUMMARY_OVERHEAD
        while self._summary_size > self._summary_total and len(self._summaries) > 1:
            _, old = self._summaries.popitem(last=False)
            self._summary_size -= len(old) + SUMMARY_OVERHEAD

    def _drop_summary(self, key: ConversationKey) -> None:
        old = self._summaries.pop(key, None)
        if old is not None:
            self._summary_size -= len(old) + SUMMARY_OVERHEAD

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
            self._drop_summary(key)
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
        self._drop_summary(key)
        self._versions[key] = self._versions.get(key, 0) + 1

    def _drop(self, key: ConversationKey) -> None:
        window = self._windows.pop(key, None)
        if window is not None:
            self._count -= len(window.turns)

    def _evict(self) -> None:
        while self._count > self._total and len(self._windows) > 1:
            _, window = self._windows.popitem(last=False)
            self._count -= len(window.turns)
