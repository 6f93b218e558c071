"""Buttons under Midjourney results: upstream actions (U1, V1, 🔄, zoom, pan, ...) and 🌱 Seed."""

from __future__ import annotations

from bot.core import CommandContext
from bot.policy import Cost
from bot.tasks.flow import ModalMode, complete_modal, run_job
from bot.tasks.jobs import new_job
from bot.tasks.layout import caption_for
from storage.base import ButtonAction, JobRecord


def _modal_mode(custom_id: str) -> ModalMode:
    if custom_id.startswith("MJ::Inpaint"):
        return "inpaint"
    if custom_id.startswith("MJ::CustomZoom"):
        return "zoom"
    return "remix"


def _label(parent: JobRecord, custom_id: str) -> str:
    for button in parent.buttons:
        if button.get("customId") == custom_id:
            return f"{button.get('emoji', '')} {button.get('label', '')}".strip()
    return caption_for(custom_id)


async def _parent(ctx: CommandContext, action: ButtonAction) -> JobRecord | None:
    parent = await ctx.services.store.get_job(action.job_id) if action.job_id else None
    if parent is None or not parent.upstream_id:
        await ctx.say("mj.job_gone")
        return None
    return parent


async def press_action(ctx: CommandContext, action: ButtonAction) -> None:
    """Run the upstream button on the parent job; the child shows up as a new message."""
    parent = await _parent(ctx, action)
    if parent is None or parent.upstream_id is None:
        return
    parent_id, custom_id = parent.upstream_id, action.payload
    services = ctx.services
    prompt = str(parent.result.get("final_prompt") or parent.prompt)
    child = new_job(
        ctx.chat,
        parent.owner_id,
        "action",
        prompt,
        parent_upstream_id=parent_id,
        result={"label": _label(parent, custom_id), "custom_id": custom_id},
    )
    started = await run_job(
        ctx, child, lambda: services.client.mj_action(parent_id, custom_id), command="imagine"
    )
    if started is None:
        return
    child, submitted = started
    if submitted.needs_modal:
        # Vary (Region) and Custom Zoom: the child waits until we send the user's prompt.
        await complete_modal(
            services,
            ctx.channel,
            ctx.chat,
            ctx.actor,
            ctx.language,
            child,
            mode=_modal_mode(custom_id),
            parent_image_url=parent.image_url,
        )


async def press_seed(ctx: CommandContext, action: ButtonAction) -> None:
    """Show the seed Midjourney used for the job's image."""
    parent = await _parent(ctx, action)
    if parent is None or parent.upstream_id is None:
        return
    await ctx.check_policy(Cost("mj", 0), command="imagine")
    seed = await ctx.services.client.mj_image_seed(parent.upstream_id)
    await ctx.say("mj.seed", seed=seed)


BUTTONS = {"mj": press_action, "seed": press_seed}
