"""Work that must not overlap with itself: one key, one runner at a time."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator


class Turns:
    """Work under the same key runs one at a time, in the order it came; keys nobody holds or
    waits for are forgotten."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._holders: collections.Counter[str] = collections.Counter()

    @contextlib.asynccontextmanager
    async def take(self, key: str) -> AsyncIterator[None]:
        """Wait for the key's turn and hold it for the body."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:
                del self._holders[key]
                del self._locks[key]
