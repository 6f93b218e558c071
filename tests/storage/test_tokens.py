"""Button tokens: short opaque strings standing for an action, until they expire."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from storage.base import ButtonAction, JobRecord
from storage.sql_store import SqlStore
from tests.storage.conftest import ManualClock


def action(clock: ManualClock, payload: str, job_id: int | None = None) -> ButtonAction:
    return ButtonAction(
        kind="mj",
        job_id=job_id,
        owner_id="alice",
        platform="telegram",
        payload=payload,
        expires_at=clock.now + 3600,
    )


async def test_tokens_resolve_to_their_actions_in_order(
    store: SqlStore, clock: ManualClock
) -> None:
    job = await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", "cat"))
    actions = [action(clock, f"MJ::JOB::upsample::{n}::abc", job.id) for n in range(1, 5)]
    actions.append(ButtonAction("imagine", None, "bob", "discord", "a cat --v 6", clock.now + 60))
    tokens = await store.issue_tokens(actions)
    assert len(tokens) == len(set(tokens)) == 5
    for token, expected in zip(tokens, actions, strict=True):
        assert await store.resolve_token(token) == expected


async def test_tokens_are_short_url_safe_and_unique_per_press(
    store: SqlStore, clock: ManualClock
) -> None:
    # The same action 200 times still gives 200 different tokens: they are random, not derived.
    payload = "MJ::JOB::variation::1::0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
    tokens = await store.issue_tokens([action(clock, payload) for _ in range(200)])
    assert len(set(tokens)) == 200
    for token in tokens:
        assert len(token.encode()) <= 20
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


async def test_unknown_tokens_resolve_to_none(store: SqlStore, clock: ManualClock) -> None:
    [token] = await store.issue_tokens([action(clock, "x")])
    assert await store.resolve_token("not-a-token") is None
    assert await store.resolve_token("") is None
    assert await store.resolve_token(token + "x" * 100) is None
    assert await store.resolve_token(token[:-1]) is None


async def test_tokens_expire(store: SqlStore, clock: ManualClock) -> None:
    [token] = await store.issue_tokens([action(clock, "x")])  # valid for an hour
    clock.advance(3599)
    assert await store.resolve_token(token) is not None
    clock.advance(1)
    assert await store.resolve_token(token) is None


async def test_purge_removes_only_expired_tokens(store: SqlStore, clock: ManualClock) -> None:
    """Expired tokens are purged on a schedule (issue 8), so the table does not grow forever."""
    short = ButtonAction("seed", None, "alice", "telegram", "", clock.now + 10)
    old, fresh = await store.issue_tokens([short, action(clock, "x")])
    assert await store.purge_expired_tokens(clock.now + 10) == 1
    async with store.engine.connect() as conn:
        left = (await conn.execute(sa.text("SELECT token FROM button_tokens"))).scalars().all()
    assert left == [fresh]
    assert old not in left


async def test_a_token_for_a_missing_job_is_refused(store: SqlStore, clock: ManualClock) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        await store.issue_tokens([action(clock, "x", job_id=999)])


async def test_no_actions_no_tokens(store: SqlStore) -> None:
    assert await store.issue_tokens([]) == []
