"""Usage records: what each user spent, for quotas and reports."""

from __future__ import annotations

from storage.base import UsageEvent
from storage.sql_store import SqlStore
from tests.storage.conftest import ManualClock

EMPTY = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "units": 0.0, "by_command": {}}


async def test_nothing_recorded_is_all_zero(store: SqlStore) -> None:
    assert await store.usage_summary("telegram", "alice", 0.0) == EMPTY


async def test_summary_totals_since_a_time(store: SqlStore, clock: ManualClock) -> None:
    await store.record_usage(UsageEvent("telegram", "alice", "c1", "ask", "gpt-4o", 100, 50))
    clock.advance(3600)
    since = clock.now
    await store.record_usage(UsageEvent("telegram", "alice", "c1", "ask", "gpt-4o", 10, 5))
    await store.record_usage(UsageEvent("telegram", "alice", "c2", "ask", "gpt-4o-mini", 1, 2))
    await store.record_usage(
        UsageEvent("telegram", "alice", "c1", "imagine", "midjourney", units=1)
    )
    await store.record_usage(UsageEvent("telegram", "alice", "c1", "speak", "tts-1", units=12.5))
    await store.record_usage(UsageEvent("telegram", "bob", "c1", "ask", "gpt-4o", 999, 999))
    await store.record_usage(UsageEvent("discord", "alice", "c1", "ask", "gpt-4o", 999, 999))

    assert await store.usage_summary("telegram", "alice", since) == {
        "calls": 4,
        "prompt_tokens": 11,
        "completion_tokens": 7,
        "units": 13.5,
        "by_command": {
            "ask": {"calls": 2, "prompt_tokens": 11, "completion_tokens": 7, "units": 0.0},
            "imagine": {"calls": 1, "prompt_tokens": 0, "completion_tokens": 0, "units": 1.0},
            "speak": {"calls": 1, "prompt_tokens": 0, "completion_tokens": 0, "units": 12.5},
        },
    }
    everything = await store.usage_summary("telegram", "alice", 0.0)
    assert everything["calls"] == 5
    assert everything["prompt_tokens"] == 111
    assert await store.usage_summary("telegram", "alice", clock.now + 1) == EMPTY
