"""The command table: names, parameters and handlers, which adapters turn into native commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from bot.core import CommandContext

Handler = Callable[["CommandContext"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a command, so adapters can build slash-command options.

    `text` is the free text after the command; attachments come as `image`/`audio` params;
    `choice` and `flag` travel in `CommandRequest.options` under `name`.
    """

    name: str
    kind: Literal["text", "image", "audio", "choice", "flag"]
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    count: int = 1  # how many attachments of this kind the platform should offer


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command the bot offers."""

    name: str
    description: str  # short English description for command menus (≤ 100 chars)
    handler: Handler
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    hidden: bool = False


@dataclass(slots=True)
class CommandTable:
    """Lookup by name or alias; keeps insertion order for /help and command menus."""

    _by_name: dict[str, CommandSpec] = field(default_factory=dict)

    def add(self, spec: CommandSpec) -> None:
        for name in (spec.name, *spec.aliases):
            if name in self._by_name:
                raise ValueError(f"command name {name!r} registered twice")
            self._by_name[name] = spec

    def get(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name.lower().lstrip("/"))

    def specs(self) -> list[CommandSpec]:
        """Every command once, in registration order."""
        seen: dict[str, CommandSpec] = {}
        for spec in self._by_name.values():
            seen.setdefault(spec.name, spec)
        return list(seen.values())
