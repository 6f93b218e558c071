"""/ask end to end: the core against the sandbox over HTTP, answers read back from the chat."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from bot.inbound import Attachment
from bot.markdown_images import fetch_linked_images, image_links
from bot.sandbox.server import SandboxServer
from tests.core.chat_support import chat_harness, last_text, png, stored
from tests.support.harness import Harness


async def test_ask_answers_in_one_message(harness: Harness) -> None:
    await harness.command("ask", "hello there")
    assert harness.channel.texts() == ["Echo: hello there [context: 2 messages]"]


async def test_plain_private_message_goes_to_ask(harness: Harness) -> None:
    await harness.message("what's up")
    assert last_text(harness) == "Echo: what's up [context: 2 messages]"


async def test_answer_streams_as_growing_text_and_ends_complete(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with chat_harness(tmp_path, sandbox) as h:
        await h.command("ask", "tell me a long story [[tokens:120]]", message="m7")
        shown = h.channel.last()
        seen = shown.streamed
        assert seen[0] == "…"
        # The answer replies to the user's question, and "typing…" showed while it was written.
        assert shown.reply_to is not None and shown.reply_to.message_id == "m7"
        assert h.channel.typing_in
        growing = seen[1:]
        assert len(growing) >= 3, seen
        for before, after in itertools.pairwise(growing):
            assert after.startswith(before) and len(after) > len(before)
        final = last_text(h)
        assert final.startswith("Echo: tell me a long story [context: 2 messages] lorem ipsum")
        assert len(final.split()) == 120
        assert seen[-1] == final


async def test_empty_prompt_is_refused(harness: Harness) -> None:
    await harness.command("ask", "   ")
    assert last_text(harness) == "Please add a prompt after /ask."
    assert await stored(harness) == []


async def test_a_100_kb_prompt_is_refused_with_its_size(harness: Harness) -> None:
    await harness.command("ask", "word " * 20_000)
    text = last_text(harness)
    assert text.startswith("Your message is too long for gpt-4o-mini")
    assert "20004 tokens" in text and "at most" in text
    assert await stored(harness) == []


async def test_image_reaches_the_model_as_an_image_part(harness: Harness) -> None:
    photo = Attachment(png(), "image/png", "cat.png")
    await harness.command("ask", "what is this?", attachments=(photo,))
    assert last_text(harness) == "Echo: what is this? [images: 1] [context: 2 messages]"
    [user, answer] = await stored(harness)
    assert (user.content, user.image_count) == ("what is this?", 1)
    assert answer.content.startswith("Echo: what is this?")


async def test_image_without_text_asks_what_it_shows(harness: Harness) -> None:
    await harness.command("ask", attachments=(Attachment(png(), "image/png"),))
    assert last_text(harness) == "Echo: What is in this picture? [images: 1] [context: 2 messages]"


async def test_image_for_a_blind_model_is_answered_by_a_vision_model(harness: Harness) -> None:
    await harness.command("model", "gpt-3.5-turbo")
    await harness.command("ask", "and this?", attachments=(Attachment(png(), "image/png"),))
    text = last_text(harness)
    assert text.startswith("_gpt-3.5-turbo can't see images, so gpt-4o-mini answered this one._")
    assert text.endswith("Echo: and this? [images: 1] [context: 2 messages]")


async def test_image_refused_when_no_vision_model_is_allowed(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with chat_harness(
        tmp_path, sandbox, default_model="gpt-3.5-turbo", allowed_models=["gpt-3.5-turbo"]
    ) as h:
        await h.command("ask", "see?", attachments=(Attachment(png(), "image/png"),))
        assert "gpt-3.5-turbo can't look at images" in last_text(h)
        assert sandbox.hits["POST /v1/chat/completions"] == 0


async def test_instruct_model_gets_the_conversation_as_one_prompt(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("model", "gpt-3.5-turbo-instruct")
    await harness.command("ask", "first")
    await harness.command("ask", "second")
    assert sandbox.hits["POST /v1/completions"] == 2
    assert sandbox.hits["POST /v1/chat/completions"] == 0
    text = last_text(harness)
    # the whole conversation went in as one prompt, ending where the answer goes
    assert text.startswith("Echo: System: You are a helpful assistant.")
    assert "User: first" in text and "User: second" in text and text.endswith("Assistant:")
    assert len(await stored(harness)) == 4


async def test_markdown_image_links_come_back_as_images(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with chat_harness(tmp_path, sandbox, default_model="stable-diffusion") as h:
        await h.command("ask", "a red fox")
        answer, pictures = h.channel.messages[-2:]
        assert answer.reply is not None and "![a red fox](" in answer.reply.text
        assert pictures.reply is not None
        [image] = pictures.reply.images
        assert image.mime == "image/png" and image.data.startswith(b"\x89PNG")
    assert sandbox.hits["GET /sandbox/files/{name}"] == 1


async def test_gpt4_all_draws_when_asked(harness: Harness) -> None:
    await harness.command("model", "gpt-4-all")
    await harness.command("ask", "draw a lighthouse")
    assert len(harness.channel.last().reply.images) == 1  # type: ignore[union-attr]


async def test_usage_is_recorded_for_chat_turns(harness: Harness) -> None:
    await harness.command("ask", "count me")
    summary = await harness.services.store.usage_summary("test", "alice", 0)
    assert summary["by_command"]["ask"]["calls"] == 1
    assert summary["prompt_tokens"] > 0 and summary["completion_tokens"] > 0


async def test_policy_denial_stops_the_call(harness: Harness, sandbox: SandboxServer) -> None:
    from bot.policy import Cost, Decision

    class NoChat:
        async def check(self, actor: object, chat: object, command: str, cost: Cost) -> Decision:
            return Decision(cost.kind != "chat", "chat is closed today")

    harness.services.policy = NoChat()  # type: ignore[assignment]
    await harness.command("ask", "hello")
    assert last_text(harness) == "You can't use this command: chat is closed today"
    assert sandbox.hits["POST /v1/chat/completions"] == 0
    assert await stored(harness) == []


def test_only_markdown_image_links_count_as_images() -> None:
    answer = (
        "[0%](https://x/a.png).[100%](https://x/a.png)\n\n![a cat](https://x/a.png)\n"
        '![same](https://x/a.png) ![titled](https://x/b.png "t") ![local](/mj/image/1) '
        "[⏬下载](https://x/a.png) ![nothing](javascript:alert(1))"
    )
    assert image_links(answer) == ["https://x/a.png", "https://x/b.png", "/mj/image/1"]


async def test_images_that_fail_to_download_are_left_out(
    harness: Harness, sandbox: SandboxServer
) -> None:
    await harness.command("model", "stable-diffusion")
    await harness.command("ask", "a boat")
    good = image_links(last_text_before_images(harness))
    answer = f"![gone]({sandbox.url}/sandbox/files/missing.png) ![ok]({good[0]})"
    images = await fetch_linked_images(harness.services.client, answer)
    assert len(images) == 1 and images[0].data.startswith(b"\x89PNG")


def last_text_before_images(h: Harness) -> str:
    reply = h.channel.messages[-2].reply
    assert reply is not None
    return reply.text


async def test_typing_shows_and_is_renewed_while_a_slow_answer_is_written(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.services.TYPING_RENEW_S", 0.05)
    await harness.command("ask", "take your time [[fault:latency=0.4]]")
    assert "take your time" in last_text(harness)
    shown = len(harness.channel.typing_in)
    assert shown >= 3, shown
    await asyncio.sleep(0.2)
    assert len(harness.channel.typing_in) == shown  # none once the answer is there
