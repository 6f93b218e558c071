"""/lang: answer me in this language, whatever my platform says (`/lang auto` undoes it)."""

from __future__ import annotations

from bot.commands.registry import CommandSpec, Param
from bot.services import CommandContext, UserError

AUTO = "auto"


def _name(ctx: CommandContext, code: str) -> str:
    key = f"lang.name.{code}"
    return ctx.t(key) if ctx.services.catalog.has(ctx.language, key) else code


async def lang_command(ctx: CommandContext) -> None:
    """Show the language in use; with a code, keep it for this user; `auto` follows the platform."""
    catalog = ctx.services.catalog
    languages = catalog.languages()
    wanted = (ctx.request.options.get("language") or ctx.request.text).strip().lower()
    if not wanted:
        await ctx.say("lang.current", name=_name(ctx, ctx.language), languages=", ".join(languages))
        return
    if wanted == AUTO:
        await ctx.services.store.set_prefs(ctx.actor.platform, ctx.actor.user_id, language=None)
        ctx.language = catalog.resolve_language(ctx.actor.language)
        await ctx.say("lang.auto", name=_name(ctx, ctx.language))
        return
    short = wanted.replace("_", "-").split("-")[0]
    if short not in languages:
        raise UserError("lang.unknown", wanted=wanted, languages=", ".join(languages))
    await ctx.services.store.set_prefs(ctx.actor.platform, ctx.actor.user_id, language=short)
    ctx.language = short
    await ctx.say("lang.set", name=_name(ctx, short))


SPEC = CommandSpec(
    "lang",
    "Choose the language I answer you in",
    lang_command,
    params=(Param("language", "choice", "Language", choices=("en", "zh", AUTO)),),
)
