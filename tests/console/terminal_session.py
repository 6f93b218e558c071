"""`modelbridge console` on a pseudo-terminal, seen through a terminal emulator (pyte) the way a
person sees the screen, and typed into key by key."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

COLUMNS, ROWS = 120, 40
# Bounds every wait, so a hang fails the test instead of stalling the suite.
WAIT_BOUND_S = 60.0

UP = "\x1b[A"
CTRL_C = "\x03"
CTRL_D = "\x04"
ENTER = "\r"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


class _Screen(pyte.Screen):
    """A screen that answers the program's questions (cursor position) as a terminal does."""

    def __init__(self, answer: Callable[[str], None]) -> None:
        super().__init__(COLUMNS, ROWS)
        self._answer = answer

    def write_process_input(self, data: str) -> None:
        self._answer(data)


class TerminalSession:
    """One console process on its own pseudo-terminal; `close()` always leaves no process."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self._master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "console"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env={**env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)},
            start_new_session=True,  # the pty becomes its controlling terminal, as in a shell
        )
        os.close(slave)
        self.screen = _Screen(self.type)
        self._stream = pyte.ByteStream(self.screen)
        self.received = b""
        self.exited = False

    def type(self, keys: str | bytes) -> None:
        """Send keys as the keyboard would (arrows and Ctrl keys as their terminal bytes)."""
        os.write(self._master, keys.encode() if isinstance(keys, str) else keys)

    def lines(self) -> list[str]:
        """The visible screen, one string per row, without trailing blanks."""
        return [row.rstrip() for row in self.screen.display]

    def text(self) -> str:
        return "\n".join(self.lines())

    def cursor_line(self) -> str:
        """The row the cursor is on: where the typing shows."""
        return self.lines()[self.screen.cursor.y]

    def pump(self, wait_s: float) -> None:
        """Take in what the program printed within `wait_s` seconds."""
        deadline = time.monotonic() + wait_s
        while not self.exited:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self._master], [], [], left)
            if not ready:
                return
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # every end of the terminal closed: the program has exited
                chunk = b""
            if not chunk:
                self.exited = True
                return
            self.received += chunk
            self._stream.feed(chunk)

    def wait_for(self, seen: Callable[[TerminalSession], bool], what: str) -> None:
        """Read the screen until `seen` holds; fail naming `what` after the bound."""
        deadline = time.monotonic() + WAIT_BOUND_S
        while not seen(self):
            if self.exited or time.monotonic() > deadline:
                raise AssertionError(f"never saw {what}; the screen:\n{self.text()}")
            self.pump(0.2)

    def wait_for_text(self, text: str) -> None:
        self.wait_for(lambda s: text in s.text(), repr(text))

    def wait_for_prompt(self, typed: str = "", *, settle: bool = True) -> None:
        """Until the line editor shows `> ` (and what was typed so far) at the cursor, and (with
        `settle`) the screen has been still for a moment, as a person looks before typing on."""
        self.wait_for(lambda s: s.cursor_line() == f"> {typed}".rstrip(), f"the prompt '> {typed}'")
        if settle:
            self.settle()

    def settle(self, quiet_s: float = 0.3) -> None:
        """Read until nothing has been printed for `quiet_s` seconds (bounded)."""
        deadline = time.monotonic() + WAIT_BOUND_S
        while not self.exited and time.monotonic() < deadline:
            before = len(self.received)
            self.pump(quiet_s)
            if len(self.received) == before:
                return

    def press_until(self, keys: str, seen: Callable[[TerminalSession], bool], what: str) -> None:
        """Type `keys` and wait for `seen`, typing them again (up to three times) when the
        program did not react: a key that comes while output is printed above the line editor
        meets the terminal in cooked mode for that instant and may be lost, as for a person."""
        for _ in range(3):
            self.type(keys)
            deadline = time.monotonic() + 3.0
            while not seen(self) and not self.exited and time.monotonic() < deadline:
                self.pump(0.1)
            if seen(self) or self.exited:
                return
        raise AssertionError(f"never saw {what}; the screen:\n{self.text()}")

    def wait_exit(self) -> int:
        """The exit status, reading the screen meanwhile (a full terminal would block it)."""
        deadline = time.monotonic() + WAIT_BOUND_S
        while self.process.poll() is None and time.monotonic() < deadline:
            self.pump(0.2)
        self.pump(0.2)
        if self.process.poll() is None:
            raise AssertionError(f"the console did not exit; the screen:\n{self.text()}")
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        os.close(self._master)
