"""DMs, automatic transcription, slow presses, Chinese users, and tokens kept out of logs."""

from __future__ import annotations

import logging
from pathlib import Path

from adapters.discord import DiscordAdapter
from adapters.discord.redaction import TokenRedactor
from storage.sql_store import SqlStore
from tests.discord.conftest import BOT_TOKEN, start_adapter
from tests.discord.stub_inbound import StubInbound
from tests.discord.test_inputs import voice_note
from tests.discord.users import ALICE, button, imagine_grid, press, slash
from tests.fakes import discord_payloads as p
from tests.fakes.discord_api import FakeDiscord


async def test_a_direct_message_asks_without_a_mention(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    dm = p.snowflake()
    await fake.post_message(dm, ALICE, "hello in private", guild=False)
    await fake.wait_for(lambda: any(m["content"] == "hello in private" and m["author"].get("bot")
                                    for m in fake.channel_messages(dm)))
    assert stub.requests[-1].chat.is_private


async def test_voice_messages_in_a_listed_channel_are_transcribed_unasked(
    fake: FakeDiscord, stub: StubInbound, store: SqlStore, keep_endpoints: None
) -> None:
    channel = fake.channel_ids[3]
    adapter = await start_adapter(fake, stub, store, auto_transcribe=[int(channel)])
    try:
        audio = voice_note()
        url = fake.add_file("note.ogg", audio, "audio/ogg")
        await fake.post_message(channel, ALICE, "", flags=8192, attachments=[{
            "id": p.snowflake(), "filename": "voice-message.ogg", "size": len(audio),
            "url": url, "proxy_url": url, "content_type": "audio/ogg", "duration_secs": 1.5,
            "waveform": "AAAA"}])
        await fake.post_message(fake.channel_ids[2], ALICE, "not listed", flags=8192)
        await fake.wait_for(lambda: bool(stub.requests))
        assert len(stub.requests) == 1
        assert stub.requests[0].attachments[0].data == audio
    finally:
        await adapter.close()


async def test_a_press_the_core_decides_slowly_is_still_acknowledged_in_time(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.release.set()
    inter, grid = await imagine_grid(fake)
    stub.press_delay = 2.5  # past our 2 s bound, inside Discord's 3 s
    pressed = await press(fake, grid, button(grid, "Vary (Region)"))
    await fake.wait_for(lambda: pressed.acked_at is not None, 5)
    assert pressed.ack_type == 6 and pressed.late_acks == 0
    # Too late for a modal: the presser is told, privately, to press again.
    await fake.wait_for(lambda: any(m["flags"] & 64 and "again" in m["content"]
                                    for m in fake.channel_messages(inter.channel_id)), 5)


async def test_a_chinese_user_is_refused_in_chinese(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    inter = await slash(fake, "ask", text="这是什么？", locale="zh-CN", size_limit=10,
                        files={"image": (b"\x89PNG" + b"x" * 100, "image/png", "big.png")})
    await fake.wait_for(lambda: inter.acked_at is not None)
    refusal = fake.original(inter)
    assert refusal is not None and "文件太大" in refusal["content"]


def test_tokens_are_masked_in_log_lines_and_tracebacks(tmp_path: Path) -> None:
    log_file = tmp_path / "bot.log"
    handler = logging.FileHandler(log_file)
    handler.addFilter(TokenRedactor(BOT_TOKEN))
    logger = logging.getLogger("test.discord.redaction")
    logger.addHandler(handler)
    try:
        url = "https://discord.com/api/v10/webhooks/123/itok-secret-abc/messages/@original"
        logger.warning("PATCH %s failed", url)
        logger.warning("event %s", {"token": "itok-secret-abc", "id": "1"})
        try:
            raise RuntimeError(f"login with {BOT_TOKEN} failed at {url}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = log_file.read_text()
    assert "itok-secret-abc" not in text and BOT_TOKEN not in text
    assert "/webhooks/123/***" in text and "boom" in text


async def test_listed_guilds_get_the_commands_at_once_instead_of_a_global_sync(
    fake: FakeDiscord, stub: StubInbound, store: SqlStore, keep_endpoints: None
) -> None:
    adapter = await start_adapter(fake, stub, store, guild_ids=[int(p.GUILD_ID)])
    try:
        names = {c["name"] for c in fake.commands[p.GUILD_ID]}
        assert {"ask", "imagine", "Transcribe"} <= names
        assert "global" not in fake.commands
    finally:
        await adapter.close()
