"""Discord users against the real core: the fake Discord in front, the sandbox as upstream."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.sandbox.server import SandboxServer
from storage.base import ConversationKey
from tests.discord.conftest import Bridge
from tests.discord.users import ALICE, BOB, button, buttons_of, press, slash, submit_modal
from tests.fakes.discord_api import FakeDiscord, Inter


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def visible(fake: FakeDiscord, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.channel_messages(channel) if not m["flags"] & 64]


async def grid_of(fake: FakeDiscord, inter: Inter) -> dict[str, Any]:
    await fake.wait_for(lambda: (m := fake.original(inter)) and m["components"], 20)
    grid = fake.original(inter)
    assert grid is not None
    return grid


async def test_ask_streams_the_model_answer_into_the_response_and_follow_ups(
    fake: FakeDiscord, bridge: Bridge
) -> None:
    inter = await slash(fake, "ask", text="[[tokens:1500]] tell me everything")
    channel = inter.channel_id
    key = ConversationKey("discord", channel, "", ALICE)

    async def stored_answer() -> str:
        turns = await bridge.core.services.store.load_context(key)
        return next((t.content for t in reversed(turns) if t.role == "assistant"), "")

    await fake.wait_for(lambda: len(visible(fake, channel)) >= 2
                        and not any(m["flags"] & 128 for m in visible(fake, channel)), 20)
    answer = ""
    for _ in range(100):
        answer = await stored_answer()
        shown = squash(" ".join(m["content"] for m in visible(fake, channel)))
        if answer and shown == squash(answer):
            break
        await asyncio.sleep(0.1)
    messages = visible(fake, channel)
    assert len(answer) > 2000
    assert squash(" ".join(m["content"] for m in messages)) == squash(answer)
    assert messages[0]["id"] == inter.original_id
    assert all(len(m["content"]) <= 2000 for m in messages)
    assert inter.ack_latency is not None and inter.ack_latency < 1.0


async def test_model_output_mentioning_everyone_pings_nobody(
    fake: FakeDiscord, bridge: Bridge
) -> None:
    inter = await slash(fake, "ask", text=f"say @everyone and @here and <@{BOB}>")
    await fake.wait_for(lambda: (m := fake.original(inter)) and "@everyone" in m["content"]
                        and not m["flags"] & 128, 20)
    assert fake.pings == []


async def test_imagine_grid_with_buttons_a_stranger_is_refused_the_owner_upscales(
    fake: FakeDiscord, bridge: Bridge
) -> None:
    inter = await slash(fake, "imagine", prompt="a red fox in snow")
    grid = await grid_of(fake, inter)
    assert grid["attachments"] and fake.files[grid["id"]][0].data.startswith(b"\x89PNG")
    labels = [b.get("label") for b in buttons_of(grid)]
    assert "U1" in labels and "V1" in labels
    assert len(grid["components"]) <= 5 and all(len(r["components"]) <= 5
                                               for r in grid["components"])
    channel = inter.channel_id
    before = len(visible(fake, channel))

    stranger = await press(fake, grid, button(grid, "U1"), user=BOB)
    await fake.wait_for(lambda: stranger.acked_at is not None)
    refusal = fake.original(stranger)
    assert refusal is not None and refusal["flags"] & 64
    await asyncio.sleep(0.3)
    assert len(visible(fake, channel)) == before  # nothing started

    owner = await press(fake, grid, button(grid, "U1"), user=ALICE)
    await fake.wait_for(lambda: any(m["attachments"] and m["id"] != grid["id"]
                                    for m in visible(fake, channel)), 20)
    assert owner.ack_latency is not None and owner.ack_latency < 1.0
    assert owner.ack_type in (4, 6)


async def test_vary_region_asks_in_a_modal_and_the_submit_starts_the_job(
    fake: FakeDiscord, bridge: Bridge
) -> None:
    inter = await slash(fake, "imagine", prompt="a lighthouse")
    grid = await grid_of(fake, inter)
    upscale = await press(fake, grid, button(grid, "U1"))
    channel = inter.channel_id
    await fake.wait_for(lambda: any(
        any("Region" in (b.get("label") or "") for b in buttons_of(m))
        for m in visible(fake, channel)), 20)
    assert upscale.acked_at is not None
    single = next(m for m in visible(fake, channel)
                  if any("Region" in (b.get("label") or "") for b in buttons_of(m)))
    label = next(b["label"] for b in buttons_of(single) if "Region" in (b.get("label") or ""))
    opened = await press(fake, single, button(single, label))
    await fake.wait_for(lambda: opened.acked_at is not None)
    assert opened.ack_type == 9 and opened.modal is not None
    count = len(visible(fake, channel))
    done = await submit_modal(fake, opened, "a lighthouse at night")
    await fake.wait_for(lambda: len(visible(fake, channel)) > count, 20)
    assert done.ack_latency is not None and done.ack_latency < 1.0


async def test_an_upstream_fault_is_a_short_message_and_the_bot_keeps_serving(
    fake: FakeDiscord, bridge: Bridge
) -> None:
    broken = await slash(fake, "ask", text="[[fault:500]] hello")
    await fake.wait_for(lambda: (m := fake.original(broken)) and not m["flags"] & 128, 20)
    failed = fake.original(broken)
    assert failed is not None and 0 < len(failed["content"]) < 300
    fine = await slash(fake, "ask", text="hello again", channel=fake.channel_ids[1])
    await fake.wait_for(lambda: (m := fake.original(fine)) and "hello again" in m["content"], 20)


async def test_injected_429s_delay_but_lose_nothing(fake: FakeDiscord, bridge: Bridge) -> None:
    fake.fail_next("PATCH", r"/webhooks/", 429, {"message": "You are being rate limited.",
                                                 "retry_after": 0.3, "global": False},
                   {"Via": "1.1 google", "Retry-After": "0.3"}, times=2)
    inter = await slash(fake, "ask", text="[[tokens:300]] go on")
    await fake.wait_for(lambda: (m := fake.original(inter)) and "go on" in m["content"]
                        and not m["flags"] & 128, 20)
    assert sum(r.status == 429 for r in fake.requests) == 2


def with_button(fake: FakeDiscord, channel: str, label_part: str) -> dict[str, Any] | None:
    return next((m for m in visible(fake, channel)
                 if any(label_part in (b.get("label") or "") or label_part == b.get("emoji", {})
                        .get("name") for b in buttons_of(m))), None)


def button_like(message: dict[str, Any], label_part: str) -> str:
    return next(b["custom_id"] for b in buttons_of(message)
                if label_part in (b.get("label") or "")
                or label_part == (b.get("emoji") or {}).get("name"))


async def test_custom_zoom_asks_in_a_modal(fake: FakeDiscord, bridge: Bridge) -> None:
    inter = await slash(fake, "imagine", prompt="a mountain")
    grid = await grid_of(fake, inter)
    channel = inter.channel_id
    await press(fake, grid, button(grid, "U2"))
    await fake.wait_for(lambda: with_button(fake, channel, "Custom Zoom") is not None, 20)
    single = with_button(fake, channel, "Custom Zoom")
    assert single is not None
    opened = await press(fake, single, button_like(single, "Custom Zoom"))
    await fake.wait_for(lambda: opened.acked_at is not None)
    assert opened.ack_type == 9 and opened.modal is not None
    assert opened.modal["title"] == "Custom Zoom"
    count = len(visible(fake, channel))
    await submit_modal(fake, opened, "a mountain at dawn --zoom 1.5")
    await fake.wait_for(lambda: len(visible(fake, channel)) > count, 20)


async def test_a_remix_job_waits_for_its_prompt_given_in_a_modal(
    fake: FakeDiscord, bridge: Bridge, sandbox: SandboxServer
) -> None:
    inter = await slash(fake, "imagine", prompt="a forest")
    grid = await grid_of(fake, inter)
    channel = inter.channel_id
    sandbox.set_fault("remix")  # the upstream now holds variation children for a prompt
    await press(fake, grid, button(grid, "V1"))
    await fake.wait_for(lambda: with_button(fake, channel, "✏️") is not None, 20)
    waiting = with_button(fake, channel, "✏️")
    assert waiting is not None and "prompt" in waiting["content"]
    opened = await press(fake, waiting, button_like(waiting, "✏️"))
    await fake.wait_for(lambda: opened.acked_at is not None)
    assert opened.ack_type == 9 and opened.modal is not None
    await submit_modal(fake, opened, "a forest in autumn")
    # The child job runs to a grid of its own.
    await fake.wait_for(lambda: sum(bool(m["attachments"] and m["components"])
                                    for m in visible(fake, channel)) >= 2, 30)
