"""/help and /start: what the bot can do, listed from the command table (`Services.menu`)."""

from __future__ import annotations

from bot.commands.registry import CommandSpec
from bot.replies import text_reply
from bot.services import CommandContext


async def help_command(ctx: CommandContext) -> None:
    """List every visible command with its description, in the user's language."""
    lines = [ctx.t("help.intro"), ""]
    for spec in ctx.services.menu:
        aliases = "".join(f", /{alias}" for alias in spec.aliases)
        key = f"help.cmd.{spec.name}"
        translated = ctx.services.catalog.has(ctx.language, key)
        description = ctx.t(key) if translated else spec.description
        lines.append(f"/{spec.name}{aliases} — {description}")
    lines += ["", ctx.t("help.footer")]
    await ctx.reply(text_reply("\n".join(lines)))


SPEC = CommandSpec("help", "Show what I can do", help_command, aliases=("start",))
