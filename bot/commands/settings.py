"""/settings: the chat's switches, shown to anyone, changed by an admin (anyone in a private chat).

answer: in groups, answer every message or only mentions and replies; voice: transcribe voice
messages without a command; context: one conversation per member or one for the whole chat.
"""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.inbound import ChatSettings
from bot.replies import text_reply
from bot.services import CommandContext, UserError

# Switch name -> (its choices, the stored column, the stored value of each choice).
SWITCHES: dict[str, tuple[tuple[str, ...], str, dict[str, bool | str]]] = {
    "answer": (("mentions", "all"), "answer_all", {"mentions": False, "all": True}),
    "voice": (("on", "off"), "auto_transcribe", {"on": True, "off": False}),
    "context": (("user", "chat"), "context_scope", {"user": "user", "chat": "chat"}),
}


def _wanted(ctx: CommandContext) -> dict[str, str]:
    """The switches asked for: native options, or "answer all voice off" typed as text."""
    wanted = {k: v.strip().lower() for k, v in ctx.request.options.items() if k in SWITCHES}
    words = ctx.request.text.replace(":", " ").replace("=", " ").lower().split()
    if len(words) % 2:
        raise UserError("settings.usage")
    for name, value in zip(words[::2], words[1::2], strict=True):
        wanted[name] = value
    for name, value in wanted.items():
        if name not in SWITCHES or value not in SWITCHES[name][0]:
            raise UserError("settings.usage")
    return wanted


def _shown(ctx: CommandContext, current: ChatSettings) -> str:
    lines = [
        ctx.t("settings.title"),
        ctx.t("settings.answer." + ("all" if current.answer_all else "mentions")),
        ctx.t("settings.voice." + ("on" if current.auto_transcribe else "off")),
        ctx.t("settings.context." + current.context_scope),
        "",
        ctx.t("settings.usage"),
    ]
    return "\n".join(lines)


async def settings_command(ctx: CommandContext) -> None:
    """Show the chat's switches; with values, set them (admins; anyone in a private chat)."""
    wanted = _wanted(ctx)
    services = ctx.services
    if wanted:
        if not (ctx.chat.is_private or services.is_admin(ctx.actor)):
            raise UserError("settings.admins_only")
        if services.chat_store is None:
            raise UserError("settings.unavailable")
        changes = {SWITCHES[name][1]: SWITCHES[name][2][value] for name, value in wanted.items()}
        await services.chat_store.set(ctx.chat.platform, ctx.chat.chat_id, **changes)
    current = await services.chat_settings(ctx.chat)
    await ctx.reply(text_reply(_shown(ctx, current)))


SPEC = CommandSpec(
    "settings",
    "Show or change this chat's settings (admins)",
    settings_command,
    params=(
        Param("answer", "choice", "In groups: answer every message, or mentions only",
              choices=SWITCHES["answer"][0]),
        Param("voice", "choice", "Transcribe voice messages on their own",
              choices=SWITCHES["voice"][0]),
        Param("context", "choice", "One conversation per member, or one for the chat",
              choices=SWITCHES["context"][0]),
    ),
)  # fmt: skip
