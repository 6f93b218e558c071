"""The console on a terminal: a line editor (prompt_toolkit) with history kept across runs,
completion, and everything else printed above the line being typed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

from prompt_toolkit import PromptSession
from prompt_toolkit.application import get_app_or_none, get_app_session, run_in_terminal
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import FileHistory, History, InMemoryHistory
from prompt_toolkit.output import Output
from prompt_toolkit.patch_stdout import StdoutProxy
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from adapters.console import texts
from adapters.console.completion import ConsoleCompleter
from bot.inbound import CommandInfo

log = logging.getLogger(__name__)

HISTORY_FILE_NAME = "console_history"
# Where the history goes when the database is not a file (PostgreSQL, in-memory SQLite).
DEFAULT_DATA_DIR = Path("data")


def history_path(database_url: str, configured: str = "") -> Path:
    """The history file: `configured` when set, else next to the SQLite file, else ./data/."""
    if configured:
        return Path(configured).expanduser()
    try:
        url = make_url(database_url)
    except ArgumentError:
        return DEFAULT_DATA_DIR / HISTORY_FILE_NAME
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return DEFAULT_DATA_DIR / HISTORY_FILE_NAME
    if database.startswith("file:"):  # a URI filename (`?uri=true`)
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database).expanduser().parent / HISTORY_FILE_NAME


class _KeptHistory(FileHistory):
    """The history file, where one that cannot be read or written costs the history, not the
    session (a read-only data folder, a full disk)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._path = path
        self._warned = False

    def load_history_strings(self) -> list[str]:
        try:
            return list(super().load_history_strings())
        except (OSError, ValueError):
            log.warning("console history %s could not be read", self._path, exc_info=True)
            return []

    def append_string(self, string: str) -> None:
        super().append_string(replace_undecodable(string))

    def store_string(self, string: str) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            super().store_string(string)
        except OSError:
            if not self._warned:
                self._warned = True
                log.warning("console history %s could not be written", self._path, exc_info=True)


class _SessionHistory(InMemoryHistory):
    """History for this session only (no file), in the same form as the kept one."""

    def append_string(self, string: str) -> None:
        super().append_string(replace_undecodable(string))


class _AbovePrompt:
    """The renderer's stream: straight to the terminal, or, while the line editor is shown,
    whole lines printed above it (the editor is erased, the lines written, the editor redrawn).

    Writing straight when no editor is up keeps the order of the output and leaves nothing to
    print once the editor is back, when keys are being typed."""

    def __init__(self, output: Output) -> None:
        self._output = output
        self._held = ""  # the start of a line written while the editor is up
        self._printing: set[asyncio.Future[None]] = set()  # the loop holds tasks weakly

    def write(self, text: str) -> int:
        app = get_app_or_none()
        if app is None or not app.is_running:
            self._emit(self._held + text)
            self._held = ""
            return len(text)
        lines, newline, self._held = (self._held + text).rpartition("\n")
        if newline:
            printing = asyncio.ensure_future(run_in_terminal(lambda: self._emit(lines + newline)))
            self._printing.add(printing)
            printing.add_done_callback(self._printing.discard)
        return len(text)

    def flush(self) -> None:
        # The renderer ends its lines while the editor is up; a partial one waits for its end.
        return None

    def fileno(self) -> int:
        return self._output.fileno()

    def _emit(self, text: str) -> None:
        if text:
            self._output.enable_autowrap()  # the editor turns it off while drawing itself
            self._output.write_raw(text)
            self._output.flush()


class Terminal:
    """Reads lines with a prompt at the bottom of the terminal; `output` prints above it."""

    def __init__(
        self, menu: Sequence[CommandInfo], *, history_file: Path | None, prompt: str = texts.PROMPT
    ) -> None:
        history: History = _SessionHistory() if history_file is None else _KeptHistory(history_file)
        self._prompt = prompt
        self._session: PromptSession[str] = PromptSession(
            history=history,
            completer=ConsoleCompleter(menu),
            # The menu pops up while a command name is typed; paths complete on Tab.
            complete_while_typing=Condition(self._typing_command_name),
            complete_in_thread=True,  # path completion lists folders: not on the event loop
            enable_open_in_editor=False,
        )
        self.output = cast(TextIO, _AbovePrompt(get_app_session().output))
        # Log records may come from any thread: the proxy takes them to the loop.
        self._proxy = StdoutProxy(raw=True)
        self._logs: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []

    def _typing_command_name(self) -> bool:
        text = self._session.default_buffer.document.text_before_cursor
        return text.startswith("/") and not any(c.isspace() for c in text)

    def start(self) -> None:
        """Log records meant for this terminal print above the prompt too."""
        terminal_streams = {id(s) for s in (sys.stderr, sys.stdout) if _isatty(s)}
        for handler in logging.getLogger().handlers:
            if not isinstance(handler, logging.StreamHandler):
                continue
            if id(handler.stream) in terminal_streams:
                previous = handler.setStream(cast(TextIO, self._proxy))
                if previous is not None:
                    self._logs.append((handler, previous))

    async def read(self, default: str = "") -> str | None:
        """The next line typed (Enter); None at Ctrl-D on an empty line. Ctrl-C drops the line
        being typed and asks again."""
        while True:
            try:
                line = await self._session.prompt_async(self._prompt, default=default)
            except KeyboardInterrupt:
                continue
            except EOFError:
                return None
            return replace_undecodable(line)

    def close(self) -> None:
        """Print what is still buffered and give the log back its stream."""
        for handler, stream in self._logs:
            handler.setStream(stream)
        self._logs.clear()
        with contextlib.suppress(OSError, ValueError):
            self._proxy.flush()
            self._proxy.close()


def replace_undecodable(text: str) -> str:
    """Bytes typed that were not UTF-8 (the editor keeps them as lone surrogates, which cannot
    be stored or sent) become U+FFFD, as they do in piped input."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False
