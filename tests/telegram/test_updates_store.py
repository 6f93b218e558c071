"""The intake's tables through the real store (migrated to head): batches, offsets, states."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.sql_store import SqlStore
from storage.telegram_updates import StoredUpdate, TelegramUpdates, UpdateState


@pytest.fixture
async def updates(tmp_path: Path) -> AsyncIterator[TelegramUpdates]:
    async with SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as store:
        yield TelegramUpdates(store.engine, "4242")


def batch(*ids: int) -> list[StoredUpdate]:
    return [StoredUpdate(i, f'{{"update_id": {i}}}') for i in ids]


async def test_a_batch_fetched_twice_is_stored_once(updates: TelegramUpdates) -> None:
    assert await updates.next_offset() == 0
    assert await updates.store_batch(batch(1, 2, 3), 4) == [1, 2, 3]
    assert await updates.store_batch(batch(3, 4), 5) == [4]
    assert [u.update_id for u in await updates.in_state(UpdateState.STORED)] == [1, 2, 3, 4]
    assert await updates.next_offset() == 5


async def test_the_offset_never_goes_back(updates: TelegramUpdates) -> None:
    await updates.store_batch(batch(10), 11)
    await updates.store_batch(batch(), 7)
    assert await updates.next_offset() == 11


async def test_states_move_from_stored_to_started_to_done(updates: TelegramUpdates) -> None:
    await updates.store_batch(batch(1, 2), 3)
    await updates.mark([1], UpdateState.STARTED)
    await updates.mark([2], UpdateState.DONE)
    assert [u.update_id for u in await updates.in_state(UpdateState.STARTED)] == [1]
    assert await updates.in_state(UpdateState.STORED) == []
    assert await updates.prune(older_than_s=-1) == 1  # only the done one goes


async def test_two_bots_sharing_a_database_keep_their_own_updates(tmp_path: Path) -> None:
    async with SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}") as store:
        one, two = TelegramUpdates(store.engine, "1"), TelegramUpdates(store.engine, "2")
        await one.store_batch(batch(1), 2)
        assert await two.store_batch(batch(1), 2) == [1]
        assert await two.next_offset() == 2
