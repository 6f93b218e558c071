"""Usage records: what each user spent, for quotas and reports.

`usage_summary` is what /usage and the daily limits (issue 11) read.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from storage.base import ConversationKey, StoredMessage, UsageEvent
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


async def test_a_turn_and_its_usage_land_together(store: SqlStore, clock: ManualClock) -> None:
    key = ConversationKey("telegram", "c1", "", "alice")
    event = UsageEvent("telegram", "alice", "c1", "ask", "gpt-4o", 12, 34)
    turn = [StoredMessage("user", "hi", 1), StoredMessage("assistant", "hello", 2)]
    await store.append_messages(key, turn, event)
    assert await store.load_context(key) == turn
    summary = await store.usage_summary("telegram", "alice", 0)
    assert (summary["calls"], summary["prompt_tokens"], summary["completion_tokens"]) == (1, 12, 34)

    # A turn that cannot be stored records no usage either.
    broken = [StoredMessage("user", "again", 1), StoredMessage("assistant", None, 2)]  # type: ignore[arg-type]
    with pytest.raises(IntegrityError):
        await store.append_messages(key, broken, event)
    assert await store.load_context(key) == turn
    assert (await store.usage_summary("telegram", "alice", 0))["calls"] == 1
