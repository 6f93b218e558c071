"""A second press of an action that already ran (or is running) on the same grid: its result
(or that it is running) is shown again instead of paying twice.

🔄 (reroll) is always new. Where a repeat gives something new (variations, zooms, pans), the
answer carries an "Again" button that runs the action once more on purpose; an upscale of the
same image would give the same picture, so it gets none unless its first run's fate is unknown.
"""

from __future__ import annotations

from bot.replies import Button, Reply, text_reply
from bot.services import CommandContext
from bot.tasks.layout import Wanted, issue_rows
from bot.tasks.render import final_reply, title
from storage.base import JobRecord, JobStatus


def _word(custom_id: str) -> str:
    parts = custom_id.split("::")
    return parts[2] if len(parts) > 2 and parts[1] == "JOB" else ""


def always_new(custom_id: str) -> bool:
    """🔄: every press asks for a new grid."""
    return _word(custom_id) == "reroll"


def offers_again(custom_id: str) -> bool:
    """Whether running the action again gives something new (not an upscale)."""
    return not _word(custom_id).startswith("upsample")


async def earlier_child(
    ctx: CommandContext, parent: JobRecord, custom_id: str
) -> JobRecord | None:
    """The job this action already produced on this parent (not failed), if any."""
    if always_new(custom_id) or not parent.upstream_id:
        return None
    return await ctx.services.store.find_child_job(parent.upstream_id, custom_id)


async def show_again(
    ctx: CommandContext, parent: JobRecord, child: JobRecord, custom_id: str
) -> None:
    """Show the earlier child's result (or where it stands), with "Again" where it fits."""
    services = ctx.services
    again: tuple[tuple[Button, ...], ...] = ()
    if offers_again(custom_id) or child.status == JobStatus.UNKNOWN:
        wanted = Wanted("again", custom_id, ctx.t("mj.button.again"), "🔁")
        again = await issue_rows(services, parent, [[wanted]])
    name = title(services, ctx.language, child)
    if child.status == JobStatus.SUCCESS:
        shown = await final_reply(services, ctx.language, child)
        await ctx.reply(Reply(parts=shown.parts, buttons=shown.buttons + again))
    elif child.status == JobStatus.UNKNOWN:
        await ctx.reply(text_reply(ctx.t("mj.repeat.unknown", title=name), again))
    else:
        await ctx.reply(text_reply(ctx.t("mj.repeat.running", title=name), again))
