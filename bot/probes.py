"""The health checks the composition root registers: the store, the upstream, each adapter.

A check passes by returning and fails by raising with a message that names what is wrong
(bot/health.py shows it on /healthz).
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.upstream import UpstreamClient, UpstreamError

# Probes come every few seconds from each orchestrator; the gateway is asked at most this often.
UPSTREAM_CACHE_S = 30.0


@runtime_checkable
class HealthReporter(Protocol):
    """An adapter that can say whether it is connected (docs/adapter-guide.md, "Health")."""

    platform: str

    async def check_health(self) -> None:
        """Return when connected to the platform; raise with a short reason when not."""


class StoreProbe:
    """The database answers a trivial query."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))


class UpstreamProbe:
    """The gateway lists models for our key; its answer (good or bad) is kept UPSTREAM_CACHE_S."""

    def __init__(self, client: UpstreamClient, *, cache_s: float = UPSTREAM_CACHE_S) -> None:
        self._client = client
        self._cache_s = cache_s
        self._checked_at = float("-inf")
        self._failure: str | None = None

    async def __call__(self) -> None:
        if time.monotonic() - self._checked_at >= self._cache_s:
            try:
                await self._client.list_models()
                self._failure = None
            except UpstreamError as exc:
                self._failure = f"{type(exc).__name__}: {exc.user_message}"
            self._checked_at = time.monotonic()
        if self._failure is not None:
            raise RuntimeError(self._failure)
