"""Every kind of button under a Midjourney result, pressed in Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.server import SandboxServer
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_model import ChatMessage
from tests.telegram.e2e_support import TelegramBot, button, telegram_bot
from tests.telegram.support import TOKEN, wait_for

ALICE, BOB = 5001, 5002


@pytest.fixture
async def tg(tmp_path: Path, sandbox: SandboxServer) -> AsyncIterator[TelegramBot]:
    fake = FakeTelegram(TOKEN, limits=False)
    await fake.start()
    try:
        async with telegram_bot(tmp_path, sandbox, fake) as bot:
            yield bot
    finally:
        await fake.stop()


async def press(tg: TelegramBot, message: ChatMessage, label: str, user: int = ALICE) -> str:
    return tg.fake.press(ALICE, message.message_id, button(message, label), user_id=user)


async def prompt(tg: TelegramBot, count: int) -> ChatMessage:
    found = await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.force_reply])
    assert len(found) >= count
    return found[count - 1]


async def upscale(tg: TelegramBot) -> ChatMessage:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    await press(tg, grid, "U1")
    return await tg.photo_in(ALICE, 2)


async def test_v1_and_reroll_on_a_grid_each_bring_a_new_grid(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    await press(tg, grid, "V1")
    await tg.photo_in(ALICE, 2)
    await press(tg, grid, "🔄")
    third = await tg.photo_in(ALICE, 3)
    assert {"U1", "V1"} <= {b["text"] for row in third.buttons for b in row}


async def test_zoom_pan_and_vary_on_an_upscale_bring_new_grids(tg: TelegramBot) -> None:
    up = await upscale(tg)
    for n, label in enumerate(("Zoom Out 2x", "⬅️", "Vary (Subtle)"), start=3):
        await press(tg, up, label)
        await tg.photo_in(ALICE, n)


async def test_seed_answers_in_the_chat(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    await press(tg, grid, "Seed")
    await tg.answer_in(ALICE, "Seed of this image")


async def test_custom_zoom_prompt_shows_the_suggested_value_and_the_reply_runs_it(
    tg: TelegramBot, sandbox: SandboxServer
) -> None:
    up = await upscale(tg)
    await press(tg, up, "Custom Zoom")
    asked = await prompt(tg, 1)
    assert "a red fox --zoom 2" in asked.text
    tg.fake.user_message(ALICE, "a red fox --zoom 1.5", reply_to=asked.message_id)
    await tg.photo_in(ALICE, 3)
    assert sandbox.hits.get("POST /mj/submit/modal") == 1


async def test_someone_elses_reply_to_my_prompt_is_refused(
    tg: TelegramBot, sandbox: SandboxServer
) -> None:
    up = await upscale(tg)
    await press(tg, up, "Custom Zoom")
    asked = await prompt(tg, 1)
    tg.fake.user_message(ALICE, "bob's idea", user_id=BOB, reply_to=asked.message_id)
    await tg.answer_in(ALICE, "Only the person who pressed")
    assert sandbox.hits.get("POST /mj/submit/modal", 0) == 0


async def test_a_remix_prompt_button_opens_a_force_reply_for_its_owner(
    tg: TelegramBot, sandbox: SandboxServer
) -> None:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    sandbox.set_fault("remix")
    try:
        await press(tg, grid, "V2")
        waiting = await tg.answer_in(ALICE, "waits for your prompt")
    finally:
        sandbox.set_fault(None)
    refused = await press(tg, waiting, "Write the prompt", user=BOB)
    alert = (await wait_for(lambda: tg.fake.answers(refused)))[0]
    assert alert["show_alert"] is True
    await press(tg, waiting, "Write the prompt")
    asked = await prompt(tg, 1)
    tg.fake.user_message(ALICE, "a blue fox", reply_to=asked.message_id)
    await tg.photo_in(ALICE, 2)


async def test_an_unknown_button_answers_the_presser_alone(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    before = len(tg.fake.bot_messages(ALICE))
    query = tg.fake.press(ALICE, grid.message_id, "no-such-token", user_id=ALICE)
    alert = (await wait_for(lambda: tg.fake.answers(query)))[0]
    assert alert["show_alert"] is True and alert["text"]
    assert len(tg.fake.bot_messages(ALICE)) == before


async def test_a_reply_to_an_expired_prompt_says_so_and_sends_nothing(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    fake = FakeTelegram(TOKEN, limits=False)
    await fake.start()
    try:
        async with telegram_bot(tmp_path, sandbox, fake, text_request_ttl_s=0.5) as tg:
            up = await upscale(tg)
            await press(tg, up, "Custom Zoom")
            asked = await prompt(tg, 1)
            await asyncio.sleep(1.0)
            fake.user_message(ALICE, "a red fox --zoom 1.5", reply_to=asked.message_id)
            await tg.answer_in(ALICE, "expired")
            assert sandbox.hits.get("POST /mj/submit/modal", 0) == 0
    finally:
        await fake.stop()
