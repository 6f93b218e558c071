"""The commands and button kinds the bot offers: two literal tables, in help order."""

from __future__ import annotations

from bot.commands import (
    ask,
    blend,
    describe,
    help,
    imagine,
    jobs,
    lang,
    mj_buttons,
    model,
    reset,
    settings,
    shorten,
    speak,
    stats,
    swapface,
    transcribe,
    usage,
)
from bot.commands.registry import ButtonKind, button_table, command_table

# In the order /help and command menus show them.
COMMANDS = command_table(
    ask.SPEC,
    reset.SPEC,
    model.SPEC,
    imagine.SPEC,
    describe.SPEC,
    blend.SPEC,
    swapface.SPEC,
    shorten.SPEC,
    jobs.SPEC,
    transcribe.SPEC,
    speak.SPEC,
    usage.SPEC,
    lang.SPEC,
    settings.SPEC,
    stats.SPEC,
    help.SPEC,
)

# What a button token's kind does (storage.base.ButtonAction.kind).
BUTTONS = button_table(
    ButtonKind(
        "mj",
        press=mj_buttons.press_action,
        prompt=mj_buttons.prompt_action,
        submit=mj_buttons.submit_action,
        needs="imagine",
    ),
    ButtonKind("again", press=mj_buttons.press_again, needs="imagine"),
    ButtonKind(
        "remix", prompt=mj_buttons.prompt_remix, submit=mj_buttons.submit_remix, needs="imagine"
    ),
    ButtonKind("seed", press=mj_buttons.press_seed, needs="imagine"),
    ButtonKind("imagine", press=imagine.press_imagine, needs="imagine"),
    ButtonKind("model", press=model.model_button, needs="model"),
)
