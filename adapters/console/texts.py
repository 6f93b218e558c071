"""The console's own words: parse errors, prompts and labels of its terminal chrome.

What the bot says comes from the core's catalog; these are only the adapter's framing of it.
"""

from __future__ import annotations

NO_SUCH_FILE = "No such file: {path} (attach files as @path/to/file)"
NOT_A_FILE = "Not a file: {path}"
FILE_TOO_BIG = "{path} is too big to attach ({size} MiB; the limit is {limit} MiB)"
UNREADABLE_FILE = "Could not read {path}: {reason}"
OPTION_NEEDS_VALUE = "Option {name}: needs a value, e.g. {name}:{example}"
OPTION_BAD_CHOICE = "Option {name}: '{value}' is not one of {choices}"
OPTION_BAD_FLAG = "Option {name}: '{value}' is not yes or no"
PRESS_USAGE = "Usage: /press <number> (or just the number)"
NOTHING_TO_CANCEL = "Nothing to cancel."
NO_SUCH_BUTTON = "There is no button [{number}]."
WAITING_FOR_BUTTON = "(waiting for button [{number}] to appear...)"
LINE_FAILED = "That line could not be handled; see the log."
ANSWER_TOO_LONG = "That is too long ({length} characters; the limit is {limit}). Try again."
ASK_HINT = "empty line = {default}, /cancel to cancel"
ASK_HINT_NO_DEFAULT = "/cancel to cancel"
STILL_RUNNING = "Stopped waiting: {count} job(s) still running; they resume on the next start."

IMAGE = "[image]"
PREVIEW = "[preview]"
AUDIO = "[audio]"
FILE = "[file]"
NOTICE = "*"
PROMPT = "> "
