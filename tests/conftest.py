"""Shared fixtures: the offline sandbox on a real loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.sandbox.server import SandboxServer


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServer]:
    """A sandbox on 127.0.0.1:<free port>, fast enough that an MJ job ends well under a second."""
    server = SandboxServer(host="127.0.0.1", port=0, speed=200.0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
