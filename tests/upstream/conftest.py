"""Clients pointed at the sandbox or at a scripted server, retrying without real waits."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest

from bot.upstream import RetryPolicy, UpstreamClient
from tests.upstream.scripted import ScriptedServer

if TYPE_CHECKING:
    from bot.sandbox.server import SandboxServer

KEY = "sk-test-0123456789abcdefSECRET"
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.005, max_retry_after=2.0)


class CountingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, counting how many requests it was asked to send."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[UpstreamClient]:
    async with UpstreamClient(sandbox.url, KEY, retry=FAST_RETRY) as c:
        yield c


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def scripted_client(scripted: ScriptedServer) -> AsyncIterator[UpstreamClient]:
    async with UpstreamClient(scripted.url, KEY, retry=FAST_RETRY) as c:
        yield c


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
