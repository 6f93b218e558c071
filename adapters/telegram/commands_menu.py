"""The command menu Telegram shows (setMyCommands): English by default, Chinese for zh users."""

from __future__ import annotations

import logging
import re

from telegram import Bot as PtbBot
from telegram import BotCommand, BotCommandScopeDefault

from adapters.telegram.redact import redact
from bot.inbound import Inbound

log = logging.getLogger(__name__)

# Telegram's rules for a command name; others are left out of the menu (still typeable).
_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_COMMANDS = 100
MAX_DESCRIPTION = 256
# language_code -> the core's catalog; None is the default every other language sees.
MENU_LANGUAGES: dict[str | None, str] = {None: "en", "zh": "zh"}


def bot_commands(inbound: Inbound, language: str) -> list[BotCommand]:
    """The core's commands as Telegram menu entries in `language` (names Telegram accepts)."""
    out = []
    for info in inbound.commands(language):
        if _NAME.match(info.name) and info.description.strip():
            out.append(BotCommand(info.name, info.description[:MAX_DESCRIPTION]))
    return out[:MAX_COMMANDS]


async def register_commands(bot: PtbBot, inbound: Inbound) -> None:
    """Set the menus; a failure is logged (the commands work typed anyway)."""
    for code, language in MENU_LANGUAGES.items():
        try:
            await bot.set_my_commands(
                bot_commands(inbound, language), scope=BotCommandScopeDefault(),
                language_code=code,
            )
        except Exception as exc:
            log.warning("setMyCommands (%s) failed: %s", code or "default", redact(repr(exc)))
