"""Console output: replies as plain text, media saved to files, buttons as numbered choices."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mimetypes
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, assert_never

from adapters.console import texts
from adapters.console.buttons import ButtonBoard
from bot.channel import MessageRef
from bot.replies import Audio, Button, File, Image, Progress, Reply, Text, TextRequest

BAR_CELLS = 10
# A new preview is worth a file only this many percentage points after the last one saved.
PREVIEW_STEP = 25
# A grown text cut off by other output is printed again whole when shorter than this, or else
# continued after "...", so a long answer is not repeated.
REPRINT_LIMIT = 200
# On a terminal, a text this short on one line can be overwritten in place with \r.
ONE_LINE = 60
_AUDIO_SUFFIX = {"opus": ".ogg", "mp3": ".mp3", "wav": ".wav"}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Terminal escape sequences (OSC titles and links, CSI colours and cursor moves, DCS/APC/PM
# strings, two-byte ESC commands, their 8-bit forms), then any control character but \n, \t.
_ESCAPES = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def printable(text: str) -> str:
    """Text from the bot (and so from the upstream) with every terminal escape removed: a
    model's answer must not retitle, clear or recolour the user's terminal."""
    return _ESCAPES.sub("", text)


@dataclass
class _Shown:
    """What the console has printed for one message, to print only what changes."""

    text: str = ""
    media: set[str] = field(default_factory=set)  # sha256 of every part already saved
    previews: set[str] = field(default_factory=set)  # kept apart: a final image may equal one
    buttons: tuple[tuple[str, ...], ...] = ()
    progress: tuple[int | None, str] | None = None
    preview_percent: int | None = None


def progress_line(state: Progress) -> str:
    """`[#####.....] 46% text`, or `... text` when there is no percentage."""
    if state.percent is None:
        return f"... {state.text}".rstrip()
    percent = max(0, min(100, state.percent))
    filled = round(percent * BAR_CELLS / 100)
    bar = "#" * filled + "." * (BAR_CELLS - filled)
    return f"[{bar}] {percent}% {state.text}".rstrip()


def button_row(row: tuple[tuple[int, Button], ...]) -> str:
    """`[1] U1  [2] U2`: how a row of numbered buttons is printed."""
    return "  ".join(f"[{number}] {printable(button.caption)}" for number, button in row)


class Renderer:
    """Prints replies to a text stream and saves their media under `output_dir`."""

    def __init__(
        self, out: TextIO, output_dir: Path, board: ButtonBoard, *, redraw: bool = False
    ) -> None:
        self.out = out
        self.output_dir = output_dir
        self.board = board
        self.redraw = redraw  # a terminal: progress lines are redrawn in place with \r
        # Set while a line editor shows the line being typed: output is printed above it, so
        # nothing may be left on an unfinished line (a streamed answer continues on a new one).
        self.whole_lines = False
        self._shown: dict[str, _Shown] = {}
        self._lock = asyncio.Lock()
        self._at_line_start = True
        # What the cursor sits after: ("text", id) while an answer may stream on; ("progress", id).
        self._tail: tuple[str, str] | None = None
        self._stamp = time.strftime("%Y%m%d-%H%M%S")
        self.closed = False  # the output went away; the session should end
        self._seq = 0

    # --- messages ---------------------------------------------------------------------------
    async def show(self, ref: MessageRef, reply: Reply) -> None:
        """Print a message, or what changed in it when it was printed before."""
        async with self._lock:
            shown = self._shown.setdefault(ref.message_id, _Shown())
            self._show_text(ref.message_id, shown, printable(reply.text))
            for part in reply.parts:
                await self._show_part(shown, part)
            self._show_buttons(ref, shown, reply.buttons)
            self._flush()

    async def show_progress(self, ref: MessageRef, state: Progress) -> None:
        """A progress line when the state changed, and the preview when it moved on enough."""
        async with self._lock:
            shown = self._shown.setdefault(ref.message_id, _Shown())
            key = (state.percent, state.text)
            if key != shown.progress:
                shown.progress = key
                line = printable(progress_line(state))
                tail = ("progress", ref.message_id)
                if self.redraw and self._tail == tail:
                    self._write(f"\r{line}\x1b[K")
                elif self.redraw:
                    self._block(line, end="")
                else:
                    self._block(line)
                self._tail = tail if self.redraw else None
            preview = state.preview
            if (
                preview is not None
                and self._preview_due(shown, state.percent)
                and await self._save_once(shown.previews, preview, texts.say("preview"))
            ):
                shown.preview_percent = state.percent or 0
            self._flush()

    def _preview_due(self, shown: _Shown, percent: int | None) -> bool:
        if shown.preview_percent is None:
            return True
        return percent is not None and (
            percent >= 100 or percent - shown.preview_percent >= PREVIEW_STEP
        )

    # --- console chrome -----------------------------------------------------------------------
    def line(self, text: str) -> None:
        """Print one line of the console's own (not the bot's) text."""
        self._block(text)
        self._flush()

    def notice(self, text: str) -> None:
        self.line(f"{texts.NOTICE} {text}")

    def prompt(self, text: str = texts.PROMPT) -> None:
        """A prompt left open on the current line for the user's typing."""
        self._block(text, end="")
        self._tail = None
        self._flush()

    def typed(self) -> None:
        """The user ended a line with Enter: the terminal's cursor is at a line start again."""
        self._at_line_start = True
        self._tail = None

    def ask(self, request: TextRequest) -> None:
        """Print what a pending ask wants; the next input line answers it."""
        hint = (
            texts.say("ask_hint", default=request.default)
            if request.default
            else texts.say("ask_hint_no_default")
        )
        heading = printable(" — ".join(x for x in (request.title, request.label) if x))
        question = f"? {heading} ({hint})"
        if self.redraw:
            self.prompt(question + "\n" + texts.PROMPT)
        else:
            self.line(question)

    def finish(self) -> None:
        """End a dangling line so the shell prompt starts clean."""
        if not self._at_line_start:
            self._write("\n")
        self._tail = None
        self._flush()

    # --- parts ------------------------------------------------------------------------------
    def _show_text(self, message_id: str, shown: _Shown, text: str) -> None:
        if text == shown.text or not text.strip():
            return
        previous, shown.text = shown.text, text
        tail = ("text", message_id)
        if previous and text.startswith(previous):
            suffix = text[len(previous) :]
            if self._tail == tail:
                self._write(suffix)  # the answer streams on where it left off
            elif len(previous) >= REPRINT_LIMIT:
                self._block("... " + suffix.lstrip(), end="")
            else:
                self._block(text, end="")
        elif self.redraw and self._tail == tail and _fits_one_line(previous):
            self._write(f"\r{text}\x1b[K")  # a placeholder ("Thinking…") gives way to the answer
        else:
            self._block(text, end="")
        self._tail = tail

    async def _show_part(self, shown: _Shown, part: Text | Image | Audio | File) -> None:
        match part:
            case Text():
                pass  # all text parts are printed together by _show_text
            case Image():
                await self._save_once(shown.media, part, texts.say("image"))
            case Audio():
                await self._save_once(shown.media, part, texts.say("audio"))
            case File():
                await self._save_once(shown.media, part, texts.say("file"))
            case _:
                assert_never(part)

    def _show_buttons(
        self, ref: MessageRef, shown: _Shown, rows: tuple[tuple[Button, ...], ...]
    ) -> None:
        tokens = tuple(tuple(b.token for b in row) for row in rows)
        if tokens == shown.buttons:
            return
        shown.buttons = tokens
        for row in rows:
            numbered = tuple((self.board.place(b, ref).number, b) for b in row)
            if numbered:
                self._block(button_row(numbered))

    async def _save_once(self, saved: set[str], part: Image | Audio | File, label: str) -> bool:
        """Save a part and print its path, unless the same bytes were saved before."""
        digest = hashlib.sha256(part.data).hexdigest()
        if digest in saved:
            return False
        saved.add(digest)
        path = await self._save(part.data, _file_name(part))
        detail = ""
        if isinstance(part, Audio) and part.duration_s is not None:
            detail = f" ({part.duration_s:.1f} s)"
        self._block(f"{label} {path}{detail}")
        return True

    async def _save(self, data: bytes, name: str) -> Path:
        self._seq += 1
        path, self._seq = await asyncio.to_thread(
            _write_unique, self.output_dir, self._stamp, self._seq, name, data
        )
        return path

    # --- low level --------------------------------------------------------------------------
    def _block(self, text: str, end: str = "\n") -> None:
        """Start on a fresh line and print `text`."""
        if not self._at_line_start:
            self._write("\n")
        self._tail = None
        self._write(text + end)

    def _write(self, text: str) -> None:
        if not text or self.closed:
            return
        try:
            self.out.write(text)
        except (OSError, ValueError):
            self._lost()
        self._at_line_start = text.endswith("\n")

    def _flush(self) -> None:
        if self.closed:
            return
        if self.whole_lines and not self._at_line_start:
            self._write("\n")
            self._tail = None
        try:
            self.out.flush()
        except (OSError, ValueError):
            self._lost()

    def _lost(self) -> None:
        """Nobody reads us any more (`| head`, a closed terminal): stop writing."""
        self.closed = True
        # The interpreter flushes stdout at exit; point it at /dev/null so that cannot fail.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.out.fileno())
            os.close(devnull)


def _fits_one_line(text: str) -> bool:
    return "\n" not in text and len(text) < ONE_LINE


def _file_name(part: Image | Audio | File) -> str:
    """A safe file name for a part, with an extension that matches its content."""
    stem = Path(part.filename).stem
    suffix = Path(part.filename).suffix.lower()
    if isinstance(part, Audio):
        suffix = _AUDIO_SUFFIX.get(part.format, suffix)
        stem = stem or "audio"
    elif isinstance(part, Image):
        suffix = suffix or mimetypes.guess_extension(part.mime) or ".img"
        stem = stem or "image"
    else:
        suffix = suffix or mimetypes.guess_extension(part.mime) or ".bin"
        stem = stem or "file"
    return _UNSAFE.sub("_", stem)[:60] + suffix


def _write_unique(
    directory: Path, stamp: str, seq: int, name: str, data: bytes
) -> tuple[Path, int]:
    """Write `data` to a new file `<stamp>-<seq>-<name>`, never over an existing one."""
    directory.mkdir(parents=True, exist_ok=True)
    while True:
        path = directory / f"{stamp}-{seq:03d}-{name}"
        try:
            with path.open("xb") as handle:
                handle.write(data)
        except FileExistsError:
            seq += 1
            continue
        return path, seq
