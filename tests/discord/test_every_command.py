"""Every command through Discord against the real core: each ends as something a user sees."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image

from tests.discord.conftest import Bridge
from tests.discord.test_inputs import voice_note
from tests.discord.users import slash
from tests.fakes.discord_api import FakeDiscord

LOADING = 128
# What a response says while the work goes on (progress), as opposed to its result.
WORKING = re.compile(r"Waiting to start|Working on|is drawing|\(\d+%\)|^…$")


def png(colour: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(buf, format="PNG")
    return buf.getvalue()


def image(name: str, colour: str = "red") -> tuple[bytes, str, str]:
    return png(colour), "image/png", f"{name}.png"


CASES: dict[str, tuple[dict[str, Any], dict[str, tuple[bytes, str, str]]]] = {
    "help": ({}, {}),
    "reset": ({}, {}),
    "model": ({"name": "gpt-4o"}, {}),
    "shorten": ({"prompt": "a very long and winding prompt about a cat"}, {}),
    "describe": ({}, {"image": image("photo")}),
    "blend": ({"dimensions": "square"}, {"image1": image("a"), "image2": image("b", "blue")}),
    "swapface": ({}, {"source": image("face"), "target": image("target", "green")}),
    "imagine": ({"prompt": "a cat", "engine": "dalle"}, {}),
    "ask": ({"text": "what is in this picture?"}, {"image": image("cat")}),
}


# What each result shows (the sandbox's answers): text, an uploaded picture, buttons.
EXPECTED: dict[str, Callable[[dict[str, Any]], bool]] = {
    "help": lambda m: "/imagine" in m["content"],
    "reset": lambda m: bool(m["content"]),
    "model": lambda m: "gpt-4o" in m["content"],
    "shorten": lambda m: "1️⃣" in m["content"] and bool(m["components"]),
    "describe": lambda m: "1️⃣" in m["content"] and bool(m["components"]),
    "blend": lambda m: bool(m["attachments"] and m["components"]),
    "swapface": lambda m: bool(m["attachments"]),
    "imagine": lambda m: bool(m["attachments"]),
    "ask": lambda m: "[images: 1]" in m["content"],  # the picture reached the model
}


@pytest.mark.parametrize("command", sorted(CASES))
async def test_each_command_answers_in_its_response(
    fake: FakeDiscord, bridge: Bridge, command: str
) -> None:
    options, files = CASES[command]
    inter = await slash(fake, command, files=files, **options)
    await fake.wait_for(lambda: (m := fake.original(inter)) and not m["flags"] & LOADING
                        and (m["content"] or m["attachments"])
                        and not WORKING.search(m["content"]), 30)
    answer = fake.original(inter)
    assert answer is not None
    assert inter.ack_type == 5 and inter.ack_latency is not None and inter.ack_latency < 1.0
    assert EXPECTED[command](answer), answer["content"]


async def test_speak_answers_with_a_voice_message_from_the_model(
    fake: FakeDiscord, bridge: Bridge
) -> None:
    inter = await slash(fake, "speak", text="hello from the bot")
    await fake.wait_for(lambda: any(m["flags"] & 8192 for m in fake.messages.values()), 30)
    voice = next(m for m in fake.messages.values() if m["flags"] & 8192)
    assert voice["attachments"][0]["duration_secs"] > 0
    assert fake.files[voice["id"]][0].data.startswith(b"OggS")
    await fake.wait_for(lambda: (m := fake.original(inter)) and not m["flags"] & LOADING)


async def test_transcribe_a_recording(fake: FakeDiscord, bridge: Bridge) -> None:
    inter = await slash(fake, "transcribe",
                        files={"audio": (voice_note(), "audio/ogg", "voice-message.ogg")})
    await fake.wait_for(lambda: (m := fake.original(inter)) and not m["flags"] & LOADING
                        and m["content"], 30)
    assert fake.cdn_reads  # the recording was fetched, after the acknowledgement


async def test_swapface_asks_for_a_source_and_a_target_by_name(
    fake: FakeDiscord, bridge: Bridge
) -> None:
    synced = next(c for scope in fake.commands.values() for c in scope
                  if c["name"] == "swapface")
    options = [(o["name"], o["type"], o.get("required", False)) for o in synced["options"]]
    assert options == [("source", 11, True), ("target", 11, True)]
