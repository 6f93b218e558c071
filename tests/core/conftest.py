"""The core against the sandbox over real HTTP and a real SQLite file, with a recording channel."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_core, close_core
from bot.config import Settings
from bot.sandbox.server import SandboxServer
from tests.support.harness import Harness
from tests.support.recording import RecordingChannel


def fast_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for tests: a temp database and poll intervals fit for the fast sandbox."""
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "mj_poll_min_interval_s": 0.02,
        "mj_poll_max_interval_s": 0.1,
        "mj_task_deadline_s": 30.0,
        "upstream_read_timeout": 10.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def start_harness(settings: Settings, sandbox: SandboxServer) -> Harness:
    """Build the services as the app does and start the tracker."""
    core = await build_core(settings, upstream_url=sandbox.url, api_key="sk-test-key-123")
    channel = RecordingChannel("test")
    core.services.channels["test"] = channel
    await core.tracker.start()
    return Harness(core, channel)


@contextlib.asynccontextmanager
async def running_harness(settings: Settings, sandbox: SandboxServer) -> AsyncIterator[Harness]:
    """`start_harness`, closed on exit as the app closes its services."""
    h = await start_harness(settings, sandbox)
    try:
        yield h
    finally:
        await close_core(h.core)


@pytest.fixture
async def harness(tmp_path: Path, sandbox: SandboxServer) -> AsyncIterator[Harness]:
    async with running_harness(fast_settings(tmp_path), sandbox) as h:
        yield h
