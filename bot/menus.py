"""What adapters put in command menus: the commands this gateway serves, described in the
user's language, and the values to suggest while a parameter is typed (Discord autocomplete)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from bot.commands.registry import CommandTable
from bot.inbound import CommandInfo
from bot.offers import offers
from bot.services import Services

log = logging.getLogger(__name__)

MAX_SUGGESTIONS = 25  # Discord's autocomplete limit
SUGGESTIONS_TTL_S = 60.0  # autocomplete asks on every keystroke: the candidates are kept a while


class Menus:
    """The command menu and suggestions for one command table."""

    def __init__(self, services: Services, commands_table: CommandTable) -> None:
        self.services = services
        self.commands_table = commands_table
        self._candidates: dict[tuple[str, str], tuple[float, list[str]]] = {}

    def commands(self, language: str) -> list[CommandInfo]:
        """The visible commands, described in `language` where the catalog has it."""
        catalog = self.services.catalog
        infos: list[CommandInfo] = []
        for spec in self.commands_table.specs():
            if spec.hidden or not offers(self.services, spec.name):
                continue
            key = f"help.cmd.{spec.name}"
            description = (
                catalog.t(language, key) if catalog.has(language, key) else spec.description
            )
            infos.append(CommandInfo(spec.name, description, spec.params, spec.aliases))
        return infos

    async def suggest(self, command: str, param: str, typed: str) -> list[str]:
        """Values to suggest while `param` of `command` is typed, at most MAX_SUGGESTIONS."""
        spec = self.commands_table.get(command)
        if spec is None or spec.suggest is None:
            return []
        try:
            candidates = await self._suggestion_candidates(spec.name, param, spec.suggest)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("no suggestions for /%s %s: %r", command, param, exc)
            return []
        wanted = typed.strip().lower()
        starts = [c for c in candidates if c.lower().startswith(wanted)]
        inside = [c for c in candidates if wanted in c.lower() and c not in starts]
        return (starts + inside)[:MAX_SUGGESTIONS]

    async def _suggestion_candidates(
        self, command: str, param: str, source: Callable[[Services, str], Awaitable[list[str]]]
    ) -> list[str]:
        key = (command, param)
        cached = self._candidates.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        candidates = await source(self.services, param)
        self._candidates[key] = (time.monotonic() + SUGGESTIONS_TTL_S, candidates)
        return candidates
