"""Daily limits and budgets as users meet them: exact under a burst, refusals that say which limit
and when it resets, nothing held by calls that failed for free, /usage, /stats, /model prices."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.sandbox.server import SandboxServer
from storage.base import JobStatus
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import SUBMIT_IMAGINE, wait_results
from tests.support.harness import Harness

CHAT_COMPLETIONS = "POST /v1/chat/completions"


def texts_with(h: Harness, needle: str) -> list[str]:
    return [t for t in h.channel.texts() if needle in t]


async def test_fifty_simultaneous_imagines_against_a_limit_of_ten_start_exactly_ten(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="mj_jobs=10")
    async with running_harness(settings, sandbox) as h:
        await asyncio.gather(*(h.command("imagine", f"cat number {i}") for i in range(50)))
        refusals = texts_with(h, "daily limit of 10 Midjourney jobs")

        assert sandbox.hits[SUBMIT_IMAGINE] == 10
        assert len(refusals) == 40
        assert "resets in" in refusals[0] and "00:00 UTC" in refusals[0]
        assert len(await h.services.store.list_jobs(list(JobStatus))) == 10
        await wait_results(h, 10)


async def test_a_submit_refused_for_free_gives_its_place_back(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="mj_jobs=1")
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "a cat [[fault:queue_full]]")  # no task created upstream
        await h.command("imagine", "a dog")
        await wait_results(h, 1)
        await h.command("imagine", "a third")

        assert sandbox.hits[SUBMIT_IMAGINE] == 2
        assert len(texts_with(h, "daily limit of 1 Midjourney jobs")) == 1


async def test_the_count_survives_a_restart(tmp_path: Path, sandbox: SandboxServer) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="mj_jobs=2")
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "one")
        await h.command("imagine", "two")
        await wait_results(h, 2)
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "three")
        assert texts_with(h, "daily limit of 2 Midjourney jobs")
    assert sandbox.hits[SUBMIT_IMAGINE] == 2


async def test_a_chat_limit_counts_every_member(tmp_path: Path, sandbox: SandboxServer) -> None:
    settings = fast_settings(tmp_path, chat_daily_limits="mj_jobs=1")
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "alice's cat", user="alice", chat="g", private=False)
        await h.command("imagine", "bob's cat", user="bob", chat="g", private=False)
        await h.command("imagine", "bob at home", user="bob", chat="bob-dm")

        assert texts_with(h, "this chat reached its daily limit of 1 Midjourney jobs")
        assert sandbox.hits[SUBMIT_IMAGINE] == 2
        await wait_results(h, 2)
        await h.command("usage", user="bob", chat="g", private=False)
        assert "This chat's daily limits" in h.channel.texts("g")[-1]
        assert "• Midjourney jobs: 1 of 1" in h.channel.texts("g")[-1]


async def test_button_actions_have_their_own_limit(tmp_path: Path, sandbox: SandboxServer) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="mj_jobs=5,mj_actions=1")
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "a fox")
        (grid,) = await wait_results(h, 1)
        assert grid.reply is not None
        buttons = [b for row in grid.reply.buttons for b in row]
        await h.press(buttons[0].token)  # U1
        await h.press(buttons[1].token)  # U2: over the limit of one action

        assert sandbox.hits["POST /mj/submit/action"] == 1
        assert texts_with(h, "daily limit of 1 Midjourney button actions")


async def test_chat_tokens_settle_to_what_the_answer_used(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="chat_tokens=60")
    async with running_harness(settings, sandbox) as h:
        await h.command("ask", "short one [[tokens:40]]")
        await h.command("ask", "again [[tokens:40]]")  # the first answer used most of the day

        assert sandbox.hits[CHAT_COMPLETIONS] == 1
        assert texts_with(h, "daily limit of 60 chat tokens")


async def test_a_cost_budget_refuses_what_it_cannot_pay(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    # mj_imagine costs 50 000 by default; the override makes it 40 000.
    settings = fast_settings(
        tmp_path, user_daily_limits="cost=100000", price_overrides='{"mj_imagine": 40000}'
    )
    async with running_harness(settings, sandbox) as h:
        for prompt in ("one", "two", "three"):
            await h.command("imagine", prompt)
        await wait_results(h, 2)

        assert sandbox.hits[SUBMIT_IMAGINE] == 2
        assert texts_with(h, "daily limit of 100000 credits (used 80000)")


async def test_usage_shows_today_and_the_month_with_cost_and_limits(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="mj_jobs=5")
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "a cat")
        await wait_results(h, 1)
        await h.command("ask", "hello [[tokens:20]]")
        await h.command("usage")
        text = h.channel.texts()[-1]

        assert text.count("/imagine: 1×") == 2  # today and this month
        assert "/ask: 1×, " in text and " tokens" in text
        assert "Cost: 50,0" in text  # the grid's 50 000 plus the answer's fraction
        assert "Midjourney jobs: 1 of 5" in text


async def test_stats_are_for_admins_and_rank_users_by_cost(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, admins="test:root")
    async with running_harness(settings, sandbox) as h:
        await h.command("imagine", "bob's cat", user="bob")
        await wait_results(h, 1)
        await h.command("ask", "alice asks [[tokens:10]]", user="alice")
        await h.command("ask", "fails [[fault:500]]", user="alice")
        await h.command("stats", user="alice")
        assert h.channel.texts()[-1] == "Only the bot's admins can see /stats."

        await h.command("stats", user="root")
        text = h.channel.texts()[-1]
        lines = text.splitlines()
        assert lines.index("• test:bob: 50,000 credits (1 paid calls)") < next(
            i for i, line in enumerate(lines) if line.startswith("• test:alice:")
        )
        assert "• ServerError: 1" in text
        assert "Midjourney jobs in progress: 0" in text


async def test_model_lists_each_models_price(harness: Harness) -> None:
    await harness.command("model")
    text = harness.channel.texts()[-1]
    assert "• gpt-4o-mini: 75 in / 300 out per 1K tokens" in text
    assert "Midjourney: imagine 50,000 per call, upscale 25,000 per call" in text


async def test_a_call_the_gateway_may_have_charged_keeps_its_place(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="images=1")
    async with running_harness(settings, sandbox) as h:
        dalle = {"engine": "dalle"}
        await h.command("imagine", "a teapot [[fault:badjson]]", options=dalle)
        await h.command("imagine", "a kettle", options=dalle)

        assert sandbox.hits["POST /v1/images/generations"] == 1
        assert texts_with(h, "daily limit of 1 images")


async def test_the_refusal_speaks_the_users_language(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    settings = fast_settings(tmp_path, user_daily_limits="speech_chars=5")
    async with running_harness(settings, sandbox) as h:
        await h.command("lang", "zh")
        await h.command("speak", "hello there")
        assert h.channel.texts()[-1].startswith(
            "你不能使用这个命令：你已达到每日上限（朗读字符数：5，已用 0）。"
        )
        assert sandbox.hits["POST /v1/audio/speech"] == 0
