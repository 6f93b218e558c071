"""Console input: one typed line becomes a command, a plain message, a button press, or a quit."""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from adapters.console import texts
from bot.inbound import Attachment, CommandInfo, ParamInfo


@dataclass(frozen=True, slots=True)
class CommandLine:
    """`/name text... @file name:value`: a command for the core."""

    command: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageLine:
    """Text without a leading slash (and maybe attachments): a plain chat message."""

    text: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class PressLine:
    """`3` or `/press 3`: press the button shown as [3]."""

    number: int


@dataclass(frozen=True, slots=True)
class QuitLine:
    """`/quit`: end the session."""


@dataclass(frozen=True, slots=True)
class EmptyLine:
    """Nothing typed."""


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line the console itself cannot make sense of; `message` says why."""

    message: str


ParsedLine = CommandLine | MessageLine | PressLine | QuitLine | EmptyLine | BadLine

# Above every limit the core applies (images 10 MiB, audio 25 MiB): refuse before reading it all.
MAX_ATTACHMENT_BYTES = 50 * 2**20
QUIT_COMMANDS = frozenset({"quit", "exit"})
CANCEL_COMMAND = "cancel"

# `@"a file.png"` and `@'a file.png'` allow spaces in paths; anything else is split on whitespace.
_TOKEN = re.compile(r"""@"[^"]*"|@'[^']*'|\S+""")
_OPTION = re.compile(r"^([A-Za-z_][\w-]*):(.*)$", re.DOTALL)
_NUMBER = re.compile(r"^\d{1,9}$")
_FLAG_VALUES = {
    "yes": "true", "y": "true", "true": "true", "on": "true", "1": "true",
    "no": "false", "n": "false", "false": "false", "off": "false", "0": "false",
}  # fmt: skip
# Types `mimetypes` misses on some systems; the core sniffs the bytes anyway.
_EXTRA_TYPES = {
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".webp": "image/webp",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
}


class _Refused(Exception):
    """Raised inside the parser to turn a line into a BadLine."""


def parse_line(
    line: str, commands: Sequence[CommandInfo], *, cwd: Path | None = None
) -> ParsedLine:
    """Classify one input line and read its `@file` attachments (`commands`: the bot's menu).

    Reads files, so call it off the event loop (`asyncio.to_thread`). Never raises.
    """
    line = line.strip()
    if not line:
        return EmptyLine()
    if _NUMBER.match(line):
        return PressLine(int(line))
    try:
        by_name = {name: c for c in commands for name in (c.name, *c.aliases)}
        return _parse(line, by_name, cwd or Path.cwd())
    except _Refused as exc:
        return BadLine(str(exc))


def _parse(line: str, commands: dict[str, CommandInfo], cwd: Path) -> ParsedLine:
    tokens = _TOKEN.findall(line)
    if not line.startswith("/") or len(tokens[0]) < 2:
        words, attachments = _split_attachments(tokens, cwd)
        return MessageLine(" ".join(words), attachments)
    name = tokens[0][1:].lower()
    rest = tokens[1:]
    if name in QUIT_COMMANDS:
        return QuitLine()
    if name == "press":
        if len(rest) != 1 or not _NUMBER.match(rest[0]):
            raise _Refused(texts.say("press_usage"))
        return PressLine(int(rest[0]))
    if name == CANCEL_COMMAND and commands.get(name) is None:
        raise _Refused(texts.say("nothing_to_cancel"))
    words, attachments = _split_attachments(rest, cwd)
    spec = commands.get(name)
    options: dict[str, str] = {}
    if spec is not None:
        words, options = _split_options(words, spec)
    return CommandLine(name, " ".join(words), attachments, options)


def _split_attachments(tokens: list[str], cwd: Path) -> tuple[list[str], tuple[Attachment, ...]]:
    words: list[str] = []
    attachments: list[Attachment] = []
    for token in tokens:
        attachment = _attachment(token, cwd)
        if attachment is None:
            words.append(token)
        else:
            attachments.append(attachment)
    return words, tuple(attachments)


def _attachment(token: str, cwd: Path) -> Attachment | None:
    """The file an `@path` token names, None when the token is just a word (`@alice`)."""
    if len(token) < 2 or not token.startswith("@"):
        return None
    raw = token[1:]
    quoted = raw[:1] in {'"', "'"}
    if quoted:
        raw = raw[1:-1]
    path = Path(os.path.expanduser(raw))
    if not path.is_absolute():
        path = cwd / path
    looks_like_path = quoted or "/" in raw or os.sep in raw or bool(Path(raw).suffix)
    if not looks_like_path and not path.is_file():
        return None
    if not path.exists():
        raise _Refused(texts.say("no_such_file", path=raw))
    if not path.is_file():
        raise _Refused(texts.say("not_a_file", path=raw))
    try:
        size = path.stat().st_size
        if size > MAX_ATTACHMENT_BYTES:
            limit = MAX_ATTACHMENT_BYTES // 2**20
            raise _Refused(texts.say("file_too_big", path=raw, size=size // 2**20, limit=limit))
        data = path.read_bytes()
    except OSError as exc:
        raise _Refused(texts.say("unreadable_file", path=raw, reason=exc.strerror or exc)) from None
    return Attachment(data=data, mime=guess_mime(path.name), filename=path.name)


def guess_mime(filename: str) -> str:
    """The MIME type from a file name's extension (a hint: the core sniffs the bytes)."""
    suffix = Path(filename).suffix.lower()
    return (
        _EXTRA_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    )


def _split_options(words: list[str], spec: CommandInfo) -> tuple[list[str], dict[str, str]]:
    """Take `name:value` words whose name is a choice/flag param of the command."""
    params = {p.name.lower(): p for p in spec.params if p.kind in ("choice", "flag")}
    kept: list[str] = []
    options: dict[str, str] = {}
    for word in words:
        match = _OPTION.match(word)
        param = params.get(match.group(1).lower()) if match else None
        if match is None or param is None:
            kept.append(word)
            continue
        options[param.name] = _option_value(param, match.group(2))
    return kept, options


def _option_value(param: ParamInfo, value: str) -> str:
    if not value:
        example = param.choices[0] if param.choices else "yes"
        raise _Refused(texts.say("option_needs_value", name=param.name, example=example))
    if param.kind == "flag":
        normal = _FLAG_VALUES.get(value.lower())
        if normal is None:
            raise _Refused(texts.say("option_bad_flag", name=param.name, value=value))
        return normal
    if not param.choices:
        return value
    for choice in param.choices:
        if choice.lower() == value.lower():
            return choice
    choices = ", ".join(param.choices)
    raise _Refused(texts.say("option_bad_choice", name=param.name, value=value, choices=choices))
