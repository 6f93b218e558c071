"""Attachments, the context menu, autocomplete, mentions and DMs, localization."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

from adapters.discord import DiscordAdapter
from tests.discord.stub_inbound import StubInbound
from tests.discord.users import ALICE, slash
from tests.fakes import discord_payloads as p
from tests.fakes.discord_api import FakeDiscord


def voice_note(seconds: float = 1.5) -> bytes:
    t = np.linspace(0, seconds, int(48000 * seconds), endpoint=False)
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"), 48000, format="OGG",
             subtype="OPUS")
    return buf.getvalue()


async def test_an_oversized_attachment_is_refused_privately_before_any_download(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    inter = await slash(fake, "ask", text="what is this?", size_limit=1000,
                        files={"image": (b"\x89PNG" + b"x" * 5000, "image/png", "big.png")})
    await fake.wait_for(lambda: inter.acked_at is not None)
    refusal = fake.original(inter)
    assert refusal is not None and refusal["flags"] & 64
    assert "too big" in refusal["content"] and "big.png" in refusal["content"]
    assert fake.cdn_reads == [] and stub.requests == []


async def test_a_file_of_the_wrong_type_is_refused_and_says_why(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    inter = await slash(fake, "ask", text="look", files={"image": (b"%PDF-1.4", "application/pdf",
                                                                  "doc.pdf")})
    await fake.wait_for(lambda: inter.acked_at is not None)
    refusal = fake.original(inter)
    assert refusal is not None and refusal["flags"] & 64
    assert "doc.pdf" in refusal["content"] and "application/pdf" in refusal["content"]
    assert stub.requests == []


async def test_an_image_reaches_the_core_as_bytes(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    inter = await slash(fake, "ask", text="what is this?",
                        files={"image": (b"\x89PNG small", "image/png", "cat.png")})
    await fake.wait_for(lambda: (m := fake.original(inter)) and m["content"] == "Hello world")
    sent = stub.requests[-1].attachments
    assert [(a.data, a.mime, a.filename) for a in sent] == [(b"\x89PNG small", "image/png",
                                                             "cat.png")]


async def test_transcribe_from_the_message_context_menu(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    channel = fake.channel_ids[1]
    audio = voice_note()
    url = fake.add_file("voice-message.ogg", audio, "audio/ogg")
    target = p.message(channel, "", author=p.user(ALICE), flags=8192, attachments=[{
        "id": p.snowflake(), "filename": "voice-message.ogg", "size": len(audio), "url": url,
        "proxy_url": url, "content_type": "audio/ogg", "duration_secs": 1.5,
        "waveform": "AAAA"}])
    menu = next(c for c in fake.commands["global"] if c["type"] == 3)
    inter = await fake.interact(p.interaction(2, {
        "id": menu["id"], "name": menu["name"], "type": 3, "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}}}, user_id=ALICE, channel_id=channel))
    await fake.wait_for(lambda: bool(stub.requests))
    request = stub.requests[-1]
    assert request.command == "transcribe"
    assert request.attachments[0].data == audio and request.attachments[0].is_audio
    assert inter.ack_type == 5


async def test_the_context_menu_on_a_message_without_audio_says_so_privately(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    channel = fake.channel_ids[1]
    target = p.message(channel, "just text", author=p.user(ALICE))
    menu = next(c for c in fake.commands["global"] if c["type"] == 3)
    inter = await fake.interact(p.interaction(2, {
        "id": menu["id"], "name": menu["name"], "type": 3, "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}}}, user_id=ALICE, channel_id=channel))
    await fake.wait_for(lambda: inter.acked_at is not None)
    answer = fake.original(inter)
    assert answer is not None and answer["flags"] & 64 and "no audio" in answer["content"]


async def test_speak_answers_with_a_voice_message(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.voice = voice_note(2.0)
    inter = await slash(fake, "speak", text="hello")
    await fake.wait_for(lambda: any(m["flags"] & 8192 for m in fake.messages.values()))
    voice = next(m for m in fake.messages.values() if m["flags"] & 8192)
    assert voice["content"] == "" and len(voice["attachments"]) == 1
    attachment = voice["attachments"][0]
    assert abs(attachment["duration_secs"] - 2.0) < 0.1 and attachment["waveform"]
    assert fake.files[voice["id"]][0].content_type == "audio/ogg"
    assert fake.files[voice["id"]][0].data == stub.voice
    original = fake.original(inter)
    assert original is not None and not original["flags"] & 128  # not left "thinking…"


async def test_model_name_autocompletes_from_the_core(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    command = next(c for c in fake.commands["global"] if c["name"] == "model")
    inter = await fake.interact(p.interaction(4, {
        "id": command["id"], "name": "model", "type": 1,
        "options": [{"name": "model", "type": 3, "value": "gpt", "focused": True}]},
        user_id=ALICE, channel_id=fake.channel_ids[0]))
    await fake.wait_for(lambda: inter.choices is not None)
    assert [c["value"] for c in inter.choices or []] == ["gpt-4o", "gpt-4o-mini"]


async def test_commands_are_described_in_english_and_chinese(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    commands = {c["name"]: c for c in fake.commands["global"]}
    assert set(commands) >= {"ask", "imagine", "blend", "model", "speak", "transcribe"}
    assert commands["ask"]["description_localizations"]["zh-CN"] == "向模型提问"
    blend = [o["name"] for o in commands["blend"]["options"]]
    assert blend == ["image1", "image2", "image3", "image4", "image5"]
    assert [o["required"] for o in commands["blend"]["options"]][:3] == [True, True, False]
    engine = next(o for o in commands["imagine"]["options"] if o["name"] == "engine")
    assert [c["value"] for c in engine["choices"]] == ["midjourney", "dalle"]
    menu = next(c for c in fake.commands["global"] if c["type"] == 3)
    assert menu["name"] == "Transcribe" and menu["name_localizations"]["zh-CN"] == "转写"


async def test_a_mention_of_the_bot_asks_and_the_answer_replies_to_it(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    channel = fake.channel_ids[2]
    msg = await fake.post_message(channel, ALICE, f"<@{p.APP_ID}> what's up?")
    await fake.wait_for(lambda: any(m["content"] == "what's up?"
                                    for m in fake.channel_messages(channel)))
    answer = next(m for m in fake.channel_messages(channel) if m["content"] == "what's up?")
    assert str(answer["message_reference"]["message_id"]) == msg["id"]
    assert stub.requests[-1].actor.user_id == ALICE


async def test_a_plain_message_in_a_channel_is_left_alone(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    channel = fake.channel_ids[2]
    await fake.post_message(channel, ALICE, "talking among ourselves")
    await fake.post_message(channel, ALICE, f"<@{p.APP_ID}> now you")
    await fake.wait_for(lambda: bool(stub.requests))
    assert [r.text for r in stub.requests] == ["now you"]


async def test_speak_falls_back_to_an_audio_file_where_the_bot_cannot_post(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.voice = voice_note(1.0)
    fake.fail_next("POST", r"/channels/\d+/messages$", 403,
                   {"code": 50001, "message": "Missing Access"})
    inter = await slash(fake, "speak", text="hello")
    await fake.wait_for(lambda: any(
        m["attachments"] and m["attachments"][0]["filename"] == "voice.ogg"
        for m in fake.channel_messages(inter.channel_id)))
    audio = next(m for m in fake.channel_messages(inter.channel_id) if m["attachments"])
    assert audio.get("webhook_id") == p.APP_ID  # a follow-up of the interaction
    assert fake.files[audio["id"]][0].data == stub.voice
