"""Contract-test helpers: raw httpx clients on a running sandbox, polling and data URLs."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from bot.sandbox.server import SandboxServer

ALICE = "sk-alice-contract"
BOB = "sk-bob-contract"


def client_for(server: SandboxServer, key: str | None) -> httpx.AsyncClient:
    """A plain httpx client (not our upstream client) speaking to `server` with `key`."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    # verify=False: plain-HTTP loopback only, and it skips loading a CA bundle per client.
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10.0, verify=False)


@pytest.fixture
async def client(sandbox: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sandbox, ALICE) as http:
        yield http


@pytest.fixture
async def other(sandbox: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sandbox, BOB) as http:
        yield http


@pytest.fixture
async def frozen() -> AsyncIterator[SandboxServer]:
    """A sandbox whose time barely moves: tests step MJ jobs with `advance()`."""
    server = SandboxServer(speed=0.0001)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def frozen_client(frozen: SandboxServer) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(frozen, ALICE) as http:
        yield http


def png_data_url(
    colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48)
) -> str:
    """A real PNG as a data URL."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def fetch(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await http.get(f"/mj/task/{task_id}/fetch")
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


async def poll(http: httpx.AsyncClient, task_id: str,
               until: tuple[str, ...] = ("SUCCESS", "FAILURE")) -> list[dict[str, Any]]:
    """Every fetched state until the status is one of `until` (the fixture runs at speed 200)."""
    seen: list[dict[str, Any]] = []
    for _ in range(4000):
        seen.append(await fetch(http, task_id))
        if seen[-1]["status"] in until:
            return seen
        await asyncio.sleep(0.003)
    raise AssertionError(f"task {task_id} never reached {until}: {seen[-1]}")


async def submit(http: httpx.AsyncClient, route: str, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await http.post(route, json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def finished(server: SandboxServer, http: httpx.AsyncClient, route: str,
                   body: dict[str, Any]) -> dict[str, Any]:
    """Submit, jump scenario time past the end of the job, and fetch the finished task."""
    result = await submit(http, route, body)
    assert result["code"] == 1, result
    server.advance(60)
    task = await fetch(http, result["result"])
    assert task["status"] == "SUCCESS", task
    return task


def sse_events(body: str) -> list[str]:
    """The `data:` payloads of an event stream, checking the blank-line framing on the way."""
    assert body.endswith("\n\n"), body[-40:]
    events = body.split("\n\n")
    assert events[-1] == ""
    payloads = []
    for event in events[:-1]:
        assert event.startswith("data: "), event
        assert "\n" not in event
        payloads.append(event[len("data: "):])
    return payloads


def sse_json(body: str) -> list[dict[str, Any]]:
    """The JSON chunks of a complete stream (which must end with [DONE])."""
    payloads = sse_events(body)
    assert payloads[-1] == "[DONE]"
    return [json.loads(payload) for payload in payloads[:-1]]
