"""Whether the bot still takes commands, and which are running: what a graceful stop waits for."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Intake:
    """Counts running commands; once `stop()` is called, new ones are to be turned away."""

    def __init__(self) -> None:
        self.stopping = False
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def stop(self) -> None:
        self.stopping = True

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Around one command's run."""
        self._running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    async def idle(self) -> None:
        """Return once no command is running."""
        await self._idle.wait()
