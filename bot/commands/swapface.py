"""/swapface: put the face of the first image onto the second."""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.core import CommandContext, UserError
from bot.policy import Cost
from bot.tasks.flow import start_job
from bot.tasks.inputs import image_data_urls
from bot.tasks.jobs import new_job, record_usage


async def swapface_command(ctx: CommandContext) -> None:
    """Exactly two images: the face source first, then the target."""
    attachments = ctx.request.attachments
    if len(attachments) != 2:
        raise UserError("mj.swapface_count", count=len(attachments))
    source, target = image_data_urls(attachments)
    services = ctx.services
    await ctx.check_policy(Cost("mj", 1))
    job = new_job(ctx.chat, ctx.actor.user_id, "swapface", "")
    started = await start_job(
        services,
        ctx.channel,
        ctx.chat,
        ctx.language,
        job,
        lambda: services.client.mj_swap_face(source, target),
    )
    if started is not None:
        await record_usage(ctx, "swapface", "swap_face")


COMMANDS = [
    CommandSpec(
        "swapface",
        "Put the face from the first image onto the second",
        swapface_command,
        params=(
            Param("images", "image", "Face source, then the target image", required=True, count=2),
        ),
    )
]
