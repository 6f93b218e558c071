"""A gateway that offers only part of the API: what it lacks is left out of the menus and /help,
refused in plain words before any progress message or paid call, and never reported as a
missing task; a default model it does not list gives way to one it does."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_core, close_core
from bot.inbound import Attachment, CommandRequest, Notice
from bot.sandbox.server import SandboxServer
from storage.base import ButtonAction, JobStatus
from tests.core.chat_support import last_text, ogg_opus, png
from tests.core.conftest import fast_settings
from tests.support.harness import Harness
from tests.support.recording import RecordingChannel
from tests.upstream.foreign import ForeignGateway

# What a chat-only gateway serves: chat, and the commands that need no upstream at all.
CHAT_ONLY_MENU = ["ask", "reset", "model", "usage", "lang", "settings", "stats", "help"]

KEY = "sk-offers-test-key-123"
PNG = png()
NOT_OFFERED_HERE = ("imagine", "describe", "blend", "swapface", "shorten", "transcribe", "speak")


@contextlib.asynccontextmanager
async def harness_at(url: str, tmp_path: Path, **settings: object) -> AsyncIterator[Harness]:
    """The core as the app builds it, pointed at `url`."""
    core = await build_core(fast_settings(tmp_path, **settings), upstream_url=url, api_key=KEY)
    channel = RecordingChannel("test")
    core.services.channels["test"] = channel
    await core.tracker.start()
    try:
        yield Harness(core, channel)
    finally:
        await close_core(core)


def upstream_hits(server: SandboxServer, prefix: str) -> int:
    return sum(n for route, n in server.hits.items() if route.split(" ", 1)[1].startswith(prefix))


@pytest.fixture
async def chat_only() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(speed=200.0, families=("chat",)) as server:
        yield server


async def test_the_capability_refresher_stops_with_the_core(
    chat_only: SandboxServer, tmp_path: Path
) -> None:
    async with harness_at(chat_only.url, tmp_path) as h:
        refresher = h.core.refresher
        assert refresher is not None and not refresher.done()
    assert refresher.done()


async def test_menus_and_help_leave_out_what_a_chat_only_gateway_cannot_serve(
    chat_only: SandboxServer, tmp_path: Path
) -> None:
    async with harness_at(chat_only.url, tmp_path) as h:
        for language in ("en", "zh"):
            names = [info.name for info in h.bot.commands(language)]
            assert names == CHAT_ONLY_MENU
        await h.command("help")
        shown = last_text(h)
        assert "/ask" in shown and "/model" in shown
        for command in NOT_OFFERED_HERE:
            assert f"/{command} " not in shown
        assert "voice note" not in shown and "Midjourney" not in shown
        assert shown.endswith("In a private chat any text goes to /ask.")


async def test_imagine_on_a_gateway_without_midjourney_is_refused_before_anything_is_sent(
    chat_only: SandboxServer, tmp_path: Path
) -> None:
    async with harness_at(chat_only.url, tmp_path) as h:
        await h.command("imagine", "a red fox", message="m1")
        assert h.channel.texts() == ["This gateway has no Midjourney."]
        assert h.channel.last().progress == []
        assert h.channel.last().reply_to is not None
        assert upstream_hits(chat_only, "/mj/submit") == 0
        assert await h.services.store.list_jobs(list(JobStatus)) == []


async def test_speech_and_voice_notes_without_audio_models_are_told_plainly_in_chinese_too(
    chat_only: SandboxServer, tmp_path: Path
) -> None:
    async with harness_at(chat_only.url, tmp_path) as h:
        await h.command("speak", "hello")
        await h.message(attachments=(Attachment(ogg_opus(), "audio/ogg", "voice.ogg"),))
        await h.services.store.set_prefs("test", "li", language="zh")
        await h.command("speak", "你好", user="li")
        # a voice note nobody asked about in a group is left alone rather than answered
        group = CommandRequest(h.actor("bob"), h.chat("g1", private=False), "", "",
                               (Attachment(ogg_opus(), "audio/ogg", "voice.ogg"),))
        await h.bot.handle_message(group, h.channel)
        assert h.channel.texts() == [
            "This gateway has no speech model.",
            "This gateway has no transcription model.",
            "这个网关没有语音合成模型。",
        ]
        assert upstream_hits(chat_only, "/v1/audio") == 0


async def test_an_old_midjourney_button_pressed_on_a_gateway_without_it_is_told_to_the_presser(
    chat_only: SandboxServer, tmp_path: Path
) -> None:
    async with harness_at(chat_only.url, tmp_path) as h:
        action = ButtonAction("imagine", None, "alice", "test", "a red fox", time.time() + 60)
        [token] = await h.services.store.issue_tokens([action])
        answer = await h.press(token)
        assert answer == Notice("This gateway has no Midjourney.")
        assert h.channel.messages == []
        assert upstream_hits(chat_only, "/mj/submit") == 0


async def test_without_midjourney_imagine_points_at_dalle_which_still_draws(
    tmp_path: Path,
) -> None:
    families = ("chat", "images", "audio", "embeddings")
    async with SandboxServer(speed=200.0, families=families) as server, \
            harness_at(server.url, tmp_path) as h:
        assert "imagine" in [info.name for info in h.bot.commands("en")]
        assert "blend" not in [info.name for info in h.bot.commands("en")]
        await h.command("imagine", "a red fox")
        assert h.channel.texts() == [
            "This gateway has no Midjourney; /imagine engine:dalle works here."
        ]
        await h.command("imagine", "a red fox", options={"engine": "dalle"})
        assert server.hits["POST /v1/images/generations"] == 1
        assert upstream_hits(server, "/mj/submit") == 0


async def test_a_midjourney_route_gone_while_believed_there_is_not_offered_never_a_lost_task(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    full = SandboxServer(speed=200.0)
    await full.start()
    async with contextlib.AsyncExitStack() as stack:
        h = await stack.enter_async_context(harness_at(full.url, tmp_path))
        assert "blend" in [info.name for info in h.bot.commands("en")]
        # The operator removes the Midjourney channel while the bot runs.
        await full.stop()
        chat_only = SandboxServer(port=full.port, speed=200.0, families=("chat",))
        await stack.enter_async_context(chat_only)
        with caplog.at_level(logging.WARNING):
            await h.command("imagine", "a red fox")
        first = h.channel.last()
        assert first.progress, "the job had started: its progress message was shown"
        assert last_text(h) == "⚠️ This gateway has no Midjourney."
        [job] = await h.services.store.list_jobs(list(JobStatus))
        assert job.status is JobStatus.FAILURE  # never polled as if it were somewhere upstream
        # the gateway's own words, for the operator
        assert any(r.name == "bot.tasks.flow" and "NotOffered: Not Found status=404" in r.message
                   for r in caplog.records)
        # From now on it is known: left out of the menus and refused before any progress.
        assert "blend" not in [info.name for info in h.bot.commands("en")]
        await h.command("imagine", "another fox")
        assert h.channel.last().progress == []
        assert last_text(h).startswith("This gateway has no Midjourney")
        assert upstream_hits(chat_only, "/mj/submit") == 1


async def test_a_foreign_gateway_without_the_default_model_answers_with_one_it_lists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    foreign = ForeignGateway()
    await foreign.start()
    try:
        with caplog.at_level(logging.WARNING):
            async with harness_at(foreign.url, tmp_path, default_model="gpt-4o-mini") as h:
                warned = [r.getMessage() for r in caplog.records if "DEFAULT_MODEL" in r.message]
                assert warned == [
                    "DEFAULT_MODEL gpt-4o-mini is not listed by the gateway; users who never "
                    "chose a model get llama-3.1-8b"
                ]
                assert [i.name for i in h.bot.commands("en")] == CHAT_ONLY_MENU

                await h.command("ask", "hi")  # alice never chose a model
                assert last_text(h) == "Hello from llama-3.1-8b"

                # bob chose gpt-4o-mini back when the gateway had it
                await h.services.store.set_prefs("test", "bob", model="gpt-4o-mini")
                caplog.clear()
                await h.command("ask", "hi", user="bob", chat="c2")
                assert last_text(h) == (
                    "⚠️ The model gpt-4o-mini is not available here.\n"
                    "Send /model to choose another one."
                )
                [logged] = [r.message for r in caplog.records if r.name == "bot.commands.ask"]
                assert "Invalid model name passed in model=gpt-4o-mini" in logged
                assert KEY not in caplog.text

                await h.command("model", "gpt-4o-mini", user="bob", chat="c2")
                assert last_text(h) == (
                    "There is no model called gpt-4o-mini here. "
                    "Available models: llama-3.1-8b, qwen2.5-7b-instruct"
                )
                await h.services.store.set_prefs("test", "li", language="zh", model="gpt-4o-mini")
                await h.command("ask", "hi", user="li", chat="c3")
                assert last_text(h) == "⚠️ 这里没有模型 gpt-4o-mini。\n发送 /model 换一个模型。"

                # no model it lists can see: a picture is refused before any call
                before = foreign.hits["POST /v1/chat/completions"]
                await h.command("ask", "what is this?", chat="c4",
                                attachments=(Attachment(PNG, "image/png", "a.png"),))
                assert last_text(h).startswith("llama-3.1-8b can't look at images")
                assert foreign.hits["POST /v1/chat/completions"] == before
    finally:
        await foreign.stop()
