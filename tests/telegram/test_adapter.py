"""The adapter as Telegram users see it: a real PTB Bot against the fake Bot API, a stub core."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegram
from tests.telegram.stub_inbound import StubInbound
from tests.telegram.support import TOKEN, plain_engine, running_adapter, wait_for

ALICE, BOB, GROUP = 1001, 1002, -5001


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(TOKEN)
    await server.start()
    server.add_chat(GROUP, "supergroup", "Friends")
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    eng = await plain_engine(tmp_path)
    try:
        yield eng
    finally:
        await eng.dispose()


async def test_ask_in_a_private_chat_streams_a_draft_then_sends_the_whole_answer(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound(word_delay=0.05)
    async with running_adapter(fake, inbound, engine):
        asked = fake.user_message(ALICE, "/ask hello")
        final = await wait_for(lambda: fake.bot_messages(ALICE), what="the answer")
        assert final[0].text == "Hello there, this is a streamed answer."
        assert final[0].reply_to == asked["message_id"]
        assert any(e["type"] == "bold" for e in final[0].entities)
        assert fake.drafts[ALICE], "the answer grew as a draft first"
        assert fake.called("sendChatAction")
        assert len(fake.bot_messages(ALICE)) == 1
    assert fake.rate_limited == 0


async def test_ask_in_a_group_grows_one_message_and_ends_with_the_full_text(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    words = " ".join(f"word{i}" for i in range(60))
    inbound = StubInbound(answer=words, word_delay=0.05)
    async with running_adapter(fake, inbound, engine):
        fake.user_message(GROUP, f"/ask@{BOT_USERNAME} count", user_id=ALICE)
        await wait_for(lambda: inbound.commands_seen, what="the command")
        msgs = await wait_for(
            lambda: [m for m in fake.bot_messages(GROUP) if m.text == words], what="final text"
        )
        assert len(fake.bot_messages(GROUP)) == 1
        assert len(msgs[0].history) >= 2, "the message grew by edits"
        shown = [text for _, text in msgs[0].history]
        assert len(shown) == len(set(shown)), "no identical edit"
    assert fake.rate_limited == 0


async def test_a_command_for_another_bot_is_ignored_and_plain_group_talk_too(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(GROUP, "/ask@other_bot hi", user_id=ALICE)
        fake.user_message(GROUP, "just chatting", user_id=ALICE)
        fake.user_message(GROUP, f"@{BOT_USERNAME} are you there", user_id=ALICE)
        await wait_for(lambda: inbound.messages_seen, what="the mention")
        await asyncio.sleep(0.3)
    assert inbound.commands_seen == []
    assert [m.text for m in inbound.messages_seen] == ["are you there"]


async def test_a_long_answer_is_split_under_4096_without_cutting_the_code_block(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    code = "\n".join(f"print({i})" for i in range(300))
    answer = ("intro " * 500).strip() + "\n\n```python\n" + code + "\n```\n\n" + "outro " * 300
    inbound = StubInbound(answer=answer)
    async with running_adapter(fake, inbound, engine, drafts=False):
        fake.user_message(ALICE, "/ask long please")
        await wait_for(
            lambda: any("outro" in m.text for m in fake.bot_messages(ALICE)), what="all parts"
        )
        await asyncio.sleep(0.5)
        msgs = fake.bot_messages(ALICE)
    assert len(msgs) >= 2
    assert all(len(m.text) <= 4096 for m in msgs)
    holding = [m for m in msgs if "print(0)" in m.text]
    assert len(holding) == 1 and "print(299)" in holding[0].text, "the code block stays whole"
    assert any(e["type"] == "pre" for e in holding[0].entities)


async def test_a_grid_comes_as_a_photo_with_the_upstream_buttons(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, "/grid a cat")
        photo = (await wait_for(lambda: fake.bot_messages(ALICE)))[0]
    assert photo.kind == "photo" and photo.text == "done"
    rows = [[b["callback_data"] for b in row] for row in photo.buttons]
    assert rows == [["tok-U1", "tok-V1"], ["tok-vary"]]
    assert fake.files[photo.file_id].data == b"\x89PNG fake grid"


async def test_a_stranger_pressing_my_button_gets_an_alert_and_nothing_else_happens(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound(owner=str(ALICE))
    async with running_adapter(fake, inbound, engine):
        fake.user_message(GROUP, "/grid a cat", user_id=ALICE)
        grid = (await wait_for(lambda: fake.bot_messages(GROUP)))[0]
        before = len(fake.bot_messages(GROUP))
        query = fake.press(GROUP, grid.message_id, "tok-U1", user_id=BOB)
        answer = (await wait_for(lambda: fake.answers(query), what="the alert"))[0]
        await asyncio.sleep(0.2)
    assert answer["show_alert"] is True
    assert "someone else" in answer["text"]
    assert len(fake.bot_messages(GROUP)) == before


async def test_vary_region_asks_with_a_force_reply_and_the_reply_completes_it(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(GROUP, "/grid a cat", user_id=ALICE)
        grid = (await wait_for(lambda: fake.bot_messages(GROUP)))[0]
        query = fake.press(GROUP, grid.message_id, "tok-vary", user_id=ALICE)
        prompt = (
            await wait_for(lambda: [m for m in fake.bot_messages(GROUP) if m.force_reply])
        )[0]
        assert fake.answers(query), "the press was acknowledged"
        await wait_for(lambda: "req-1" in inbound.bound, what="the prompt bound")
        assert inbound.bound["req-1"].message_id == str(prompt.message_id)
        assert any(e["type"] == "text_mention" for e in prompt.entities), "asks the presser"
        fake.user_message(GROUP, "a red hat", user_id=ALICE, reply_to=prompt.message_id)
        await wait_for(lambda: inbound.submits, what="the submit")
    submit = inbound.submits[0]
    assert submit.text == "a red hat"
    assert submit.answered is not None and submit.answered.message_id == str(prompt.message_id)
    assert inbound.commands_seen[-1].command == "grid", "the answer was not taken as /ask"


async def test_a_21_mb_voice_note_is_refused_before_any_download(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, voice=b"OggS tiny", voice_size=21 * 1024 * 1024)
        msg = (await wait_for(lambda: fake.bot_messages(ALICE)))[0]
    assert "20 MB" in msg.text and "21 MB" in msg.text
    assert fake.called("getFile") == []
    assert inbound.messages_seen == []


async def test_a_voice_note_in_a_private_chat_reaches_the_core_as_ogg_audio(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, voice=b"OggS voice bytes")
        await wait_for(lambda: inbound.messages_seen)
    attachment = inbound.messages_seen[0].attachments[0]
    assert attachment.data == b"OggS voice bytes"
    assert attachment.is_audio and attachment.filename.endswith(".ogg")


async def test_an_album_with_blend_as_caption_runs_one_command_with_every_photo(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, "/blend", photo=b"img-1", media_group_id="G1")
        fake.user_message(ALICE, photo=b"img-2", media_group_id="G1")
        fake.user_message(ALICE, photo=b"img-3", media_group_id="G1")
        await wait_for(lambda: inbound.commands_seen)
        await asyncio.sleep(1.0)
    assert len(inbound.commands_seen) == 1
    request = inbound.commands_seen[0]
    assert request.command == "blend"
    assert [a.data for a in request.attachments] == [b"img-1", b"img-2", b"img-3"]


async def test_describe_as_a_reply_to_a_photo_takes_that_photo(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        photo = fake.user_message(GROUP, photo=b"the-photo", user_id=ALICE)
        fake.user_message(GROUP, "/describe", user_id=ALICE, reply_to=photo["message_id"])
        await wait_for(lambda: inbound.commands_seen)
    assert inbound.commands_seen[0].attachments[0].data == b"the-photo"


async def test_the_command_menu_is_set_in_english_and_chinese(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    async with running_adapter(fake, StubInbound(), engine):
        pass
    assert [c["command"] for c in fake.commands[""]] == ["ask", "imagine"]
    assert fake.commands["zh"][0]["description"] == "向模型提问"


async def test_a_429_mid_stream_is_waited_out_and_the_whole_answer_still_lands(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    words = " ".join(f"w{i}" for i in range(30))
    inbound = StubInbound(answer=words, word_delay=0.03)
    fake.fail_next(
        "editMessageText", 429, "Too Many Requests: retry after 1", retry_after=1, times=2
    )
    fake.fail_next("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
    counted: list[str] = []
    async with running_adapter(fake, inbound, engine, drafts=False,
                               on_rate_limited=lambda: counted.append("429")):
        fake.user_message(GROUP, "/ask go", user_id=ALICE)
        await wait_for(lambda: [m for m in fake.bot_messages(GROUP) if m.text == words], 15)
    assert fake.rate_limited == 3
    assert len(counted) == 3  # each one reaches the operator's metric (polling's too)


async def test_formatting_telegram_refuses_is_resent_as_plain_text(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities: unsupported")
    inbound = StubInbound(answer="Some **bold** words")
    async with running_adapter(fake, inbound, engine, drafts=False):
        fake.user_message(ALICE, "/ask x")
        await wait_for(lambda: fake.bot_messages(ALICE))
        await asyncio.sleep(0.3)
    msg = fake.bot_messages(ALICE)[-1]
    assert msg.text == "Some bold words"


async def test_the_bot_token_never_appears_in_logs_even_when_telegram_fails(
    fake: FakeTelegram, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_next("getUpdates", 502, "Bad Gateway", times=2)
    fake.fail_next("sendMessage", 500, "Internal Server Error")
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, "/hello")
        await wait_for(lambda: len(fake.called("getUpdates")) > 3)
        await asyncio.sleep(0.5)
    assert TOKEN not in caplog.text
    assert "getUpdates failed" in caplog.text


async def test_one_chat_told_to_wait_does_not_hold_up_another(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 4", retry_after=4,
                   chat_id=ALICE)
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, "/first")
        await wait_for(lambda: fake.rate_limited == 1, what="Alice's chat told to wait")
        fake.user_message(BOB, "/second")
        await wait_for(lambda: fake.bot_messages(BOB), 3.0, "Bob's answer while Alice waits")
        assert fake.bot_messages(ALICE) == []
        await wait_for(lambda: fake.bot_messages(ALICE), 8.0, "Alice's answer after the wait")


async def test_where_drafts_are_refused_the_answer_grows_by_edits_instead(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    fake.fail_next("sendMessageDraft", 400, "Bad Request: draft messages are not available")
    words = " ".join(f"w{i}" for i in range(20))
    inbound = StubInbound(answer=words, word_delay=0.05)
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, "/ask hi")
        await wait_for(lambda: [m for m in fake.bot_messages(ALICE) if m.text == words])
    assert len(fake.bot_messages(ALICE)) == 1


async def test_a_wrong_token_fails_start_with_an_error_that_does_not_contain_it(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    from adapters.telegram.adapter import TelegramAdapter
    from adapters.telegram.redact import TelegramFailure

    wrong = "999999:WRONG-token-value"
    adapter = TelegramAdapter(StubInbound(), engine, wrong, fake.url)
    with pytest.raises(TelegramFailure) as raised:
        await adapter.connect()
    assert wrong not in str(raised.value) and "WRONG-token" not in repr(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_several_pictures_come_as_an_album_with_the_words_and_buttons_below(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    async with running_adapter(fake, StubInbound(), engine):
        asked = fake.user_message(ALICE, "/album")
        await wait_for(lambda: [m for m in fake.bot_messages(ALICE) if m.buttons])
    photos = [m for m in fake.bot_messages(ALICE) if m.kind == "photo"]
    below = fake.bot_messages(ALICE)[-1]
    assert [fake.files[p.file_id].data for p in photos] == [b"img0", b"img1", b"img2"]
    assert photos[0].reply_to == asked["message_id"]
    assert below.text == "three pictures" and below.buttons[0][0]["callback_data"] == "tok-a"


async def test_a_file_telegram_fails_to_hand_over_is_explained(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    fake.fail_next("getFile", 500, "Internal Server Error")
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, voice=b"OggS voice")
        told = (await wait_for(lambda: fake.bot_messages(ALICE)))[0]
    assert "could not fetch your file" in told.text
    assert inbound.messages_seen == []


async def test_a_picture_too_big_for_a_photo_arrives_as_a_file_with_its_buttons(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    async with running_adapter(fake, StubInbound(), engine):
        fake.user_message(ALICE, "/huge")
        sent = (await wait_for(lambda: fake.bot_messages(ALICE), 20))[0]
    assert sent.kind == "document" and sent.text == "big one" and sent.buttons
    assert len(fake.files[sent.file_id].data) > 11 * 1024 * 1024


async def test_telegram_unreachable_at_start_is_waited_for(
    fake: FakeTelegram, engine: AsyncEngine
) -> None:
    fake.fail_next("getMe", 502, "Bad Gateway")
    inbound = StubInbound()
    async with running_adapter(fake, inbound, engine):
        fake.user_message(ALICE, "/hello")
        await wait_for(lambda: fake.bot_messages(ALICE))
    assert len(fake.called("getMe")) == 2
