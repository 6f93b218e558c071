"""Tab completion at the console prompt: command names, and file paths after `@`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from adapters.console.inbound import CANCEL_COMMAND, QUIT_COMMANDS
from bot.inbound import CommandInfo

# An `@path` being typed at the cursor: `@dir/fi`, or quoted and still open (`@"my fi`).
_OPEN_PATH = re.compile(r"""@(?:(?P<quote>["'])(?P<quoted>[^"']*)|(?P<bare>[^\s"']*))$""")


class ConsoleCompleter(Completer):
    """Completes `/name` in the first word from the bot's menu, and `@path` anywhere after it."""

    def __init__(self, menu: Sequence[CommandInfo]) -> None:
        entries: dict[str, str] = {}
        for command in menu:
            for name in (command.name, *command.aliases):
                entries.setdefault(name, command.description)
        # The console's own words, which are not the bot's commands.
        for name in ("press", *sorted(QUIT_COMMANDS), CANCEL_COMMAND):
            entries.setdefault(name, "")
        self._commands = sorted(entries.items())
        self._paths = PathCompleter(expanduser=True)

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        before = document.text_before_cursor
        if before.startswith("/") and not any(c.isspace() for c in before):
            yield from self._command_names(before)
            return
        opened = _OPEN_PATH.search(before)
        if opened is not None and (opened.start() == 0 or before[opened.start() - 1].isspace()):
            yield from self._file_paths(opened, complete_event)

    def _command_names(self, typed: str) -> Iterable[Completion]:
        prefix = typed[1:].lower()
        for name, description in self._commands:
            if name.startswith(prefix):
                yield Completion(f"/{name}", start_position=-len(typed), display_meta=description)

    def _file_paths(
        self, opened: re.Match[str], complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        quote = opened.group("quote") or ""
        typed = opened.group("quoted") if quote else opened.group("bare")
        for found in self._paths.get_completions(Document(typed), complete_event):
            # A folder is completed with its slash, so the next Tab goes on inside it.
            ending = "/" if found.display_text.endswith("/") else ""
            path = typed[: len(typed) + found.start_position] + found.text + ending
            if not quote and not any(c.isspace() for c in path):
                yield Completion(
                    found.text + ending, start_position=found.start_position, display=found.display
                )
                continue
            # A path with spaces is written quoted, and closed once it names a file.
            mark = quote or '"'
            whole = f"@{mark}{path}{'' if ending else mark}"
            yield Completion(whole, start_position=-(len(opened.group(0))), display=found.display)
