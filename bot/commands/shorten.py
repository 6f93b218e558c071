"""/shorten: Midjourney's shorter versions of a prompt, each with an "Imagine" button."""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.core import CommandContext
from bot.policy import Cost
from bot.tasks.flow import start_job
from bot.tasks.inputs import prompt_of
from bot.tasks.jobs import new_job, record_usage


async def shorten_command(ctx: CommandContext) -> None:
    """Submit the prompt to /mj/submit/shorten and track it."""
    prompt = prompt_of(ctx.request.text, "shorten")
    services = ctx.services
    await ctx.check_policy(Cost("mj", 1))
    job = new_job(ctx.chat, ctx.actor.user_id, "shorten", prompt)
    started = await start_job(
        services,
        ctx.channel,
        ctx.chat,
        ctx.language,
        job,
        lambda: services.client.mj_shorten(prompt),
    )
    if started is not None:
        await record_usage(ctx, "shorten", "midjourney")


COMMANDS = [
    CommandSpec(
        "shorten",
        "Get shorter versions of a Midjourney prompt",
        shorten_command,
        params=(Param("prompt", "text", "The prompt to shorten", required=True),),
    )
]
