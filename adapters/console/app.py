"""The console adapter: a terminal chat with the bot, reading lines from stdin."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import logging
import threading
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

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
from bot.channel import Actor, ChatRef, MessageRef
from bot.inbound import (
    Accepted,
    AskText,
    CommandRequest,
    Inbound,
    Notice,
    Press,
    PressAnswer,
    TextSubmit,
)
from bot.replies import Progress, Reply, TextRequest, text_reply

log = logging.getLogger(__name__)

PLATFORM = "console"
PRESS_WAIT_S = 120.0
IDLE_WAIT_S = 300.0
# While waiting for a button, how often to check that some job could still show it.
WORK_CHECK_S = 0.5


@dataclass(frozen=True, slots=True)
class _Ask:
    """A text request a press opened; the next input line answers it."""

    token: str
    request: TextRequest


class Jobs(Protocol):
    """The task tracker as the console waits for it (jobs still running when input ends)."""

    def pending_count(self, platform: str | None = None) -> int: ...

    async def wait_idle(self, timeout: float, platform: str | None = None) -> bool: ...  # noqa: ASYNC109


class _ConsoleStream:
    """A streamed answer: each offered text is printed as the console gets to it (latest wins)."""

    def __init__(self, adapter: ConsoleAdapter, ref: MessageRef) -> None:
        self._adapter = adapter
        self._ref = ref
        self._latest = ""
        self._shown = ""
        self._printer: asyncio.Task[None] | None = None

    def update(self, markdown: str) -> None:
        self._latest = markdown
        if self._printer is None or self._printer.done():
            self._printer = asyncio.create_task(self._print())

    async def _print(self) -> None:
        while self._latest != self._shown:
            text = self._shown = self._latest
            await self._adapter.renderer.show(self._ref, text_reply(text))

    async def finish(self, reply: Reply) -> MessageRef:
        if self._printer is not None:
            await asyncio.gather(self._printer, return_exceptions=True)
        await self._adapter.renderer.show(self._ref, reply)
        return self._ref


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
        inbound: Inbound,
        *,
        stdin: TextIO,
        stdout: TextIO,
        output_dir: str | Path,
        language: str = "en",
        jobs: Jobs | None = None,
        user: str | None = None,
        press_wait_s: float = PRESS_WAIT_S,
        idle_wait_s: float = IDLE_WAIT_S,
        interactive: bool | None = None,
    ) -> None:
        self.inbound = inbound
        self.jobs = jobs
        self.stdin = stdin
        self.interactive = _isatty(stdin) if interactive is None else interactive
        self.press_wait_s = press_wait_s
        self.idle_wait_s = idle_wait_s
        name = user or local_user()
        self.actor = Actor(PLATFORM, name, name=name)
        self.chat = ChatRef(PLATFORM, "local", is_private=True)
        texts.use_language(language)
        self.menu = inbound.commands(language)
        self.board = ButtonBoard()
        self.renderer = Renderer(
            _tolerant(stdout), Path(output_dir), self.board, redraw=_isatty(stdout)
        )
        self._ids = itertools.count(1)
        self._asks: deque[_Ask] = deque()
        self._inflight: set[asyncio.Task[None]] = set()
        self._input_closed = False

    # --- Channel protocol -------------------------------------------------------------
    async def send(
        self, chat: ChatRef, reply: Reply, *, reply_to: MessageRef | None = None
    ) -> MessageRef:
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

    def open_stream(self, chat: ChatRef, *, reply_to: MessageRef | None = None) -> _ConsoleStream:
        return _ConsoleStream(self, self._new_ref(chat))

    async def delete(self, message: MessageRef) -> None:
        # Printed lines cannot be taken back; what replaces the message is printed anew.
        return None

    async def typing(self, chat: ChatRef) -> None:
        # The console shows no indicator: the answer follows on the next line.
        return None

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
                parsed = await asyncio.to_thread(parse_line, line, self.menu)
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
        """Wait until the last line's work is done (a press that asks for text is done once the
        question is printed: the next line answers it)."""
        while self._inflight:
            await asyncio.wait(set(self._inflight))

    async def _end(self, drain: bool) -> None:
        """Input is over: unanswered asks lapse, and from a pipe started work and jobs finish."""
        self._asks.clear()
        if not drain:
            return
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=self.idle_wait_s)
        await self._drain()
        if self.interactive or self.jobs is None:
            return
        if not await self.jobs.wait_idle(self.idle_wait_s, platform=PLATFORM):
            self.renderer.line(texts.say("still_running", count=self.jobs.pending_count(PLATFORM)))
        await self._drain()

    async def _drain(self) -> None:
        """Wait (bounded) for the work presses and text submits started in the background."""
        try:
            await asyncio.wait_for(self.inbound.drain(), self.idle_wait_s)
        except TimeoutError:
            log.warning("background work still running after %.0f s", self.idle_wait_s)

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
                await self.inbound.handle_command(request, self)
            case MessageLine():
                request = CommandRequest(
                    actor=self.actor,
                    chat=self.chat,
                    command="",
                    text=parsed.text,
                    attachments=parsed.attachments,
                )
                await self.inbound.handle_message(request, self)

    async def _press(self, number: int) -> None:
        placed = self.board.get(number)
        if placed is None and await self._work_running():
            self.renderer.line(texts.say("waiting_for_button", number=number))
            placed = await self._wait_for_button(number)
        if placed is None:
            self.renderer.line(texts.say("no_such_button", number=number))
            return
        press = Press(self.actor, self.chat, placed.button.token, placed.message)
        self._answered(await self.inbound.handle_press(press, self))
        await self._drain()

    def _answered(self, answer: PressAnswer) -> None:
        """Show a press's answer: a notice as a line of its own, a text request as a question."""
        match answer:
            case Accepted(notice=notice):
                if notice:
                    self.renderer.notice(notice)
            case Notice(text=text):
                self.renderer.notice(text)
            case AskText(token=token, request=request):
                self._asks.append(_Ask(token, request))
                if len(self._asks) == 1:
                    self.renderer.ask(request)

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
        """Whether a job started here may still show something."""
        # A zero wait answers "is it idle now?", deliveries in flight included.
        return self.jobs is not None and not await self.jobs.wait_idle(0, platform=PLATFORM)

    # --- answers to asks --------------------------------------------------------------
    def _answer(self, line: str) -> bool:
        """Give a line to the oldest pending ask; True when the line was /quit."""
        word = line.strip()
        if word.startswith("/") and word[1:].lower() in QUIT_COMMANDS:
            self._asks.clear()
            return True
        ask = self._asks[0]
        if word.lower() == f"/{CANCEL_COMMAND}":
            self._next_ask()
            self.renderer.line(texts.say("ask_cancelled"))
            return False
        if len(line) > ask.request.max_length:
            self.renderer.line(
                texts.say("answer_too_long", length=len(line), limit=ask.request.max_length)
            )
            self.renderer.ask(ask.request)
            return False
        self._next_ask()
        submit = TextSubmit(self.actor, self.chat, line if word else ask.request.default, ask.token)
        self._start(self._submit(submit))
        return False

    async def _submit(self, submit: TextSubmit) -> None:
        await self.inbound.handle_text_submit(submit, self)
        await self._drain()

    def _next_ask(self) -> None:
        self._asks.popleft()
        if self._asks:
            self.renderer.ask(self._asks[0].request)


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
