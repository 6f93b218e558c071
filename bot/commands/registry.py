"""The command table: names, parameters and handlers, which adapters turn into native commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.inbound import Attachment, ParamInfo
from bot.media import sniff_audio, sniff_image
from bot.replies import TextRequest
from bot.services import CommandContext, MenuEntry, Services
from storage.base import ButtonAction, PendingText


@dataclass(frozen=True, slots=True)
class Prompt:
    """Text a press needs before its action runs: what for (`mode`) and how to ask."""

    mode: str
    request: TextRequest


Handler = Callable[[CommandContext], Awaitable[None]]
# A press that runs at once (in the background, after the press was answered).
PressHandler = Callable[[CommandContext, ButtonAction], Awaitable[None]]
# Decides quickly (store look-ups only) whether a press needs text first, and which.
PromptHandler = Callable[[CommandContext, ButtonAction], Awaitable[Prompt | None]]
# Completes the action once the text came back.
SubmitHandler = Callable[[CommandContext, PendingText, str], Awaitable[None]]
# Every value worth suggesting for a parameter (the dispatcher filters by what is typed).
Suggester = Callable[[Services, str], Awaitable[list[str]]]


# A command's parameter is exactly what the platforms' menus show of it (bot.inbound.ParamInfo):
# `text` is the free text after the command; attachments come as `image`/`audio` params;
# `choice` and `flag` travel in `CommandRequest.options` under `name`.
Param = ParamInfo


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command the bot offers."""

    name: str
    description: str  # short English description for command menus (≤ 100 chars)
    handler: Handler
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()
    hidden: bool = False
    suggest: Suggester | None = None  # for its params marked `suggests`


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

    def menu(self) -> tuple[MenuEntry, ...]:
        """The visible commands as /help lists them."""
        return tuple(
            MenuEntry(s.name, s.description, s.aliases) for s in self.specs() if not s.hidden
        )

    def specs(self) -> list[CommandSpec]:
        """Every command once, in registration order."""
        seen: dict[str, CommandSpec] = {}
        for spec in self._by_name.values():
            seen.setdefault(spec.name, spec)
        return list(seen.values())


@dataclass(frozen=True, slots=True)
class ButtonKind:
    """What a button token's `kind` does when pressed.

    `press` runs the action; `prompt`, when set, may ask for text first (its answer then goes to
    `submit`). A kind with a prompt that always asks needs no `press`. `needs`: the command
    whose gateway features a press needs (not offered there -> the presser is told so).
    """

    name: str
    press: PressHandler | None = None
    prompt: PromptHandler | None = None
    submit: SubmitHandler | None = None
    needs: str | None = None


def button_table(*kinds: ButtonKind) -> dict[str, ButtonKind]:
    """Kinds by name; a name given twice is a mistake caught at import."""
    table: dict[str, ButtonKind] = {}
    for kind in kinds:
        if kind.name in table:
            raise ValueError(f"button kind {kind.name!r} registered twice")
        table[kind.name] = kind
    return table


def command_table(*specs: CommandSpec) -> CommandTable:
    """A table of the given commands, in the given (help) order."""
    table = CommandTable()
    for spec in specs:
        table.add(spec)
    return table


def split_attachments(
    spec: CommandSpec, attachments: tuple[Attachment, ...]
) -> tuple[tuple[Attachment, ...], tuple[Attachment, ...]]:
    """(usable, unused): an attachment is usable when the command takes its kind (image or
    audio, by its bytes or, failing that, its declared type: a damaged image still reaches the
    command, which says what is wrong with it)."""
    kinds = {p.kind for p in spec.params}
    usable: list[Attachment] = []
    unused: list[Attachment] = []
    for attachment in attachments:
        data = attachment.data
        image = "image" in kinds and (sniff_image(data) is not None or attachment.is_image)
        audio = "audio" in kinds and (sniff_audio(data) is not None or attachment.is_audio)
        (usable if image or audio else unused).append(attachment)
    return tuple(usable), tuple(unused)
