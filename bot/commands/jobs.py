"""/jobs: the user's recent Midjourney jobs and where each stands (unknown ones included)."""

from __future__ import annotations

import time

from bot.commands.registry import CommandSpec
from bot.replies import text_reply
from bot.services import CommandContext
from bot.tasks.render import title

LISTED = 10


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


async def jobs_command(ctx: CommandContext) -> None:
    """List the newest jobs this user started on this platform, newest first."""
    jobs = await ctx.services.store.list_user_jobs(ctx.actor.platform, ctx.actor.user_id, LISTED)
    if not jobs:
        await ctx.say("jobs.none")
        return
    lines = [ctx.t("jobs.title")]
    for job in jobs:
        status = ctx.t(f"jobs.status.{job.status.value}")
        if job.progress and job.status.value == "pending":
            status = f"{status} {job.progress}"
        name = title(ctx.services, ctx.language, job)
        lines.append(ctx.t("jobs.line", status=status, title=name, when=_when(job.created_at)))
    await ctx.reply(text_reply("\n".join(lines)))


SPEC = CommandSpec("jobs", "List your recent Midjourney jobs and where they stand", jobs_command)
