"""Running the Telegram adapter against the fake Bot API, and reading chats back as users do."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.pacing import Pacer
from bot.inbound import Inbound
from storage.telegram_updates import metadata
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:TEST-token-secret"


async def wait_for(predicate: Callable[[], Any], bound: float = 10.0, what: str = "") -> Any:
    """Poll `predicate` until it is truthy; fail after `bound` seconds."""
    deadline = time.monotonic() + bound
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def plain_engine(tmp_path: Path) -> AsyncEngine:
    """A SQLite engine with only the intake tables (adapter tests that run no core)."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'tg.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return engine


@contextlib.asynccontextmanager
async def running_adapter(
    fake: FakeTelegram, inbound: Inbound, engine: AsyncEngine, **options: Any
) -> AsyncIterator[TelegramAdapter]:
    """A started adapter polling the fake (1 s long polls), stopped on exit."""
    options.setdefault("poll_timeout", 1.0)
    adapter = TelegramAdapter(inbound, engine, fake.token, fake.url, **options)
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.stop(grace_s=5.0)


def fast_pacer() -> Pacer:
    """Pacing as in production; tests that want speed turn the fake's limits off instead."""
    return Pacer()
