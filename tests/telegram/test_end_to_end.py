"""Every command as a Telegram user meets it: the real core on the sandbox, real PTB, the fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.server import SandboxServer
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.telegram.e2e_support import TelegramBot, button, png, telegram_bot, voice_note
from tests.telegram.support import TOKEN, wait_for

ALICE, BOB, GROUP = 2001, 2002, -7001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN, limits=False)
    await server.start()
    server.add_chat(GROUP, "supergroup", "Friends")
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def tg(
    tmp_path: Path, sandbox: SandboxServer, fake: FakeTelegram
) -> AsyncIterator[TelegramBot]:
    async with telegram_bot(tmp_path, sandbox, fake) as bot:
        yield bot


async def test_start_and_help_say_what_the_bot_does(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/start")
    shown = await tg.answer_in(ALICE, "/imagine")
    assert "/ask" in shown.text and "/speak" in shown.text
    tg.fake.user_message(ALICE, "/help")
    await wait_for(lambda: len([m for m in tg.fake.bot_messages(ALICE) if "/ask" in m.text]) == 2)


async def test_the_menu_lists_the_commands_in_english_and_chinese(tg: TelegramBot) -> None:
    english = {c["command"] for c in tg.fake.commands[""]}
    assert {"ask", "imagine", "describe", "blend", "speak", "transcribe"} <= english
    # Chinese users get their own menu (descriptions as the core's zh catalog has them).
    assert {c["command"] for c in tg.fake.commands["zh"]} == english


async def test_ask_streams_into_one_reply_that_ends_with_the_whole_answer(
    tg: TelegramBot,
) -> None:
    asked = tg.fake.user_message(ALICE, "/ask tell me a story [[tokens:80]] [[tps:200]]")
    final = await tg.answer_in(ALICE, "Echo: tell me a story")
    await asyncio.sleep(0.5)
    final = tg.fake.bot_messages(ALICE)[-1]
    assert len(final.text.split()) >= 80
    assert final.reply_to == asked["message_id"]
    assert len(tg.fake.bot_messages(ALICE)) == 1
    assert tg.fake.drafts.get(ALICE), "the answer grew as a draft"
    assert tg.fake.called("sendChatAction")


async def test_plain_text_in_private_asks_but_in_a_group_only_when_addressed(
    tg: TelegramBot,
) -> None:
    tg.fake.user_message(ALICE, "what's up")
    await tg.answer_in(ALICE, "Echo: what's up")
    tg.fake.user_message(GROUP, "people talking", user_id=ALICE)
    tg.fake.user_message(GROUP, f"@{BOT_USERNAME} hello bot", user_id=ALICE)
    answer = await tg.answer_in(GROUP, "Echo: hello bot")
    assert not [m for m in tg.fake.bot_messages(GROUP) if "people talking" in m.text]
    tg.fake.user_message(GROUP, "and a follow-up", user_id=ALICE, reply_to=answer.message_id)
    await tg.answer_in(GROUP, "Echo: and a follow-up")


async def test_imagine_shows_progress_then_a_grid_with_the_upstream_buttons(
    tg: TelegramBot,
) -> None:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    labels = [b["text"] for row in grid.buttons for b in row]
    assert {"U1", "U2", "V1", "V4"} <= set(labels)
    assert all(len(b["callback_data"].encode()) <= 64 for r in grid.buttons for b in r)
    assert tg.fake.files[grid.file_id].data.startswith(b"\x89PNG")
    # One message per job: the progress (a preview photo with its percent) became the grid.
    await wait_for(lambda: tg.fake.bot_messages(ALICE) == [grid])
    assert any("%" in text for _, text in grid.history)


async def test_pressing_u1_on_my_grid_brings_the_upscale(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    query = tg.fake.press(ALICE, grid.message_id, button(grid, "U1"), user_id=ALICE)
    await tg.photo_in(ALICE, 2)
    answer = tg.fake.answers(query)[0]
    assert not answer.get("show_alert")


async def test_a_stranger_pressing_my_grid_gets_an_alert_and_nothing_starts(
    tg: TelegramBot, sandbox: SandboxServer
) -> None:
    tg.fake.user_message(GROUP, "/imagine a red fox", user_id=ALICE)
    grid = await tg.photo_in(GROUP)
    # The progress message makes way for the grid.
    await wait_for(lambda: tg.fake.bot_messages(GROUP) == [grid])
    actions = sandbox.hits.get("POST /mj/submit/action", 0)
    query = tg.fake.press(GROUP, grid.message_id, button(grid, "U1"), user_id=BOB)
    answer = (await wait_for(lambda: tg.fake.answers(query)))[0]
    await asyncio.sleep(0.5)
    assert answer["show_alert"] is True and answer["text"]
    assert tg.fake.bot_messages(GROUP) == [grid]
    assert sandbox.hits.get("POST /mj/submit/action", 0) == actions


async def test_vary_region_asks_with_force_reply_and_the_answer_makes_a_new_grid(
    tg: TelegramBot,
) -> None:
    tg.fake.user_message(ALICE, "/imagine a red fox")
    grid = await tg.photo_in(ALICE)
    tg.fake.press(ALICE, grid.message_id, button(grid, "U1"), user_id=ALICE)
    upscale = await tg.photo_in(ALICE, 2)
    tg.fake.press(ALICE, upscale.message_id, button(upscale, "Vary (Region)"), user_id=ALICE)
    prompt = (
        await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.force_reply])
    )[0]
    tg.fake.user_message(ALICE, "a fox wearing a tiny hat", reply_to=prompt.message_id)
    await tg.photo_in(ALICE, 3)


async def test_a_voice_note_in_private_is_transcribed(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, voice=voice_note())
    shown = await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.text.strip()])
    assert "Transcript of a 1-second" in shown[-1].text
    assert tg.fake.called("getFile")


async def test_transcribe_in_a_group_works_as_a_reply_to_a_voice_note(tg: TelegramBot) -> None:
    note = tg.fake.user_message(GROUP, voice=voice_note(), user_id=ALICE)
    await asyncio.sleep(0.3)
    assert tg.fake.bot_messages(GROUP) == [], "voice in a group is left alone"
    tg.fake.user_message(GROUP, "/transcribe", user_id=ALICE, reply_to=note["message_id"])
    await wait_for(lambda: tg.fake.bot_messages(GROUP))


async def test_a_21_mb_voice_note_is_refused_before_download(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, voice=b"OggS", voice_size=21 * 1024 * 1024)
    shown = await tg.answer_in(ALICE, "20 MB")
    assert "21 MB" in shown.text
    assert tg.fake.called("getFile") == []


async def test_speak_answers_with_a_voice_message(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/speak hello there")
    voice = await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.kind == "voice"])
    assert tg.fake.files[voice[0].file_id].data.startswith(b"OggS")


async def test_describe_as_the_caption_of_a_photo(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/describe", photo=png())
    await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.buttons], 20)


async def test_blend_from_an_album_runs_once_with_every_photo(
    tg: TelegramBot, sandbox: SandboxServer
) -> None:
    tg.fake.user_message(ALICE, "/blend", photo=png((200, 0, 0)), media_group_id="A1")
    tg.fake.user_message(ALICE, photo=png((0, 200, 0)), media_group_id="A1")
    await tg.photo_in(ALICE)
    assert sandbox.hits.get("POST /mj/submit/blend") == 1


async def test_blend_with_one_photo_is_explained(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/blend", photo=png())
    shown = await wait_for(lambda: tg.fake.bot_messages(ALICE))
    assert shown[-1].kind == "text" and "2" in shown[-1].text


async def test_a_photo_with_a_caption_in_private_asks_a_vision_model(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "what is in this picture?", photo=png())
    await tg.answer_in(ALICE, "what is in this picture?")


async def test_an_upstream_fault_is_a_short_message_and_the_bot_goes_on(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/ask hello [[fault:500]]")
    first = await wait_for(lambda: tg.fake.bot_messages(ALICE))
    assert first[-1].text and "Echo" not in first[-1].text
    tg.fake.user_message(ALICE, "/ask hello again")
    await tg.answer_in(ALICE, "Echo: hello again")


async def test_options_are_typed_as_name_value_words(
    tg: TelegramBot, sandbox: SandboxServer
) -> None:
    tg.fake.user_message(ALICE, "/imagine a fox in the snow engine:dalle")
    picture = await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.kind == "photo"])
    assert "a fox in the snow" in picture[-1].text
    assert sandbox.hits.get("POST /v1/images/generations") == 1
    tg.fake.user_message(ALICE, "/imagine a fox engine:paint")
    told = await tg.answer_in(ALICE, "engine:paint")
    assert "midjourney" in told.text and "dalle" in told.text


async def test_a_429_on_the_grid_is_waited_out_and_the_grid_still_lands(tg: TelegramBot) -> None:
    for method in ("sendPhoto", "editMessageMedia"):
        tg.fake.fail_next(method, 429, "Too Many Requests: retry after 1", retry_after=1)
    tg.fake.user_message(ALICE, "/imagine a red fox")
    await tg.photo_in(ALICE)
    assert tg.fake.rate_limited >= 1


async def test_swapface_from_an_album_of_two_photos(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/swapface", photo=png((10, 10, 200)), media_group_id="S1")
    tg.fake.user_message(ALICE, photo=png((200, 200, 10)), media_group_id="S1")
    shown = await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.kind == "photo"])
    assert shown


async def test_describe_takes_an_image_sent_as_a_file(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/describe", document=(png(), "image/png"))
    await wait_for(lambda: [m for m in tg.fake.bot_messages(ALICE) if m.buttons], 20)


async def test_describe_with_a_pdf_is_explained(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/describe", document=(b"%PDF-1.4", "application/pdf"))
    shown = await wait_for(lambda: tg.fake.bot_messages(ALICE))
    assert shown[-1].kind == "text" and not shown[-1].buttons


async def test_model_offers_buttons_and_a_press_switches_the_model(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/model")
    menu = await tg.answer_in(ALICE, "Your model: gpt-4o-mini")
    assert any(e["type"] == "bold" for e in menu.entities), "markdown shown as formatting"
    choice = next(b for row in menu.buttons for b in row if "gpt-4o-mini" not in b["text"])
    tg.fake.press(ALICE, menu.message_id, choice["callback_data"], user_id=ALICE)
    await tg.answer_in(ALICE, "From now on your questions go to")


async def test_reset_starts_a_new_conversation(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/ask remember me")
    await tg.answer_in(ALICE, "[context: 2 messages]")
    tg.fake.user_message(ALICE, "/reset")
    await tg.answer_in(ALICE, "Started a new conversation")
    tg.fake.user_message(ALICE, "/ask and now?")
    shown = await tg.answer_in(ALICE, "Echo: and now?")
    assert "[context: 2 messages]" in shown.text


async def test_shorten_answers_with_shorter_prompts(tg: TelegramBot) -> None:
    tg.fake.user_message(ALICE, "/shorten a very long and detailed prompt about a red fox in snow")
    await tg.answer_in(ALICE, "Shorter prompts")
