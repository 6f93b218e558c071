"""The seam as adapters meet it: prompts that survive a restart, expiry, purging, menus, and a
core that never loads a platform library."""

from __future__ import annotations

import ast
import asyncio
import time
from pathlib import Path

import pytest

from bot.channel import Actor, MessageRef
from bot.inbound import AskText, Notice
from bot.sandbox.server import SandboxServer
from storage.base import ButtonAction, JobStatus, PendingText
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import (
    SUBMIT_ACTION,
    SUBMIT_MODAL,
    button,
    captions,
    imagine_result,
    results,
    settle,
    wait_results,
    wait_text,
)
from tests.support.harness import Harness

REPO = Path(__file__).resolve().parents[2]
PLATFORM_LIBRARIES = {"discord", "telegram"}


def test_nothing_in_the_core_or_the_store_imports_a_platform_library() -> None:
    offenders: list[str] = []
    for root in ("bot", "storage"):
        for path in (REPO / root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                offenders += [
                    f"{path.relative_to(REPO)}: {name}"
                    for name in names
                    if name.split(".")[0] in PLATFORM_LIBRARIES
                ]
    assert offenders == []


async def upscaled(h: Harness) -> Harness:
    grid = await imagine_result(h, "a red fox")
    await h.press(button(grid, "U1").token)
    await wait_results(h, 2)
    await settle(h)
    return h


async def test_an_answer_to_a_prompt_after_a_restart_still_completes_it(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path)
    async with running_harness(settings, sandbox) as first:
        await upscaled(first)
        up = results(first)[-1]
        asked = await first.press(button(up, "🖌️ Vary (Region)").token)
        assert isinstance(asked, AskText)
        # Telegram's way: the prompt is a ForceReply message, and the answer replies to it.
        prompt = MessageRef(first.chat("c1"), "force-reply-42")
        await first.bot.bind_text_request(asked.token, prompt)
        # The adapter tells an answer to the prompt from any other reply by asking.
        assert await first.bot.awaits_text(prompt)
        assert not await first.bot.awaits_text(MessageRef(first.chat("c1"), "an-answer"))

    async with running_harness(settings, sandbox) as second:
        await second.submit("a red fox wearing a tiny hat", answered=prompt)
        new = (await wait_results(second, 1))[-1]
        assert new.reply is not None and "a red fox wearing a tiny hat" in new.reply.text
        assert captions(new)[0][0] == "U1"
        assert sandbox.hits[SUBMIT_MODAL] == 1


async def test_an_expired_prompt_is_told_so_and_nothing_is_sent(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with running_harness(fast_settings(tmp_path, text_request_ttl_s=0.0), sandbox) as h:
        await upscaled(h)
        asked = await h.press(button(results(h)[-1], "🔍 Custom Zoom").token)
        assert isinstance(asked, AskText)
        actions = sandbox.hits[SUBMIT_ACTION]

        await h.submit("a red fox --zoom 1.5", token=asked.token)

        assert "expired" in h.channel.last().reply.text  # type: ignore[union-attr]
        assert sandbox.hits[SUBMIT_ACTION] == actions
        assert sandbox.hits[SUBMIT_MODAL] == 0


async def test_an_answer_to_no_known_prompt_is_told_so(harness: Harness) -> None:
    await harness.submit("hello?", answered=MessageRef(harness.chat("c1"), "not-a-prompt"))
    assert "expired" in harness.channel.last().reply.text  # type: ignore[union-attr]


async def test_expired_button_tokens_and_prompts_are_purged_on_a_schedule(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    async with running_harness(fast_settings(tmp_path, purge_interval_s=0.05), sandbox) as h:
        store = h.services.store
        past = time.time() - 1
        await store.issue_tokens([ButtonAction("seed", None, "alice", "test", "x", past)])
        token, live = "expired-one", "live-one"
        await store.open_text_request(
            PendingText("remix", "remix", None, "alice", "test", "", past, token)
        )
        await store.open_text_request(
            PendingText("remix", "remix", None, "alice", "test", "", time.time() + 60, live)
        )
        deadline = time.monotonic() + 5
        while await store.find_text_request(token) is not None:
            assert time.monotonic() < deadline, "the expired prompt was never purged"
            await asyncio.sleep(0.02)
        # What a purge would still find is nothing: the expired token went with it.
        assert await store.purge_expired_tokens(time.time()) == 0
        assert await store.find_text_request(live) is not None


async def test_menus_list_the_commands_in_help_order_with_their_parameters(
    harness: Harness,
) -> None:
    menu = harness.bot.commands("en")
    names = [c.name for c in menu]
    assert names[:3] == ["ask", "reset", "model"] and names[-1] == "help"
    help_ = menu[-1]
    assert help_.description == "Show this help" and help_.aliases == ("start",)
    (name,) = next(c for c in menu if c.name == "model").params
    assert name.name == "name" and name.suggests


async def test_model_names_are_suggested_as_they_are_typed(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    allowed = ["gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo"]
    async with running_harness(fast_settings(tmp_path, allowed_models=allowed), sandbox) as h:
        alice = Actor("test", "alice")
        assert await h.bot.suggest("model", "name", "gpt-4o", alice) == ["gpt-4o", "gpt-4o-mini"]
        assert await h.bot.suggest("model", "name", "MINI", alice) == ["gpt-4o-mini"]
        assert await h.bot.suggest("imagine", "prompt", "a", alice) == []


async def test_a_job_keeps_the_privacy_its_chat_had_whatever_the_ids(harness: Harness) -> None:
    # A Discord DM's channel id is not the user's id; a group's may look like anything.
    await harness.command("imagine", "a red fox", chat="dm-channel-9", private=True)
    await harness.command("imagine", "a blue fox", chat="alice", private=False)
    shown = await wait_results(harness, 2)
    await settle(harness)
    privacy = {s.ref.chat.chat_id: s.ref.chat.is_private for s in shown}
    assert privacy == {"dm-channel-9": True, "alice": False}


async def remix_waiting(h: Harness, sandbox: SandboxServer) -> None:
    """/imagine, then V2 on an account in Remix mode: the child waits for its prompt."""
    grid = await imagine_result(h, "a red fox")
    sandbox.set_fault("remix")
    try:
        await h.press(button(grid, "V2").token)
        await wait_text(h, "waits for your prompt")
    finally:
        sandbox.set_fault(None)


async def test_a_job_waiting_for_its_remix_prompt_offers_it_again_after_a_restart(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path)
    async with running_harness(settings, sandbox) as first:
        await remix_waiting(first, sandbox)

    async with running_harness(settings, sandbox) as second:
        waiting = await wait_text(second, "waits for your prompt")
        asked = await second.press(button(waiting, "✏️ Write the prompt").token)
        assert isinstance(asked, AskText) and asked.request.default == "a red fox"
        await second.submit("a blue fox", token=asked.token)
        (new,) = await wait_results(second, 1)
        assert new.reply is not None and "a blue fox" in new.reply.text
        assert sandbox.hits[SUBMIT_MODAL] == 1


async def test_a_job_left_waiting_for_its_prompt_past_the_deadline_ends_and_its_owner_is_told(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, mj_task_deadline_s=3.0, purge_interval_s=0.05)
    async with running_harness(settings, sandbox) as h:
        await remix_waiting(h, sandbox)
        told = await wait_text(h, "did not finish")
        assert told.reply is not None and not told.reply.buttons
        (child,) = await h.services.store.list_jobs([JobStatus.FAILURE])
        assert child.kind == "action" and child.fail_reason == "deadline"
        await settle(h)
        assert await h.services.store.list_jobs([JobStatus.MODAL]) == []


async def test_menus_are_described_in_chinese_where_the_catalog_has_it(harness: Harness) -> None:
    english = {c.name: c.description for c in harness.bot.commands("en")}
    chinese = {c.name: c.description for c in harness.bot.commands("zh")}
    assert english["imagine"] == "Create images with Midjourney (or DALL·E 3) from a prompt"
    assert chinese["imagine"] == "用 Midjourney（或 DALL·E 3）根据提示词生成图片"
    assert chinese.keys() == english.keys()


async def test_a_press_is_refused_in_the_pressers_language(harness: Harness) -> None:
    await harness.services.store.set_prefs("test", "bob", language="zh")
    answer = await harness.press("no-such-token", user="bob")
    assert answer == Notice("这个按钮已过期或已失效。")


async def test_a_prompt_is_asked_for_before_the_store_has_written_it(
    harness: Harness, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Discord modal must be the press's first answer within 3 s, whatever the writer's queue."""
    await upscaled(harness)
    store = harness.services.store
    real_open = store.open_text_request
    writer_free = asyncio.Event()

    async def busy_writer(request: PendingText) -> None:
        await writer_free.wait()  # the store's one writer is busy with a burst
        await real_open(request)

    monkeypatch.setattr(store, "open_text_request", busy_writer)
    zoom = button(results(harness)[-1], "🔍 Custom Zoom").token
    async with asyncio.timeout(5):
        asked = await harness.press(zoom, wait=False)
    assert isinstance(asked, AskText)

    writer_free.set()
    await harness.submit("a red fox --zoom 1.5", token=asked.token)
    await wait_results(harness, 3)
    assert sandbox.hits[SUBMIT_MODAL] == 1
