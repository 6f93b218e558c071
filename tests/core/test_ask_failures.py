"""/ask when the upstream fails: what the user sees, and what is (not) remembered."""

from __future__ import annotations

import pytest

from tests.core.chat_support import last_text, stored
from tests.support.harness import Harness


async def test_cut_stream_keeps_the_partial_answer_with_a_note(harness: Harness) -> None:
    await harness.command("ask", "long one [[fault:cut]] [[tokens:40]]")
    text = last_text(harness)
    body, note = text.rsplit("\n\n", 1)
    assert body.startswith("Echo: long one [context: 2 messages] lorem")
    assert 5 < len(body.split()) < 40  # cut halfway
    assert note.startswith("⚠️ _The answer was cut off") and "Ask again" in note
    # What the user saw is what the next question builds on.
    [user, answer] = await stored(harness)
    assert user.role == "user" and answer.role == "assistant"
    assert answer.content == body


@pytest.mark.parametrize("fault", ["500", "429", "quota"])
async def test_upstream_error_shows_a_message_and_stores_nothing(
    harness: Harness, fault: str
) -> None:
    await harness.command("ask", "remember this")
    await harness.command("ask", f"this fails [[fault:{fault}]]")
    failed = harness.channel.last()
    assert failed.reply is not None
    # The typing placeholder became the error: no "…" is left hanging.
    assert failed.reply.text.startswith("⚠️ ") and failed.reply.text != "…"
    assert "sk-test-key" not in failed.reply.text
    assert len(harness.channel.messages) == 2
    history = await stored(harness)
    assert [m.content for m in history][::2] == ["remember this"]
    assert len(history) == 2
    await harness.command("ask", "still there?")
    assert last_text(harness) == "Echo: still there? [context: 4 messages]"


async def test_quota_message_is_clear(harness: Harness) -> None:
    await harness.command("ask", "hi [[fault:quota]]")
    text = last_text(harness).lower()
    assert "quota" in text or "balance" in text or "credit" in text, text
