"""/model: show the user's chat model with the choices as buttons, or set it by name."""

from __future__ import annotations

import logging
import time

from bot.commands.ask import chosen_model
from bot.commands.registry import CommandSpec, Param
from bot.context.models import is_allowed, is_chat_model
from bot.policy import Cost
from bot.replies import Button, text_reply
from bot.services import CommandContext, Services, UserError
from bot.upstream import UpstreamError
from storage.base import ButtonAction

log = logging.getLogger(__name__)

BUTTONS_PER_ROW = 3
MAX_BUTTON_ROWS = 5  # Discord's limit for one message
LISTED_IN_ERRORS = 30


async def model_choices(ctx: CommandContext) -> list[str]:
    """Chat models the gateway lists for our key, narrowed to the operator's allowlist.

    When the gateway cannot list models, the allowlist alone is the answer (if there is one).
    """
    allowed = ctx.services.settings.allowed_models
    await ctx.check_policy(Cost("none", 0))
    try:
        listed = [m.id for m in await ctx.services.client.list_models()]
    except UpstreamError:
        if not allowed:
            raise
        log.warning("could not list models; offering the configured allowlist")
        return list(allowed)
    return [m for m in dict.fromkeys(listed) if is_chat_model(m) and is_allowed(m, allowed)]


async def suggest_models(services: Services, param: str) -> list[str]:
    """The models a user may pick (for autocomplete): the allowlist, else the gateway's list."""
    allowed = services.settings.allowed_models
    if allowed:
        return list(allowed)
    listed = [m.id for m in await services.client.list_models()]
    return [m for m in dict.fromkeys(listed) if is_chat_model(m)]


def _listing(models: list[str]) -> str:
    shown = ", ".join(models[:LISTED_IN_ERRORS])
    return shown + (", …" if len(models) > LISTED_IN_ERRORS else "")


async def _set_model(ctx: CommandContext, model: str) -> None:
    await ctx.services.store.set_prefs(ctx.actor.platform, ctx.actor.user_id, model=model)
    await ctx.say("chat.model_set", model=model)


async def model_command(ctx: CommandContext) -> None:
    """`/model` lists the choices; `/model <id>` picks one."""
    options = ctx.request.options
    wanted = (options.get("name") or options.get("model") or ctx.request.text).strip()
    choices = await model_choices(ctx)
    if wanted:
        match = next((m for m in choices if m == wanted), None)
        match = match or next((m for m in choices if m.lower() == wanted.lower()), None)
        if match is not None:
            await _set_model(ctx, match)
            return
        if not is_allowed(wanted, ctx.services.settings.allowed_models):
            raise UserError("chat.model_not_allowed", model=wanted, models=_listing(choices))
        raise UserError("chat.model_unknown", model=wanted, models=_listing(choices))
    current = chosen_model(ctx)
    if not choices:
        await ctx.reply(text_reply("\n\n".join(
            [ctx.t("chat.model_current", model=current), ctx.t("chat.model_none")])))
        return
    on_buttons = choices[: BUTTONS_PER_ROW * MAX_BUTTON_ROWS]
    expires = time.time() + ctx.services.settings.button_token_ttl_s
    tokens = await ctx.services.store.issue_tokens([
        ButtonAction("model", None, ctx.actor.user_id, ctx.actor.platform, model, expires)
        for model in on_buttons
    ])
    buttons = [
        Button(token, model, "✅" if model == current else "")
        for token, model in zip(tokens, on_buttons, strict=True)
    ]
    rows = tuple(
        tuple(buttons[i : i + BUTTONS_PER_ROW]) for i in range(0, len(buttons), BUTTONS_PER_ROW)
    )
    text = "\n\n".join([
        ctx.t("chat.model_current", model=current),
        ctx.t("chat.model_choices", models=", ".join(choices)),
        ctx.t("chat.model_pick"),
    ])
    await ctx.reply(text_reply(text, rows))


async def model_button(ctx: CommandContext, action: ButtonAction) -> None:
    """A model button: set it, unless the operator has since disallowed it."""
    allowed = ctx.services.settings.allowed_models
    if not is_allowed(action.payload, allowed):
        choices = await model_choices(ctx)
        raise UserError("chat.model_not_allowed", model=action.payload, models=_listing(choices))
    await _set_model(ctx, action.payload)


SPEC = CommandSpec(
    "model",
    "Show or choose the AI model for your questions",
    model_command,
    params=(Param("name", "text", "Model name, e.g. gpt-4o-mini", suggests=True),),
    suggest=suggest_models,
)
