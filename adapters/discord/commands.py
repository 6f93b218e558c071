"""The core's commands as Discord app commands, with English and Chinese localizations.

Built from `Inbound.commands(language)`: each parameter becomes an option (text -> string,
image/audio -> attachment, choice -> string with choices, flag -> boolean, several images ->
its slot names, else `image1..imageN`). Descriptions and choice names are localized through
a `Translator`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Optional

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from adapters.discord.interactions import Given, Interactions
from adapters.discord.texts import TEXTS
from bot.inbound import CommandInfo, ParamInfo

CHINESE = (discord.Locale.chinese, discord.Locale.taiwan_chinese)
TYPES: dict[str, type] = {"text": str, "choice": str, "flag": bool,
                          "image": discord.Attachment, "audio": discord.Attachment}


@dataclass(frozen=True, slots=True)
class Option:
    """One Discord option and the core parameter it fills."""

    name: str
    param: ParamInfo
    required: bool


def options_of(info: CommandInfo) -> list[Option]:
    """Options for a command: required ones first (Discord's rule), names <= 32 characters."""
    found: list[Option] = []
    for param in info.params:
        if param.count > 1:
            stem = param.name[:-1] if param.name.endswith("s") else param.name
            # The first two of a multi-image parameter are required (/blend, /swapface need 2).
            need = min(param.count, 2) if param.required else 0
            names = [param.names[i - 1] if i <= len(param.names) else f"{stem}{i}"
                     for i in range(1, param.count + 1)]
            found += [Option(n[:32], param, i <= need) for i, n in enumerate(names, start=1)]
        else:
            found.append(Option(param.name[:32], param, param.required))
    return sorted(found, key=lambda o: not o.required)


class Localizer(app_commands.Translator):
    """Chinese for command descriptions, option descriptions and choice names."""

    def __init__(self, chinese: dict[str, str]) -> None:
        self._chinese = chinese

    async def translate(self, string: locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        if locale not in CHINESE:
            return None
        return self._chinese.get(str(string.extras.get("key", "")))


def chinese_table(english: list[CommandInfo], chinese: list[CommandInfo]) -> dict[str, str]:
    """Translation keys -> Chinese text, where the core's Chinese differs from its English."""
    by_name = {c.name: c for c in chinese}
    table: dict[str, str] = {"menu.transcribe": TEXTS["zh"]["transcribe"]}
    for info in english:
        zh = by_name.get(info.name)
        if zh is None:
            continue
        table[f"{info.name}"] = zh.description[:100]
        zh_params = {p.name: p for p in zh.params}
        for param in info.params:
            zp = zh_params.get(param.name)
            if zp is None:
                continue
            table[f"{info.name}.{param.name}"] = zp.description[:100]
            for value, zh_value in zip(param.choices, zp.choices, strict=False):
                table[f"{info.name}.{param.name}.{value}"] = zh_value[:100]
    return table


def build_command(info: CommandInfo, handler: Interactions) -> app_commands.Command[Any, Any, Any]:
    """One app command whose callback hands the options to `handler.command`."""
    options = options_of(info)

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        given = [Given(o.param, values.get(o.name)) for o in options]
        await handler.command(interaction, info.name, given)

    # discord.py reads the options from the callback's signature.
    parameters = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=discord.Interaction)]
    for option in options:
        kind = TYPES[option.param.kind]
        parameters.append(inspect.Parameter(
            option.name, inspect.Parameter.KEYWORD_ONLY,
            annotation=kind if option.required else Optional[kind],  # noqa: UP045
            default=inspect.Parameter.empty if option.required else None))
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]

    described = {o.name: locale_str((o.param.description or o.name)[:100],
                                    key=f"{info.name}.{o.param.name}") for o in options}
    decorated: Any = app_commands.describe(**described)(callback)
    choices = {o.name: [Choice(name=locale_str(c[:100], key=f"{info.name}.{o.param.name}.{c}"),
                               value=c) for c in o.param.choices[:25]]
               for o in options if o.param.kind == "choice" and o.param.choices}
    if choices:
        decorated = app_commands.choices(**choices)(decorated)
    completers = {o.name: _completer(handler, info.name, o.param.name)
                  for o in options if o.param.suggests and o.param.kind == "text"}
    if completers:
        decorated = app_commands.autocomplete(**completers)(decorated)
    return app_commands.Command(
        name=info.name[:32].lower(),
        description=locale_str((info.description or info.name)[:100], key=info.name),
        callback=decorated)


def _completer(handler: Interactions, command: str, param: str
               ) -> Callable[[discord.Interaction[Any], str],
                             Coroutine[Any, Any, list[Choice[str]]]]:
    async def complete(interaction: discord.Interaction[Any], current: str
                       ) -> list[Choice[str]]:
        values = await handler.suggest(interaction, command, param, current)
        return [Choice(name=v, value=v) for v in values]
    return complete


def transcribe_menu(handler: Interactions) -> app_commands.ContextMenu:
    """The message context-menu command "Transcribe"."""
    async def transcribe(interaction: discord.Interaction[Any], message: discord.Message) -> None:
        await handler.transcribe_menu(interaction, message)

    return app_commands.ContextMenu(
        name=locale_str(TEXTS["en"]["transcribe"], key="menu.transcribe"), callback=transcribe)
