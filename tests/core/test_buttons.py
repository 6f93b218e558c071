"""Buttons under Midjourney results: every kind, ownership, expiry, and the modal flow."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.inbound import Accepted, AskText, Notice, TextSubmit
from bot.sandbox.server import SandboxServer
from storage.base import ButtonAction, JobStatus
from tests.core.conftest import fast_settings, running_harness
from tests.core.mj_helpers import (
    SUBMIT_ACTION,
    SUBMIT_MODAL,
    button,
    captions,
    imagine_result,
    results,
    settle,
    wait_results,
    wait_text,
    with_text,
)
from tests.support.harness import Harness
from tests.support.recording import Shown

GRID = [["U1", "U2", "U3", "U4", "🔄"], ["V1", "V2", "V3", "V4", "🌱 Seed"]]
UPSCALED = [
    ["⬆️ Upscale (Subtle)", "⬆️ Upscale (Creative)", "🪄 Vary (Subtle)", "🪄 Vary (Strong)",
     "🖌️ Vary (Region)"],
    ["🔍 Zoom Out 2x", "🔍 Zoom Out 1.5x", "🔍 Custom Zoom"],
    ["⬅️", "➡️", "⬆️", "⬇️", "🌱 Seed"],
]


async def press_and_wait(h: Harness, grid: Shown, caption: str, user: str = "alice") -> Shown:
    """Press a button and wait for the new result message it produces."""
    before = len(results(h))
    await h.press(button(grid, caption).token, user=user)
    shown = (await wait_results(h, before + 1))[-1]
    assert shown is not grid, "the result replaced the grid instead of arriving as a new message"
    return shown


async def upscaled(h: Harness) -> Shown:
    grid = await imagine_result(h, "a red fox")
    return await press_and_wait(h, grid, "U1")


async def test_u1_gives_the_upscaled_image_with_the_upscale_set(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    up = await press_and_wait(harness, grid, "U1")

    assert up.reply is not None and len(up.reply.images) == 1
    assert "U1" in up.reply.text and "a red fox" in up.reply.text
    # The bookmark (❤️) is refused by new-api, so it is not offered.
    assert captions(up) == UPSCALED
    assert sandbox.hits[SUBMIT_ACTION] == 1
    # The grid is left as it was, its buttons still usable.
    assert grid.reply is not None and captions(grid) == GRID


async def test_v1_and_reroll_give_new_grids(harness: Harness) -> None:
    grid = await imagine_result(harness, "a red fox")
    for caption in ("V1", "🔄"):
        new = await press_and_wait(harness, grid, caption)
        assert captions(new) == GRID
        assert new.progress, "no progress was shown for the action"


async def test_zoom_out_and_pan_on_an_upscale_give_new_grids(harness: Harness) -> None:
    up = await upscaled(harness)
    for caption in ("🔍 Zoom Out 2x", "⬅️", "🪄 Vary (Subtle)"):
        new = await press_and_wait(harness, up, caption)
        assert captions(new) == GRID


async def test_seed_button_shows_the_seed(harness: Harness, sandbox: SandboxServer) -> None:
    grid = await imagine_result(harness, "a red fox")
    answer = await harness.press(button(grid, "🌱 Seed").token, message=grid.ref)
    assert isinstance(answer, Accepted)
    # The answer replies to the grid whose button was pressed.
    assert harness.channel.last().reply_to == grid.ref

    text = harness.channel.last().reply.text  # type: ignore[union-attr]
    assert "Seed of this image" in text
    assert any(word.isdigit() for word in text.split())
    assert sandbox.hits["GET /mj/task/{id}/image-seed"] == 1


async def test_a_second_user_pressing_u1_on_my_grid_gets_a_private_notice_and_nothing_happens(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    shown_before = len(harness.channel.messages)

    answer = await harness.press(button(grid, "U1").token, user="bob")

    assert isinstance(answer, Notice)
    assert "Only the person who started this job" in answer.text
    # Nothing appears in the chat and nothing is submitted upstream.
    assert len(harness.channel.messages) == shown_before
    assert sandbox.hits[SUBMIT_ACTION] == 0
    assert len(results(harness)) == 1


async def test_an_admin_may_press_anyones_buttons(tmp_path: Path, sandbox: SandboxServer) -> None:
    async with running_harness(fast_settings(tmp_path, admins=["test:admin"]), sandbox) as h:
        grid = await imagine_result(h, "a red fox")
        up = await press_and_wait(h, grid, "U2", user="admin")
        assert captions(up) == UPSCALED
        assert sandbox.hits[SUBMIT_ACTION] == 1


async def test_unknown_and_expired_buttons_answer_the_presser_privately(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    shown_before = len(harness.channel.messages)
    unknown = await harness.press("no-such-token")
    assert isinstance(unknown, Notice) and "expired" in unknown.text

    (job,) = await harness.services.store.list_jobs([JobStatus.SUCCESS])
    (stale,) = await harness.services.store.issue_tokens(
        [ButtonAction("mj", job.id, "alice", "test", job.buttons[0]["customId"], time.time() - 1)]
    )
    expired = await harness.press(stale)
    assert isinstance(expired, Notice) and "expired" in expired.text
    assert len(harness.channel.messages) == shown_before
    assert sandbox.hits[SUBMIT_ACTION] == 0
    assert len(results(harness)) == 1 and grid.reply is not None


async def ask_for_text(h: Harness, shown: Shown, caption: str, user: str = "alice") -> AskText:
    answer = await h.press(button(shown, caption).token, user=user)
    assert isinstance(answer, AskText), answer
    return answer


async def test_vary_region_asks_for_a_prompt_and_the_submit_sends_it_with_a_mask(
    harness: Harness, sandbox: SandboxServer
) -> None:
    up = await upscaled(harness)
    asked = await ask_for_text(harness, up, "🖌️ Vary (Region)")
    # Nothing is sent before the prompt: the press only opened the request.
    assert asked.request.default == "a red fox"
    assert sandbox.hits[SUBMIT_ACTION] == 1 and sandbox.hits[SUBMIT_MODAL] == 0

    before = len(results(harness))
    await harness.submit("a red fox wearing a tiny hat", token=asked.token)
    new = (await wait_results(harness, before + 1))[-1]

    assert sandbox.hits[SUBMIT_MODAL] == 1
    assert new.reply is not None and "a red fox wearing a tiny hat" in new.reply.text
    assert captions(new) == GRID
    # Billed jobs: the grid, U1, and the modal step (the Vary (Region) press itself is free).
    usage = await harness.services.store.usage_summary("test", "alice", 0.0)
    assert usage["by_command"]["imagine"]["calls"] == 3


async def test_a_prompt_is_taken_once(harness: Harness, sandbox: SandboxServer) -> None:
    up = await upscaled(harness)
    asked = await ask_for_text(harness, up, "🖌️ Vary (Region)")
    await harness.submit("a hat", token=asked.token)
    await harness.submit("a second hat", token=asked.token)
    await settle(harness)
    assert sandbox.hits[SUBMIT_MODAL] == 1
    assert "expired" in harness.channel.last().reply.text  # type: ignore[union-attr]


async def test_custom_zoom_suggests_a_zoom_parameter(
    harness: Harness, sandbox: SandboxServer
) -> None:
    up = await upscaled(harness)
    asked = await ask_for_text(harness, up, "🔍 Custom Zoom")
    assert asked.request.default == "a red fox --zoom 2"

    await harness.submit("a red fox --zoom 1.5", token=asked.token)
    new = (await wait_results(harness, 3))[-1]
    assert sandbox.hits[SUBMIT_MODAL] == 1
    assert captions(new) == GRID


async def test_an_empty_prompt_sends_nothing(harness: Harness, sandbox: SandboxServer) -> None:
    up = await upscaled(harness)
    asked = await ask_for_text(harness, up, "🔍 Custom Zoom")
    await harness.submit("   ", token=asked.token)

    assert "Cancelled" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_MODAL] == 0
    await settle(harness)
    assert len(results(harness)) == 2


async def test_someone_else_cannot_answer_my_prompt(
    harness: Harness, sandbox: SandboxServer
) -> None:
    up = await upscaled(harness)
    asked = await ask_for_text(harness, up, "🔍 Custom Zoom")
    await harness.submit("bob's idea", token=asked.token, user="bob")
    assert "Only the person who pressed" in harness.channel.last().reply.text  # type: ignore[union-attr]
    assert sandbox.hits[SUBMIT_MODAL] == 0


async def test_a_remix_child_waiting_in_modal_offers_its_owner_a_prompt_button(
    harness: Harness, sandbox: SandboxServer
) -> None:
    grid = await imagine_result(harness, "a red fox")
    sandbox.set_fault("remix")
    try:
        await harness.press(button(grid, "V2").token)
        waiting = await wait_text(harness, "waits for your prompt")
    finally:
        sandbox.set_fault(None)

    # Someone else's press of ✏️ is refused privately; the owner's opens the text request.
    pencil = button(waiting, "✏️ Write the prompt").token
    refused = await harness.press(pencil, user="bob")
    assert isinstance(refused, Notice)
    asked = await ask_for_text(harness, waiting, "✏️ Write the prompt")
    assert asked.request.default == "a red fox"
    await harness.submit("a blue fox", token=asked.token)

    new = (await wait_results(harness, 2))[-1]
    assert captions(new) == GRID
    assert sandbox.hits[SUBMIT_MODAL] == 1
    # Pressed again after it was sent: told privately, nothing is sent twice.
    again = await harness.press(pencil)
    assert isinstance(again, Notice) and "already sent" in again.text


async def test_a_failing_action_tells_the_user(harness: Harness) -> None:
    grid = await imagine_result(harness, "a red fox")
    (job,) = await harness.services.store.list_jobs([JobStatus.SUCCESS])
    # The gateway forgets tasks after a while; the button then finds no parent upstream.
    await harness.services.store.update_job(job.id, upstream_id="1000000000000000")
    await harness.press(button(grid, "U3").token)
    shown = await wait_text(harness, "⚠️")
    assert shown.reply is not None


async def test_a_press_right_as_the_grid_appears_names_the_button_in_the_new_job(
    harness: Harness,
) -> None:
    """The grid's buttons can be pressed before its result is stored; the child still says U2."""
    grid = await imagine_result(harness, "a quick fox")
    # As in the instant between showing the grid and storing its result: no buttons stored yet.
    store = harness.services.store
    (parent,) = await store.list_jobs([JobStatus.SUCCESS])
    await store.update_job(parent.id, buttons=[])
    await harness.press(button(grid, "U2").token)
    child = await wait_text(harness, "U2 · a quick fox")
    assert child is not grid


def test_button_captions_follow_midjourney_labels() -> None:
    from bot.tasks.layout import caption_for

    hash_ = "3785da15-4f70-4034-9128-f3ff1ac634fa"
    assert caption_for(f"MJ::JOB::upsample::3::{hash_}") == "U3"
    assert caption_for(f"MJ::JOB::variation::2::{hash_}") == "V2"
    assert caption_for(f"MJ::JOB::reroll::0::{hash_}::SOLO") == "🔄"
    assert caption_for(f"MJ::JOB::upsample_v6r1_2x_creative::1::{hash_}::SOLO") == (
        "Upscale (Creative)"
    )
    assert caption_for(f"MJ::JOB::high_variation::1::{hash_}::SOLO") == "Vary (Strong)"
    assert caption_for(f"MJ::Inpaint::1::{hash_}::SOLO") == "Vary (Region)"
    assert caption_for(f"MJ::Outpaint::75::1::{hash_}::SOLO") == "Zoom Out 1.5x"
    assert caption_for(f"MJ::CustomZoom::{hash_}") == "Custom Zoom"
    assert caption_for(f"MJ::JOB::pan_down::1::{hash_}::SOLO") == "⬇️"


async def test_a_prompt_sent_twice_at_once_is_taken_once(
    harness: Harness, sandbox: SandboxServer
) -> None:
    """A double-tapped modal submit, or an update delivered twice."""
    up = await upscaled(harness)
    asked = await ask_for_text(harness, up, "🖌️ Vary (Region)")
    submit = TextSubmit(harness.actor("alice"), harness.chat("c1"), "a hat", asked.token)
    await asyncio.gather(
        harness.bot.handle_text_submit(submit, harness.channel),
        harness.bot.handle_text_submit(submit, harness.channel),
    )
    await harness.bot.drain()
    await settle(harness)
    assert sandbox.hits[SUBMIT_MODAL] == 1
    assert len(with_text(harness, "expired")) == 1
