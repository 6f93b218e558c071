"""The commands and button kinds the bot offers: two literal tables, in help order."""

from __future__ import annotations

from bot.commands import (
    ask,
    blend,
    describe,
    help,
    imagine,
    mj_buttons,
    model,
    reset,
    shorten,
    speak,
    swapface,
    transcribe,
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
    transcribe.SPEC,
    speak.SPEC,
    help.SPEC,
)

# What a button token's kind does (storage.base.ButtonAction.kind).
BUTTONS = button_table(
    ButtonKind(
        "mj",
        press=mj_buttons.press_action,
        prompt=mj_buttons.prompt_action,
        submit=mj_buttons.submit_action,
    ),
    ButtonKind("remix", prompt=mj_buttons.prompt_remix, submit=mj_buttons.submit_remix),
    ButtonKind("seed", press=mj_buttons.press_seed),
    ButtonKind("imagine", press=imagine.press_imagine),
    ButtonKind("model", press=model.model_button),
)
