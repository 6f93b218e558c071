"""Pacing: rate limits from Discord's headers are honoured per channel, never for all."""

from __future__ import annotations

import asyncio

from adapters.discord import DiscordAdapter
from adapters.discord.pacing import Pacer
from storage.sql_store import SqlStore
from tests.discord.conftest import start_adapter
from tests.discord.stub_inbound import StubInbound
from tests.discord.users import ALICE, slash
from tests.fakes import discord_payloads as p
from tests.fakes.discord_api import FakeDiscord


async def test_a_rate_limited_channel_does_not_hold_up_another(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.answer_chunks = [f"word{i} " for i in range(80)]
    stub.chunk_delay = 0.04  # 3.2 s of streaming in each channel
    slow = await slash(fake, "ask", text="one", channel=fake.channel_ids[0])
    await fake.wait_for(lambda: slow.acked_at is not None)
    # Channel 0's next edit is refused for 2 s, as Discord does with a 429 and its headers.
    fake.fail_next("PATCH", rf"/webhooks/\d+/{slow.token}/", 429,
                   {"message": "You are being rate limited.", "retry_after": 2.0,
                    "global": False}, {"Via": "1.1 google", "Retry-After": "2.0"})
    fast = await slash(fake, "ask", text="two", channel=fake.channel_ids[1])
    await fake.wait_for(lambda: any(r.status == 429 for r in fake.requests), 5)
    limited_at = next(r.at for r in fake.requests if r.status == 429)
    await fake.wait_for(lambda: all((m := fake.original(i)) and "word79" in m["content"]
                                    for i in (slow, fast)), 15)
    fast_edits = [r.at for r in fake.requests if r.method == "PATCH" and fast.token in r.path
                  and r.status == 200]
    during = [t for t in fast_edits if limited_at < t < limited_at + 2.0]
    assert len(during) >= 3  # the other channel kept showing its answer meanwhile


async def test_each_429_from_discord_is_counted_for_the_operator(
    fake: FakeDiscord, stub: StubInbound, store: SqlStore, keep_endpoints: None
) -> None:
    counted: list[str] = []
    adapter = await start_adapter(fake, stub, store, on_rate_limited=lambda: counted.append("x"))
    try:
        stub.answer_chunks = [f"word{i} " for i in range(20)]
        stub.chunk_delay = 0.03
        inter = await slash(fake, "ask", text="one")
        await fake.wait_for(lambda: inter.acked_at is not None)
        fake.fail_next("PATCH", rf"/webhooks/\d+/{inter.token}/", 429,
                       {"message": "You are being rate limited.", "retry_after": 0.3,
                        "global": False}, {"Retry-After": "0.3"})
        await fake.wait_for(lambda: (m := fake.original(inter)) and "word19" in m["content"], 10)
    finally:
        await adapter.close()
    assert sum(r.status == 429 for r in fake.requests) == 1
    assert counted == ["x"]


async def test_a_final_state_goes_at_once_while_progress_waits_its_turn() -> None:
    pacer = Pacer(interval=0.5)
    shown: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()

    class Item:
        def __init__(self) -> None:
            self.state = ""
            self.last = ""
            self.final = False

        @property
        def pending(self) -> bool:
            return self.state != self.last

        @property
        def urgent(self) -> bool:
            return self.final

        async def step(self) -> bool:
            self.last = self.state
            shown.append((loop.time(), self.state))
            return True

        def failed(self, error: BaseException) -> None:
            raise AssertionError(error)

    item = Item()
    start = loop.time()
    for text in ("a", "ab", "abc"):
        item.state = text
        pacer.offer("c", "k", item)
        await asyncio.sleep(0.05)
    item.state, item.final = "abcd", True
    pacer.offer("c", "k", item)
    await pacer.settle("c", "k")
    assert [s for _, s in shown] == ["a", "abcd"]  # "ab" and "abc" were replaced, not queued
    assert shown[-1][0] - start < 0.3  # the final did not wait for the 0.5 s pace
    await pacer.close()


async def test_a_burst_of_channel_messages_stays_under_the_global_limit(
    stub: StubInbound, store: SqlStore, keep_endpoints: None
) -> None:
    fake = FakeDiscord(global_per_second=50)
    await fake.start()
    adapter = await start_adapter(fake, stub, store)
    try:
        for i in range(90):  # mentions: answered by channel messages, bound by the global limit
            await fake.post_message(fake.channel_ids[i % 4], ALICE, f"<@{p.APP_ID}> n{i}")
        await fake.wait_for(lambda: len(stub.requests) == 90 and sum(
            len(fake.channel_messages(c)) for c in fake.channel_ids) >= 180, 15)
        assert fake.limits.global_429s == 0
    finally:
        await adapter.close()
        await fake.stop()
