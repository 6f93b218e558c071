"""/blend: mix 2–5 images into a Midjourney grid."""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.services import CommandContext, UserError
from bot.tasks.flow import run_job
from bot.tasks.inputs import image_data_urls
from bot.tasks.jobs import new_job

MIN_IMAGES, MAX_IMAGES = 2, 5
DIMENSIONS = ("portrait", "square", "landscape")


async def blend_command(ctx: CommandContext) -> None:
    """Check the images and the shape, submit to /mj/submit/blend and track it."""
    attachments = ctx.request.attachments
    if not MIN_IMAGES <= len(attachments) <= MAX_IMAGES:
        raise UserError("mj.blend_count", count=len(attachments))
    dimensions = (ctx.request.options.get("dimensions") or "square").strip().lower()
    if dimensions not in DIMENSIONS:
        raise UserError("mj.blend_bad_dimensions", dimensions=dimensions)
    images = image_data_urls(attachments)
    job = new_job(ctx.chat, ctx.actor.user_id, "blend", "", result={"count": len(images)})
    shape = dimensions.upper()
    await run_job(
        ctx, job, lambda: ctx.services.client.mj_blend(images, dimensions=shape), command="blend"
    )


SPEC = CommandSpec(
    "blend",
    "Blend 2 to 5 images into new ones with Midjourney",
    blend_command,
    params=(
        Param("images", "image", "The images to blend", required=True, count=MAX_IMAGES),
        Param("dimensions", "choice", "Shape of the result", choices=DIMENSIONS),
    ),
)
