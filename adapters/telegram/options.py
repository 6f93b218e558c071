"""Command options typed as words: `/imagine a fox engine:dalle`, `/speak hi voice:nova`.

Telegram has no option fields, so a choice or flag parameter of a command is written as
`name:value` (the console's syntax too). Other words, Midjourney's `--ar 16:9` included, stay
in the text.
"""

from __future__ import annotations

import re

from bot.inbound import CommandInfo, ParamInfo

_OPTION = re.compile(r"^([A-Za-z_][\w-]*):(\S+)$")
_FLAGS = {
    "yes": "true", "y": "true", "true": "true", "on": "true", "1": "true",
    "no": "false", "n": "false", "false": "false", "off": "false", "0": "false",
}


class BadOption(Exception):
    """An option word with a value the parameter does not take; `choices` lists what it does."""

    def __init__(self, name: str, value: str, choices: tuple[str, ...]) -> None:
        super().__init__(f"{name}:{value}")
        self.name, self.value, self.choices = name, value, choices


def split_options(text: str, spec: CommandInfo | None) -> tuple[str, dict[str, str]]:
    """The text without its option words, and the options by parameter name."""
    if spec is None:
        return text, {}
    params = {p.name.lower(): p for p in spec.params if p.kind in ("choice", "flag")}
    if not params:
        return text, {}
    kept: list[str] = []
    options: dict[str, str] = {}
    for word in text.split(" "):
        match = _OPTION.match(word)
        param = params.get(match.group(1).lower()) if match else None
        if match is None or param is None:
            kept.append(word)
            continue
        options[param.name] = _value(param, match.group(2))
    return " ".join(kept).strip(), options


def _value(param: ParamInfo, value: str) -> str:
    if param.kind == "flag":
        normal = _FLAGS.get(value.lower())
        if normal is None:
            raise BadOption(param.name, value, ("yes", "no"))
        return normal
    for choice in param.choices:
        if choice.lower() == value.lower():
            return choice
    if not param.choices:
        return value
    raise BadOption(param.name, value, param.choices)
