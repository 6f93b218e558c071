"""Server-sent events as the gateway frames them (`data: <json>` + blank line, `data: [DONE]`)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.sandbox.clock import SimClock

FIRST_TOKEN_DELAY = 0.3
DEFAULT_TPS = 20.0
# Sleeping for slices shorter than this costs more than it simulates; owed time is batched.
_MIN_SLEEP = 0.004


class Pacer:
    """Spends scenario time at `tps` tokens per second after a first-token delay."""

    def __init__(self, clock: SimClock, tps: float | None) -> None:
        self.clock = clock
        self.tps = tps or DEFAULT_TPS
        self._owed = 0.0
        self._started = False

    async def token(self) -> None:
        """Wait for one more token to be ready."""
        if not self._started:
            self._started = True
            self._owed += FIRST_TOKEN_DELAY
        self._owed += 1.0 / self.tps
        if self.clock.real(self._owed) >= _MIN_SLEEP:
            await self.clock.sleep(self._owed)
            self._owed = 0.0

    async def flush(self) -> None:
        """Wait out any time still owed."""
        if self._owed:
            await self.clock.sleep(self._owed)
            self._owed = 0.0

    async def whole(self, tokens: int) -> None:
        """Wait as long as producing `tokens` tokens takes (non-streamed answers)."""
        await self.clock.sleep(FIRST_TOKEN_DELAY + tokens / self.tps)


class SseWriter:
    """One event stream; `cut()` drops the connection without `[DONE]`."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.response = web.StreamResponse(headers={
            "Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"})
        self.response.content_type = "text/event-stream"

    async def open(self) -> None:
        """Send the headers."""
        await self.response.prepare(self.request)

    async def event(self, payload: dict[str, Any]) -> None:
        """`data: <json>` and the blank line."""
        await self.raw(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    async def raw(self, data: str) -> None:
        """An event whose data is `data` verbatim (the badjson fault sends a broken one)."""
        await self.response.write(f"data: {data}\n\n".encode())

    async def done(self) -> web.StreamResponse:
        """`data: [DONE]` and the end of the body."""
        await self.raw("[DONE]")
        await self.response.write_eof()
        return self.response

    def cut(self) -> web.StreamResponse:
        """Close the connection mid-stream."""
        transport = self.request.transport
        if transport is not None:
            transport.close()
        return self.response
