"""The adapter against a stand-in core: what a Discord user sees for each kind of interaction."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from adapters.discord import DiscordAdapter
from tests.discord.stub_inbound import StubInbound
from tests.discord.users import ALICE, BOB, button, imagine_grid, press, slash, submit_modal
from tests.fakes.discord_api import FakeDiscord


async def test_a_slow_command_is_acknowledged_at_once_then_answered(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.command_delay = 3.5  # longer than Discord's window
    inter = await slash(fake, "echo", text="hello there")
    await fake.wait_for(lambda: (m := fake.original(inter)) and m["content"] == "hello there")
    assert inter.ack_type == 5  # deferred: "thinking…"
    assert inter.ack_latency is not None and inter.ack_latency < 0.5
    assert inter.late_acks == 0



def lines(count: int, width: int = 90) -> list[str]:
    return [f"{i:04d} " + " ".join(["word"] * (width // 5)) + "\n" for i in range(count)]


async def test_ask_streams_into_the_deferred_response_and_continues_in_follow_ups(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.answer_chunks = lines(80)  # about 7,500 characters
    stub.chunk_delay = 0.01
    inter = await slash(fake, "ask", text="tell me a long story")
    answer = "".join(stub.answer_chunks)
    channel = inter.channel_id

    def shown() -> str:
        return "\n".join(m["content"] for m in fake.channel_messages(channel))

    await fake.wait_for(lambda: shown().replace("\n", "") == answer.replace("\n", ""), 20)
    messages = fake.channel_messages(channel)
    assert messages[0]["id"] == inter.original_id  # the "thinking…" response became the answer
    assert len(messages) >= 4 and all(len(m["content"]) <= 2000 for m in messages)
    # Split at line boundaries: every message ends where a line of the answer ends.
    assert all(m["content"].rstrip().endswith("word") for m in messages)
    # The growing answer was shown while it grew, never the same text twice in a row.
    edits = fake.edits[inter.original_id]
    assert len(edits) >= 2
    assert all(a != b for a, b in pairwise(edits))


async def test_edits_of_a_growing_answer_come_at_most_about_once_per_interval(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.answer_chunks = [f"token{i} " for i in range(60)]
    stub.chunk_delay = 0.02  # 1.2 s of streaming: ~6 edits at the test's 0.2 s interval
    inter = await slash(fake, "ask", text="count")
    await fake.wait_for(lambda: (m := fake.original(inter)) and
                        m["content"] == "".join(stub.answer_chunks).strip(), 10)
    times = [r.at for r in fake.requests
             if r.method == "PATCH" and str(inter.original_id) in r.path]
    # While the answer grows, one edit per interval; the final one may use the slot kept for it.
    gaps = [b - a for a, b in pairwise(times[:-1])]
    assert 3 <= len(times) <= 12
    assert min(gaps) >= 0.15  # 0.2 s between starts; arrival times jitter a little


async def test_mentions_in_model_output_ping_nobody(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.answer_chunks = ["Hey @everyone and @here, ", f"also <@{BOB}>!"]
    inter = await slash(fake, "ask", text="ping them")
    await fake.wait_for(lambda: (m := fake.original(inter)) and "also" in m["content"])
    await slash(fake, "echo", text=f"@everyone <@{BOB}>")
    await fake.wait_for(lambda: sum("@everyone" in m["content"]
                                    for m in fake.messages.values()) >= 2)
    assert fake.pings == []
    for request in fake.message_requests():
        body = request.payload or {}
        data = body.get("data", body) if request.path.endswith("/callback") else body
        if "content" in data:
            assert data.get("allowed_mentions", {}).get("parse") == [], request.path


async def test_imagine_shows_progress_then_the_grid_as_a_file_with_buttons(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    inter = await slash(fake, "imagine", prompt="a cat", niji=True)
    await fake.wait_for(lambda: (m := fake.original(inter)) and "70" in m["content"])
    assert stub.requests[-1].options == {"niji": "yes"}
    stub.release.set()
    await fake.wait_for(lambda: (m := fake.original(inter)) and m["components"])
    grid = fake.original(inter)
    assert grid is not None
    assert [a["filename"] for a in grid["attachments"]] == ["grid.png"]
    assert fake.files[grid["id"]][0].data == b"\x89PNG grid"  # uploaded bytes, not a link
    custom_ids = [c["custom_id"] for row in grid["components"] for c in row["components"]]
    assert all(cid.startswith("mb:") and len(cid) <= 100 for cid in custom_ids)
    assert "Drawing" in "".join(fake.edits[grid["id"]])


async def test_a_stranger_pressing_my_button_gets_a_private_refusal_and_nothing_starts(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.release.set()
    inter, grid = await imagine_grid(fake)
    before = len(fake.channel_messages(inter.channel_id))
    pressed = await press(fake, grid, button(grid, "U1"), user=BOB)
    await fake.wait_for(lambda: pressed.acked_at is not None)
    assert pressed.ack_type == 4
    refusal = fake.original(pressed)
    assert refusal is not None and refusal["flags"] & 64  # ephemeral: only Bob sees it
    assert "not your" in refusal["content"]
    await asyncio.sleep(0.2)
    visible = [m for m in fake.channel_messages(inter.channel_id) if not m["flags"] & 64]
    assert len(visible) == before  # nothing started in the channel


async def test_the_owner_pressing_u1_starts_the_action(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.release.set()
    inter, grid = await imagine_grid(fake)
    pressed = await press(fake, grid, button(grid, "U1"), user=ALICE)
    await fake.wait_for(lambda: any(m["content"] == "Upscaled!"
                                    for m in fake.channel_messages(inter.channel_id)))
    await fake.wait_for(lambda: pressed.acked_at is not None)
    assert pressed.ack_type == 6 and pressed.ack_latency is not None
    assert pressed.ack_latency < 0.5
    assert stub.presses[-1].actor.user_id == ALICE


async def test_vary_region_opens_a_modal_whose_text_completes_the_action(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    stub.release.set()
    inter, grid = await imagine_grid(fake)
    opened = await press(fake, grid, button(grid, "Vary (Region)"))
    await fake.wait_for(lambda: opened.modal is not None)
    assert opened.ack_type == 9  # the modal is the press's first response
    assert opened.modal is not None and opened.modal["custom_id"].startswith("mbm:")
    done = await submit_modal(fake, opened, "a dog wearing a hat")
    await fake.wait_for(lambda: any(m["content"] == "Varying with: a dog wearing a hat"
                                    for m in fake.channel_messages(inter.channel_id)))
    assert done.ack_latency is not None and done.ack_latency < 0.5
    assert stub.submits[-1].token == "mvr0"


async def test_an_interaction_that_expired_before_the_bot_saw_it_is_dropped_quietly(
    fake: FakeDiscord, stub: StubInbound, adapter: DiscordAdapter
) -> None:
    fake.ack_window = 0.0  # every acknowledgement arrives too late
    late = await slash(fake, "echo", text="too late")
    await fake.wait_for(lambda: late.late_acks == 1)
    fake.ack_window = 3.0
    await asyncio.sleep(0.1)
    assert stub.requests == []  # the core never ran for it
    on_time = await slash(fake, "echo", text="on time")  # and the bot carries on
    await fake.wait_for(lambda: (m := fake.original(on_time)) and m["content"] == "on time")
