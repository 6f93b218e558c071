"""The console adapter: a terminal chat with the bot, reading lines from stdin."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from adapters.console import texts
from adapters.console.buttons import ButtonBoard, PlacedButton
from adapters.console.inbound import (
    CANCEL_COMMAND,
    QUIT_COMMANDS,
    BadLine,
    CommandLine,
    EmptyLine,
    MessageLine,
    ParsedLine,
    PressLine,
    QuitLine,
    parse_line,
)
from adapters.console.render import Renderer
from bot.channel import Actor, ChatRef, CommandRequest, MessageRef
from bot.core import Bot
from bot.replies import Progress, Reply, TextRequest

log = logging.getLogger(__name__)

PLATFORM = "console"
PRESS_WAIT_S = 120.0
IDLE_WAIT_S = 300.0
# While waiting for a button, how often to check that some job could still show it.
WORK_CHECK_S = 0.5


@dataclass(slots=True)
class _Ask:
    request: TextRequest
    answer: asyncio.Future[str | None]


def local_user() -> str:
    """The login name of whoever runs the console."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no passwd entry and no $USER (some containers)
        return "local"


class _LineReader:
    """Reads stdin in a daemon thread so a blocked read never holds the event loop or the exit."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        thread = threading.Thread(
            target=self._pump, args=(loop,), name="console-stdin", daemon=True
        )
        thread.start()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while line := self._stream.readline():
                loop.call_soon_threadsafe(self._lines.put_nowait, line)
        except (OSError, ValueError):
            log.exception("stdin could not be read")
        finally:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(self._lines.put_nowait, None)

    async def next(self) -> str | None:
        """The next line without its line break; None at end of input."""
        line = await self._lines.get()
        return None if line is None else line.rstrip("\r\n")


class ConsoleAdapter:
    """Implements the Channel protocol on a terminal and feeds typed lines to the core."""

    platform = PLATFORM

    def __init__(
        self,
        bot: Bot,
        *,
        stdin: TextIO,
        stdout: TextIO,
        output_dir: str | Path | None = None,
        user: str | None = None,
        press_wait_s: float = PRESS_WAIT_S,
        idle_wait_s: float = IDLE_WAIT_S,
        interactive: bool | None = None,
    ) -> None:
        self.bot = bot
        self.stdin = stdin
        self.interactive = _isatty(stdin) if interactive is None else interactive
        self.press_wait_s = press_wait_s
        self.idle_wait_s = idle_wait_s
        name = user or local_user()
        self.actor = Actor(PLATFORM, name, name=name)
        self.chat = ChatRef(PLATFORM, "local", is_private=True)
        directory = output_dir or bot.services.settings.console_output_dir
        texts.use_language(bot.services.settings.language)
        self.board = ButtonBoard()
        self.renderer = Renderer(
            _tolerant(stdout), Path(directory), self.board, redraw=_isatty(stdout)
        )
        self._ids = itertools.count(1)
        self._asks: deque[_Ask] = deque()
        self._asked = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._input_closed = False

    # --- Channel protocol -------------------------------------------------------------
    async def send(self, chat: ChatRef, reply: Reply) -> MessageRef:
        ref = self._new_ref(chat)
        await self.renderer.show(ref, reply)
        return ref

    async def edit(self, message: MessageRef, reply: Reply) -> MessageRef:
        await self.renderer.show(message, reply)
        return message

    async def progress(
        self, message: MessageRef | None, chat: ChatRef, state: Progress
    ) -> MessageRef:
        ref = message or self._new_ref(chat)
        await self.renderer.show_progress(ref, state)
        return ref

    async def ask_text(self, chat: ChatRef, actor: Actor, request: TextRequest) -> str | None:
        if self._input_closed:
            return None
        ask = _Ask(request, asyncio.get_running_loop().create_future())
        self._asks.append(ask)
        if len(self._asks) == 1:
            self.renderer.ask(request)
        self._asked.set()
        try:
            return await ask.answer
        finally:
            if ask in self._asks:
                self._asks.remove(ask)
                self._after_answer()

    def _new_ref(self, chat: ChatRef) -> MessageRef:
        return MessageRef(chat, str(next(self._ids)))

    # --- session ----------------------------------------------------------------------
    def notice(self, text: str) -> None:
        """Print a line from the application itself (not the bot), e.g. that the sandbox is used."""
        self.renderer.notice(text)

    async def run(self) -> int:
        """Read and handle lines until /quit or end of input; returns the exit status."""
        reader = _LineReader(self.stdin)
        reader.start()
        quit_now = False
        try:
            while True:
                await self._settle()
                if self.renderer.closed:
                    break
                if self.interactive and not self._asks:
                    self.renderer.prompt()
                line = await reader.next()
                if line is None:
                    break
                if self.renderer.redraw:
                    self.renderer.typed()
                if self._asks:
                    if self._answer(line):
                        quit_now = True
                        break
                    continue
                parsed = await asyncio.to_thread(parse_line, line, self.bot.services.commands)
                if isinstance(parsed, QuitLine):
                    quit_now = True
                    break
                self._start(self._handle(parsed))
            await self._end(drain=not quit_now and not self.renderer.closed)
        finally:
            for task in self._inflight:
                task.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)
            self.renderer.finish()
        return 0

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _settle(self) -> None:
        """Wait until the last line's work is done, or it asks for text (the next line answers)."""
        while self._inflight and not self._asks:
            self._asked.clear()
            asked = asyncio.ensure_future(self._asked.wait())
            try:
                await asyncio.wait({*self._inflight, asked}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                asked.cancel()

    async def _end(self, drain: bool) -> None:
        """Input is over: refuse new asks, and from a pipe let started work and jobs finish."""
        self._input_closed = True
        while self._asks:
            self._resolve(None)
        if not drain:
            return
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=self.idle_wait_s)
        if self.interactive:
            return
        tracker = self.bot.services.tracker
        if tracker is not None and not await tracker.wait_idle(self.idle_wait_s, platform=PLATFORM):
            self.renderer.line(texts.say("still_running", count=tracker.pending_count(PLATFORM)))
        await self._wait_background(set(self.bot.services.background))

    # --- one line ---------------------------------------------------------------------
    async def _handle(self, parsed: ParsedLine) -> None:
        try:
            await self._dispatch(parsed)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("console line failed")
            self.renderer.line(texts.say("line_failed"))

    async def _dispatch(self, parsed: ParsedLine) -> None:
        match parsed:
            case EmptyLine() | QuitLine():
                pass
            case BadLine(message=message):
                self.renderer.line(message)
            case PressLine(number=number):
                await self._press(number)
            case CommandLine():
                request = CommandRequest(
                    actor=self.actor,
                    chat=self.chat,
                    command=parsed.command,
                    text=parsed.text,
                    attachments=parsed.attachments,
                    options=dict(parsed.options),
                )
                await self._with_background(self.bot.handle_command(request, self))
            case MessageLine():
                request = CommandRequest(
                    actor=self.actor,
                    chat=self.chat,
                    command="",
                    text=parsed.text,
                    attachments=parsed.attachments,
                )
                await self._with_background(self.bot.handle_message(request, self))

    async def _press(self, number: int) -> None:
        placed = self.board.get(number)
        if placed is None and await self._work_running():
            self.renderer.line(texts.say("waiting_for_button", number=number))
            placed = await self._wait_for_button(number)
        if placed is None:
            self.renderer.line(texts.say("no_such_button", number=number))
            return
        await self._with_background(
            self.bot.handle_button(self.actor, self.chat, placed.button.token, self, placed.message)
        )

    async def _wait_for_button(self, number: int) -> PlacedButton | None:
        """Wait for button `number` while jobs that could still show it are running (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.press_wait_s
        while (remaining := deadline - loop.time()) > 0:
            placed = await self.board.wait_for(number, min(remaining, WORK_CHECK_S))
            if placed is not None:
                return placed
            if not await self._work_running():
                return self.board.get(number)
        return None

    async def _work_running(self) -> bool:
        """Whether anything started here may still show something (a job, a streamed answer)."""
        services = self.bot.services
        if services.background:
            return True
        # A zero wait answers "is it idle now?", deliveries in flight included.
        return services.tracker is not None and not await services.tracker.wait_idle(
            0, platform=PLATFORM
        )

    async def _with_background(self, handling: Awaitable[None]) -> None:
        """Run a core call, then wait for the background work it started (a streamed answer)."""
        before = set(self.bot.services.background)
        await handling
        await self._wait_background(set(self.bot.services.background) - before)

    async def _wait_background(self, tasks: set[asyncio.Task[None]]) -> None:
        if tasks:
            await asyncio.wait(tasks, timeout=self.idle_wait_s)

    # --- answers to asks --------------------------------------------------------------
    def _answer(self, line: str) -> bool:
        """Give a line to the oldest pending ask; True when the line was /quit."""
        word = line.strip()
        if word.startswith("/") and word[1:].lower() in QUIT_COMMANDS:
            self._resolve(None)
            return True
        request = self._asks[0].request
        if word.lower() == f"/{CANCEL_COMMAND}":
            self._resolve(None)
        elif not word:
            self._resolve(request.default)
        elif len(line) > request.max_length:
            self.renderer.line(
                texts.say("answer_too_long", length=len(line), limit=request.max_length)
            )
            self.renderer.ask(request)
        else:
            self._resolve(line)
        return False

    def _resolve(self, value: str | None) -> None:
        ask = self._asks.popleft()
        if not ask.answer.done():
            ask.answer.set_result(value)
        self._after_answer()

    def _after_answer(self) -> None:
        if self._asks:
            self.renderer.ask(self._asks[0].request)
        else:
            self._asked.clear()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _tolerant(stream: TextIO) -> TextIO:
    """Have a terminal that cannot show a character (emoji on latin-1) print a stand-in for it."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(Exception):
            reconfigure(errors="replace")
    return stream
