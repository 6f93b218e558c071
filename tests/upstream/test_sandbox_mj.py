"""Every /mj call through the client against the sandbox gateway, incl. the full button flows."""

from __future__ import annotations

import asyncio
import base64
import io

import pytest
from PIL import Image

from bot.sandbox.server import SandboxServer
from bot.upstream import InvalidRequest, MjTask, NotFound, TaskNotReady, UpstreamClient
from tests.upstream.conftest import FAST_RETRY
from tests.upstream.test_sandbox_v1 import png_data_url


async def finished(client: UpstreamClient, task_id: str) -> MjTask:
    """Poll like the tracker does until the task stops changing."""
    for _ in range(1000):
        task = await client.mj_fetch(task_id)
        if task.is_finished:
            return task
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {task_id} never finished")


def button(task: MjTask, label: str) -> str:
    return next(b.custom_id for b in task.buttons if label in (b.label, b.emoji))


def mask_data_url() -> str:
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    buf = io.BytesIO()
    mask.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


async def test_imagine_upscale_and_vary_region_flow(client: UpstreamClient) -> None:
    submitted = await client.mj_imagine("a lighthouse at dusk --ar 3:2")
    assert submitted.code == 1 and len(submitted.task_id) == 16
    grid = await finished(client, submitted.task_id)
    assert grid.status == "SUCCESS" and grid.action == "IMAGINE" and grid.percent == 100
    assert [b.label for b in grid.buttons if b.label] == [f"U{i}" for i in range(1, 5)] + [
        f"V{i}" for i in range(1, 5)]
    picture = await client.download(grid.image_url or "")
    assert picture.data.startswith(b"\x89PNG")

    upscale = await client.mj_action(grid.id, button(grid, "U1"))
    assert upscale.code == 1 and not upscale.needs_modal
    single = await finished(client, upscale.task_id)
    assert single.action == "UPSCALE" and single.status == "SUCCESS"
    labels = {b.label for b in single.buttons}
    assert {"Vary (Subtle)", "Vary (Strong)", "Vary (Region)", "Zoom Out 2x"} <= labels

    region = await client.mj_action(single.id, button(single, "Vary (Region)"))
    assert region.needs_modal and region.task_id
    waiting = await client.mj_fetch(region.task_id)
    assert waiting.status == "MODAL" and not waiting.is_finished
    done = await client.mj_modal(region.task_id, "a lighthouse with a red roof",
                                 mask_base64=mask_data_url())
    assert done.code == 1 and done.task_id == region.task_id
    varied = await finished(client, region.task_id)
    assert varied.status == "SUCCESS" and varied.action == "INPAINT"
    assert varied.final_prompt == "a lighthouse with a red roof"


async def test_custom_zoom_asks_for_a_prompt(client: UpstreamClient) -> None:
    grid = await finished(client, (await client.mj_imagine("a cat")).task_id)
    single = await finished(client, (await client.mj_action(grid.id, button(grid, "U2"))).task_id)
    zoom = await client.mj_action(single.id, button(single, "Custom Zoom"))
    assert zoom.needs_modal
    await client.mj_modal(zoom.task_id, "a cat --zoom 1.5")
    assert (await finished(client, zoom.task_id)).status == "SUCCESS"


async def test_variation_and_reroll_make_new_grids(client: UpstreamClient) -> None:
    grid = await finished(client, (await client.mj_imagine("a red fox")).task_id)
    variation = await client.mj_action(grid.id, button(grid, "V3"))
    reroll = await client.mj_action(grid.id, button(grid, "🔄"))
    assert {(await finished(client, variation.task_id)).action,
            (await finished(client, reroll.task_id)).action} == {"VARIATION", "REROLL"}


async def test_fresh_task_then_progress_then_success(client: UpstreamClient) -> None:
    task_id = (await client.mj_imagine("slow sunrise")).task_id
    seen = [await client.mj_fetch(task_id)]
    while not seen[-1].is_finished:
        await asyncio.sleep(0.005)
        seen.append(await client.mj_fetch(task_id))
    statuses = [t.status for t in seen]
    assert statuses[-1] == "SUCCESS"
    assert set(statuses) <= {"", "NOT_START", "SUBMITTED", "IN_PROGRESS", "SUCCESS"}
    assert seen[-1].submit_time and seen[-1].finish_time
    assert seen[-1].finish_time >= seen[-1].submit_time


async def test_imagine_with_reference_images(client: UpstreamClient) -> None:
    submitted = await client.mj_imagine("in this style", images=[png_data_url()],
                                        bot_type="NIJI_JOURNEY")
    task = await finished(client, submitted.task_id)
    assert task.status == "SUCCESS" and task.prompt_en.startswith("http")


async def test_blend_describe_shorten_and_swap_face(client: UpstreamClient) -> None:
    red, blue = png_data_url((220, 20, 20)), png_data_url((20, 20, 220))
    jobs = {
        "BLEND": await client.mj_blend([red, blue], dimensions="LANDSCAPE"),
        "DESCRIBE": await client.mj_describe(red),
        "SHORTEN": await client.mj_shorten("a very detailed painting of a red fox --ar 16:9"),
        "SWAP_FACE": await client.mj_swap_face(red, blue),
    }
    for action, submitted in jobs.items():
        task = await finished(client, submitted.task_id)
        assert (task.action, task.status) == (action, "SUCCESS")
        if action == "DESCRIBE":
            assert task.final_prompt.startswith("1️⃣")
        if action == "SHORTEN":
            assert "Shortened prompts" in task.final_prompt


async def test_list_by_condition_returns_own_known_tasks_only(
    sandbox: SandboxServer, client: UpstreamClient
) -> None:
    ids = [(await client.mj_imagine(f"cat {i}")).task_id for i in range(3)]
    tasks = await client.mj_list([*ids, "1111111111111111"])
    assert sorted(t.id for t in tasks) == sorted(ids)
    assert await client.mj_list([]) == []
    async with UpstreamClient(sandbox.url, "sk-someone-else", retry=FAST_RETRY) as other:
        assert await other.mj_list(ids) == []
        with pytest.raises(NotFound):
            await other.mj_fetch(ids[0])


async def test_image_seed_only_once_finished(client: UpstreamClient) -> None:
    task_id = (await client.mj_imagine("seeded")).task_id
    with pytest.raises(TaskNotReady):
        await client.mj_image_seed(task_id)
    await finished(client, task_id)
    seed = await client.mj_image_seed(task_id)
    assert seed.isdigit()


async def test_unknown_task_and_unready_parent(client: UpstreamClient) -> None:
    with pytest.raises(NotFound):
        await client.mj_fetch("1730621826053455")
    with pytest.raises(NotFound):
        await client.mj_action("1730621826053455", "MJ::JOB::upsample::1::x")
    task_id = (await client.mj_imagine("not yet")).task_id
    with pytest.raises(TaskNotReady):
        await client.mj_action(task_id, "MJ::JOB::upsample::1::x")
    with pytest.raises(InvalidRequest):
        await client.mj_imagine("   ")


async def test_cancel_and_queue_are_not_routed_by_the_gateway(client: UpstreamClient) -> None:
    task_id = (await client.mj_imagine("cancel me")).task_id
    assert await client.mj_cancel(task_id) is False
    assert await client.mj_queue() is None
    assert await client.mj_recent() is None


async def test_a_midjourney_proxy_lists_the_accounts_recent_tasks_newest_first() -> None:
    async with (
        SandboxServer(port=0, speed=200.0, upstream_list=True) as sandbox,
        UpstreamClient(sandbox.url, "sk-test-key-123", retry=FAST_RETRY) as client,
        UpstreamClient(sandbox.url, "sk-other-key-456") as other,
    ):
        first = (await client.mj_imagine("first")).task_id
        second = (await client.mj_imagine("second")).task_id
        await other.mj_imagine("not mine")
        recent = await client.mj_recent()
    assert recent is not None
    assert [(t.id, t.prompt) for t in recent] == [(second, "second"), (first, "first")]
    assert all(t.submit_time for t in recent)
