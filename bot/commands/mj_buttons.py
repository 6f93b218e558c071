"""Buttons under Midjourney results: upstream actions (U1, V1, 🔄, zoom, pan, ...), 🌱 Seed, and
the ✏️ button of a job waiting for its remix prompt.

Vary (Region) and Custom Zoom need a prompt before anything is sent: their press opens a text
request (`prompt_action`) and the submitted text runs the action and its modal step
(`submit_action`). A remix child waits in MODAL after an ordinary press; its message carries a
✏️ button (`prompt_remix`), whose submitted text completes it (`submit_remix`).
"""

from __future__ import annotations

from bot.commands.registry import Prompt
from bot.policy import Cost
from bot.services import CommandContext, UserError
from bot.tasks.flow import ModalMode, modal_request, offer_prompt, run_job, submit_modal
from bot.tasks.jobs import new_job
from bot.tasks.layout import caption_for
from bot.upstream import SubmitResult
from storage.base import ButtonAction, JobRecord, JobStatus, PendingText


def prompt_mode(custom_id: str) -> ModalMode | None:
    """The prompt a customId needs before it is sent, None when it needs none."""
    if custom_id.startswith("MJ::Inpaint"):
        return "inpaint"
    if custom_id.startswith("MJ::CustomZoom"):
        return "zoom"
    return None


def _label(parent: JobRecord, custom_id: str) -> str:
    for button in parent.buttons:
        if button.get("customId") == custom_id:
            return f"{button.get('emoji', '')} {button.get('label', '')}".strip()
    return caption_for(custom_id)


def _prompt_of(job: JobRecord) -> str:
    return str(job.result.get("final_prompt") or job.prompt)


async def _job(ctx: CommandContext, job_id: int | None) -> JobRecord:
    """The job a button or text request belongs to; UserError when the gateway forgot it."""
    job = await ctx.services.store.get_job(job_id) if job_id else None
    if job is None or not job.upstream_id:
        raise UserError("mj.job_gone")
    return job


async def _run_action(
    ctx: CommandContext, parent: JobRecord, custom_id: str
) -> tuple[JobRecord, SubmitResult] | None:
    """Press the upstream button on the parent job; the child shows up as a new message."""
    parent_id = parent.upstream_id or ""
    child = new_job(
        ctx.chat,
        parent.owner_id,
        "action",
        _prompt_of(parent),
        parent_upstream_id=parent_id,
        result={"label": _label(parent, custom_id), "custom_id": custom_id},
    )
    client = ctx.services.client
    return await run_job(
        ctx, child, lambda: client.mj_action(parent_id, custom_id), command="imagine"
    )


async def prompt_action(ctx: CommandContext, action: ButtonAction) -> Prompt | None:
    """Vary (Region) and Custom Zoom ask for the prompt first; other buttons run at once."""
    mode = prompt_mode(action.payload)
    if mode is None:
        return None
    parent = await _job(ctx, action.job_id)
    return Prompt(mode, modal_request(ctx.services, ctx.language, mode, _prompt_of(parent)))


async def press_action(ctx: CommandContext, action: ButtonAction) -> None:
    """Run the upstream button; a child the upstream holds for a prompt (remix) gets ✏️."""
    parent = await _job(ctx, action.job_id)
    started = await _run_action(ctx, parent, action.payload)
    if started is not None and started[1].needs_modal:
        await offer_prompt(ctx.services, ctx.channel, started[0], ctx.language)


async def submit_action(ctx: CommandContext, pending: PendingText, text: str) -> None:
    """The prompt for Vary (Region) / Custom Zoom came: run the action, then its modal step."""
    if not text.strip():
        await ctx.say("mj.modal.cancelled")
        return
    parent = await _job(ctx, pending.job_id)
    started = await _run_action(ctx, parent, pending.payload)
    if started is None:
        return
    child, submitted = started
    if not submitted.needs_modal:
        return  # the upstream ran it without asking: the prompt is not needed
    mode: ModalMode = "zoom" if pending.mode == "zoom" else "inpaint"
    await submit_modal(
        ctx.services,
        ctx.channel,
        ctx.actor,
        ctx.language,
        child,
        text,
        mode=mode,
        parent_image_url=parent.image_url,
    )


async def _waiting(ctx: CommandContext, job_id: int | None) -> JobRecord:
    job = await _job(ctx, job_id)
    if job.status in (JobStatus.PENDING, JobStatus.SUCCESS):
        raise UserError("mj.remix.sent")
    if job.status != JobStatus.MODAL:
        raise UserError("mj.remix.closed")
    return job


async def prompt_remix(ctx: CommandContext, action: ButtonAction) -> Prompt:
    """✏️ under a job waiting in MODAL: ask for its prompt (the one it was started with)."""
    job = await _waiting(ctx, action.job_id)
    return Prompt("remix", modal_request(ctx.services, ctx.language, "remix", job.prompt))


async def submit_remix(ctx: CommandContext, pending: PendingText, text: str) -> None:
    """The remix prompt came: complete the waiting job (an empty one cancels it)."""
    job = await _waiting(ctx, pending.job_id)
    await submit_modal(ctx.services, ctx.channel, ctx.actor, ctx.language, job, text, mode="remix")


async def press_seed(ctx: CommandContext, action: ButtonAction) -> None:
    """Show the seed Midjourney used for the job's image."""
    parent = await _job(ctx, action.job_id)
    await ctx.check_policy(Cost("mj", 0), command="imagine")
    seed = await ctx.services.client.mj_image_seed(parent.upstream_id or "")
    await ctx.say("mj.seed", seed=seed)
