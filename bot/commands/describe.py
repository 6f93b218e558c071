"""/describe: four prompts Midjourney would write for an image, each with an "Imagine" button."""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.services import CommandContext, UserError
from bot.tasks.flow import run_job
from bot.tasks.inputs import image_data_urls
from bot.tasks.jobs import new_job


async def describe_command(ctx: CommandContext) -> None:
    """Submit the first attached image to /mj/submit/describe and track it."""
    attachments = ctx.request.attachments
    if not attachments:
        raise UserError("mj.describe_needs_image")
    if len(attachments) > 1:
        raise UserError("mj.too_many_images", command="describe", limit=1, count=len(attachments))
    (image,) = image_data_urls(attachments)
    job = new_job(ctx.chat, ctx.actor.user_id, "describe", "")
    await run_job(ctx, job, lambda: ctx.services.client.mj_describe(image), command="describe")


SPEC = CommandSpec(
    "describe",
    "Get four Midjourney prompts that describe an image",
    describe_command,
    params=(Param("image", "image", "The image to describe", required=True),),
)
