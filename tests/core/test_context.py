"""Conversation context: growth, /reset, scope in groups and threads, trimming and summaries."""

from __future__ import annotations

from pathlib import Path

from bot.channel import ChatRef
from bot.context.models import prompt_budget
from bot.context.tokens import count_text, encoding_name, message_tokens, rough_count
from bot.context.window import trim
from bot.inbound import CommandRequest
from bot.sandbox.server import SandboxServer
from storage.base import StoredMessage
from tests.core.chat_support import chat_harness, context_count, key_of, last_text, stored
from tests.support.harness import Harness


async def test_context_grows_across_turns(harness: Harness) -> None:
    for expected in (2, 4, 6):
        await harness.command("ask", f"turn {expected}")
        assert context_count(last_text(harness)) == expected


async def test_stored_turns_carry_their_token_counts(harness: Harness) -> None:
    await harness.command("ask", "how many tokens is this?")
    [user, answer] = await stored(harness)
    assert user.tokens == message_tokens("how many tokens is this?", "gpt-4o-mini")
    assert answer.tokens == message_tokens(answer.content, "gpt-4o-mini")


async def test_reset_starts_over_and_says_so(harness: Harness) -> None:
    await harness.command("ask", "one")
    await harness.command("ask", "two")
    await harness.command("reset")
    assert last_text(harness) == "🧹 Started a new conversation. Earlier messages are forgotten."
    await harness.command("ask", "three")
    assert last_text(harness) == "Echo: three [context: 2 messages]"


async def test_new_is_an_alias_of_reset(harness: Harness) -> None:
    await harness.command("ask", "one")
    await harness.command("new")
    await harness.command("ask", "two")
    assert context_count(last_text(harness)) == 2


async def test_each_user_has_their_own_context(harness: Harness) -> None:
    await harness.command("ask", "alice 1", user="alice")
    await harness.command("ask", "bob 1", user="bob")
    await harness.command("ask", "alice 2", user="alice")
    assert context_count(last_text(harness)) == 4


async def test_group_members_have_separate_context_by_default(harness: Harness) -> None:
    await harness.command("ask", "alice", user="alice", chat="g1", private=False)
    await harness.command("ask", "bob", user="bob", chat="g1", private=False)
    assert context_count(last_text(harness)) == 2
    await harness.command("reset", user="bob", chat="g1", private=False)
    await harness.command("ask", "alice again", user="alice", chat="g1", private=False)
    assert context_count(last_text(harness)) == 4  # bob's reset did not touch alice's


async def test_chat_scope_shares_context_in_groups_only(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with chat_harness(tmp_path, sandbox, context_scope="chat") as h:
        await h.command("ask", "alice", user="alice", chat="g1", private=False)
        await h.command("ask", "bob", user="bob", chat="g1", private=False)
        assert context_count(last_text(h)) == 4
        shared = key_of(h, "bob", "g1", private=False)
        assert shared.user_id == ""
        # a reset by any member starts the shared conversation over
        await h.command("reset", user="alice", chat="g1", private=False)
        await h.command("ask", "bob again", user="bob", chat="g1", private=False)
        assert context_count(last_text(h)) == 2
        # private chats stay per user even then
        await h.command("ask", "private", user="carol", chat="p1")
        await h.command("ask", "private 2", user="carol", chat="p1")
        assert context_count(last_text(h)) == 4


async def test_threads_of_a_chat_have_separate_context(harness: Harness) -> None:
    for thread in ("t1", "t2", "t1"):
        chat = ChatRef("test", "g1", thread_id=thread, is_private=False)
        request = CommandRequest(harness.actor("alice"), chat, "ask", f"in {thread}")
        await harness.bot.handle_command(request, harness.channel)
    assert context_count(last_text(harness)) == 4


async def test_small_budget_drops_the_oldest_turns(tmp_path: Path, sandbox: SandboxServer) -> None:
    async with chat_harness(tmp_path, sandbox, context_token_budget=600) as h:
        counts = []
        for i in range(10):
            await h.command("ask", f"question {i} [[tokens:100]]")
            counts.append(context_count(last_text(h)))
        # each turn costs ~130 tokens: from the 5th on, the oldest turns make room
        assert counts[:3] == [2, 4, 6]
        assert max(counts) <= 10 and counts[-1] < 2 * len(counts)
        assert all(c % 2 == 0 for c in counts)  # whole turns: system + pairs + the new question
        # everything is still stored; only the prompt was trimmed
        assert len(await stored(h, limit=1000)) == 20


async def test_dropped_turns_are_summarized_when_enabled(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with chat_harness(
        tmp_path, sandbox, context_token_budget=600, summarize_dropped_context=True
    ) as h:
        counts = []
        for i in range(10):
            await h.command("ask", f"question {i} [[tokens:100]]")
            counts.append(context_count(last_text(h)))
        summary = await h.services.store.get_summary(key_of(h))
        # the sandbox "summarizes" by echoing what it was given: the oldest question is in it
        assert "question 0" in summary
        # streamed answers plus at least one non-streamed summary call
        assert sandbox.hits["POST /v1/chat/completions"] > 10
        # after a summary the prompt has the system prompt, the summary, kept turns, the question
        assert counts[-1] % 2 == 1
        assert max(counts) <= 10


def test_trim_keeps_the_newest_whole_turns() -> None:
    history = [
        StoredMessage("user", "q1", 10),
        StoredMessage("assistant", "a1", 10),
        StoredMessage("user", "q2", 10),
        StoredMessage("assistant", "a2", 10),
        StoredMessage("user", "q3", 10),
        StoredMessage("assistant", "a3", 10),
    ]
    window = trim(history, 35, "gpt-4o")
    assert [m.content for m in window.kept] == ["q3", "a3"]  # a2 fits, but not without q2
    assert [m.content for m in window.dropped] == ["q1", "a1", "q2", "a2"]
    assert window.tokens == 20
    assert trim(history, 1000, "gpt-4o").dropped == []


def test_budget_is_lowered_for_small_context_models() -> None:
    assert prompt_budget("gpt-4o-mini", 6000) == 6000
    assert prompt_budget("gpt-3.5-turbo-instruct", 6000) == 4096 - 1024
    assert prompt_budget("gpt-4", 16000) == 8192 - 1024
    assert prompt_budget("gpt-4", 1000) == 1000


def test_token_counting_works_offline_with_real_vocabularies() -> None:
    # real BPE counts, not the bytes/4 fallback (which says 3 here)
    assert rough_count("hello world") == 3
    assert count_text("hello world", "gpt-4o") == 2
    assert count_text("hello world", "gpt-3.5-turbo") == 2
    assert encoding_name("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_name("some-new-model") == "o200k_base"
    assert count_text("hello world", "some-new-model") == 2
    assert count_text("<|endoftext|> is just text", "gpt-4o") > 3
    assert count_text("", "gpt-4o") == 0
