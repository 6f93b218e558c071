"""/reset (alias /new): forget the conversation so far and start a new one."""

from __future__ import annotations

from bot.commands.registry import CommandSpec
from bot.context import conversation_key
from bot.services import CommandContext


async def reset_command(ctx: CommandContext) -> None:
    """Start a new conversation in this chat (the shared one when the chat shares context)."""
    key = conversation_key(ctx.chat, ctx.actor, ctx.services.settings.context_scope)
    await ctx.services.store.reset_conversation(key)
    await ctx.say("chat.reset_done")


SPEC = CommandSpec(
    "reset", "Forget our conversation and start a new one", reset_command, aliases=("new",)
)
