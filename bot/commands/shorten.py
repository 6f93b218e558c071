"""/shorten: Midjourney's shorter versions of a prompt, each with an "Imagine" button."""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.services import CommandContext
from bot.tasks.flow import run_job
from bot.tasks.inputs import prompt_of
from bot.tasks.jobs import new_job


async def shorten_command(ctx: CommandContext) -> None:
    """Submit the prompt to /mj/submit/shorten and track it."""
    prompt = prompt_of(ctx.request.text, "shorten")
    job = new_job(ctx.chat, ctx.actor.user_id, "shorten", prompt)
    await run_job(ctx, job, lambda: ctx.services.client.mj_shorten(prompt), command="shorten")


SPEC = CommandSpec(
    "shorten",
    "Get shorter versions of a Midjourney prompt",
    shorten_command,
    params=(Param("prompt", "text", "The prompt to shorten", required=True),),
)
