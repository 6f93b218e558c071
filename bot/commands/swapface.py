"""/swapface: put the face of the first image onto the second."""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.services import CommandContext, UserError
from bot.tasks.flow import run_job
from bot.tasks.inputs import image_data_urls
from bot.tasks.jobs import new_job


async def swapface_command(ctx: CommandContext) -> None:
    """Exactly two images: the face source first, then the target."""
    attachments = ctx.request.attachments
    if len(attachments) != 2:
        raise UserError("mj.swapface_count", count=len(attachments))
    source, target = image_data_urls(attachments, ctx.services.settings.upstream_max_request_mb)
    job = new_job(ctx.chat, ctx.actor.user_id, "swapface", "")
    await run_job(
        ctx,
        job,
        lambda: ctx.services.client.mj_swap_face(source, target),
        command="swapface",
        model="swap_face",
    )


SPEC = CommandSpec(
    "swapface",
    "Put the face from the first image onto the second",
    swapface_command,
    params=(
        Param(
            "images",
            "image",
            "source: the face to use; target: the image to put it on",
            required=True,
            count=2,
            names=("source", "target"),
        ),
    ),
)
