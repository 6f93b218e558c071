"""The console adapter: chat with the bot in a terminal, or feed it a script on stdin.

`modelbridge console` (or `modelbridge run` with no platform token). Each input line is one of:

- `/command text @file name:value` — `@path` attaches a file (`@"a b.png"` for spaces);
  `name:value` sets a choice/flag option of that command (`/blend dimensions:portrait @a.png
  @b.png`, `/imagine niji:yes a cat --ar 16:9`); everything else is the command's text.
- plain text (no slash) — a chat message (goes to /ask; a lone `@voice.ogg` is transcribed).
- `3` or `/press 3` — press the button printed as `[3]` (numbers stay valid all session; a
  press waits, bounded, for a button of a job still running).
- `/quit` or end of input — leave. From a pipe, jobs still running are waited for first.

A press the bot answers privately (someone else's button, an expired one) prints `* <notice>`.
A press that asks for text (Vary (Region), Custom Zoom, a remix ✏️) prints the question and the
next line answers: an empty line keeps the default, `/cancel` sends nothing. Images, audio and
files are saved under `CONSOLE_OUTPUT_DIR` and their paths printed.
"""

from adapters.console.app import ConsoleAdapter

__all__ = ["ConsoleAdapter"]
