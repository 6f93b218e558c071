"""The fake Discord refuses what Discord refuses, so the adapter tests mean something."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.fakes import discord_payloads as p
from tests.fakes.discord_api import FakeDiscord


@pytest.fixture
async def limited() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(route_limit=(5, 5.0), global_per_second=50, ack_window=0.3)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def call(fake: FakeDiscord, method: str, path: str, body: Any
               ) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.request(
            method, f"{fake.api_base}{path}", json=body) as response:
        data = await response.json() if response.status != 204 else {}
        return response.status, data, dict(response.headers)


async def test_message_limits(limited: FakeDiscord) -> None:
    channel = f"/channels/{limited.channel_ids[0]}/messages"
    status, body, _ = await call(limited, "POST", channel, {"content": "x" * 2001})
    assert (status, body["code"]) == (400, 50035)
    row = {"type": 1, "components": [{"type": 2, "custom_id": f"b{i}"} for i in range(6)]}
    status, body, _ = await call(limited, "POST", channel, {"content": "x", "components": [row]})
    assert (status, body["code"]) == (400, 50035)
    rows = [{"type": 1, "components": [{"type": 2, "custom_id": "c" * 101}]}]
    status, body, _ = await call(limited, "POST", channel, {"content": "x", "components": rows})
    assert (status, body["code"]) == (400, 50035)
    status, body, _ = await call(limited, "POST", channel, {"content": ""})
    assert (status, body["code"]) == (400, 50006)


async def test_the_acknowledgement_window_and_a_second_acknowledgement(
    limited: FakeDiscord
) -> None:
    on_time = await limited.interact(p.interaction(2, {"name": "x"}, user_id="1",
                                                   channel_id=limited.channel_ids[0]))
    late = await limited.interact(p.interaction(2, {"name": "x"}, user_id="1",
                                                channel_id=limited.channel_ids[0]))
    path = "/interactions/{}/{}/callback"
    status, _, _ = await call(limited, "POST", path.format(on_time.payload["id"], on_time.token),
                              {"type": 5})
    assert status == 204
    status, body, _ = await call(limited, "POST", path.format(on_time.payload["id"],
                                                             on_time.token), {"type": 5})
    assert (status, body["code"]) == (400, 40060)
    await asyncio.sleep(0.35)
    status, body, _ = await call(limited, "POST", path.format(late.payload["id"], late.token),
                                 {"type": 5})
    assert (status, body["code"]) == (404, 10062)


async def test_rate_limits_answer_with_discord_headers(limited: FakeDiscord) -> None:
    channel = f"/channels/{limited.channel_ids[1]}/messages"
    seen = [await call(limited, "POST", channel, {"content": f"m{i}"}) for i in range(6)]
    assert [s for s, _, _ in seen] == [200] * 5 + [429]
    assert seen[3][2]["X-RateLimit-Remaining"] == "1"
    _, body, headers = seen[5]
    assert body["retry_after"] > 0 and not body["global"] and headers["Via"]
    other = f"/channels/{limited.channel_ids[2]}/messages"  # another channel: its own bucket
    assert (await call(limited, "POST", other, {"content": "ok"}))[0] == 200
