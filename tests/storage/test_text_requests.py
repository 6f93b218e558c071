"""Pending text requests: found by token or by the message that asked, answered once, purged."""

from __future__ import annotations

import pytest

from storage.base import JobRecord, PendingText
from storage.sql_store import SqlStore
from tests.storage.conftest import ManualClock


def pending(
    clock: ManualClock, token: str, job_id: int | None = None, ttl: float = 3600
) -> PendingText:
    return PendingText(
        kind="mj",
        mode="inpaint",
        job_id=job_id,
        owner_id="alice",
        platform="telegram",
        payload="MJ::Inpaint::1::abc::SOLO",
        expires_at=clock.now + ttl,
        token=token,
    )


async def test_a_request_is_found_by_its_token_and_by_the_message_that_asked(
    store: SqlStore, clock: ManualClock
) -> None:
    job = await store.create_job(JobRecord(0, "telegram", "c", "", "alice", "imagine", "cat"))
    token = "Zx8-Qm1_rT0aBcDeFgHi"
    await store.open_text_request(pending(clock, token, job.id))

    found = await store.find_text_request(token)
    assert found is not None and found.token == token and found.job_id == job.id
    assert found.asked_message_id is None

    await store.bind_text_request(token, "chat-7", "501")
    by_reply = await store.find_text_request(
        platform="telegram", chat_id="chat-7", message_id="501"
    )
    assert by_reply is not None and by_reply.token == token
    # The same message id in another chat is another message.
    elsewhere = await store.find_text_request(platform="telegram", chat_id="c8", message_id="501")
    assert elsewhere is None


async def test_a_request_is_closed_once(store: SqlStore, clock: ManualClock) -> None:
    token = "t1"
    await store.open_text_request(pending(clock, token))
    assert await store.close_text_request(token) is True
    assert await store.close_text_request(token) is False
    assert await store.find_text_request(token) is None


async def test_expired_requests_are_still_found_until_purged(
    store: SqlStore, clock: ManualClock
) -> None:
    old, fresh = "old", "fresh"
    await store.open_text_request(pending(clock, old, ttl=10))
    await store.open_text_request(pending(clock, fresh, ttl=1000))
    clock.advance(100)
    # Found (so the user can be told it expired) until the purge removes it.
    assert await store.find_text_request(old) is not None
    assert await store.purge_expired_text_requests(clock.now) == 1
    assert await store.find_text_request(old) is None
    assert await store.find_text_request(fresh) is not None


async def test_a_request_needs_a_short_token(store: SqlStore, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="token"):
        await store.open_text_request(pending(clock, ""))
    with pytest.raises(ValueError, match="token"):
        await store.open_text_request(pending(clock, "x" * 21))
