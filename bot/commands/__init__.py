"""One module per command. Each may define `COMMANDS: list[CommandSpec]` and
`BUTTONS: dict[str, ButtonHandler]` (button kind -> handler); `load_commands` collects them."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from bot.commands.registry import CommandSpec, CommandTable

if TYPE_CHECKING:
    from bot.core import ButtonHandler

# Order of /help and of command menus; modules not named here come after, alphabetically.
HELP_ORDER = (
    "ask",
    "reset",
    "model",
    "imagine",
    "describe",
    "blend",
    "swapface",
    "shorten",
    "transcribe",
    "speak",
    "help",
)
_NOT_COMMANDS = {"registry"}


def load_commands() -> tuple[CommandTable, dict[str, ButtonHandler]]:
    """Import every command module and collect its commands and button handlers."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_COMMANDS]
    rank = {name: i for i, name in enumerate(HELP_ORDER)}
    names.sort(key=lambda n: (rank.get(n, len(rank)), n))
    table = CommandTable()
    buttons: dict[str, ButtonHandler] = {}
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        specs: list[CommandSpec] = getattr(module, "COMMANDS", [])
        for spec in specs:
            table.add(spec)
        for kind, handler in getattr(module, "BUTTONS", {}).items():
            if kind in buttons:
                raise ValueError(f"button kind {kind!r} registered twice")
            buttons[kind] = handler
    return table, buttons
