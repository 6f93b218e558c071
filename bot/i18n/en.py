"""English messages: the reference catalog every other language follows."""

MESSAGES: dict[str, str] = {
    # --- common -------------------------------------------------------------------------
    "error.generic": "Something went wrong on our side. Please try again in a moment.",
    "error.denied": "You can't use this command: {reason}",
    "error.upstream": "⚠️ {message}",
    "command.unknown": "Unknown command /{command}. Type /help to see what I can do.",
    "button.unknown": "This button has expired or is no longer valid.",
    "button.not_yours": "Only the person who started this job can use its buttons.",
    "input.empty_prompt": "Please add a prompt after /{command}.",
    "input.too_long": "That is too long ({length} characters; the limit is {limit}).",
    # --- chat (/ask, /model, /reset) ------------------------------------------------------
    # --- midjourney (/imagine, buttons, /describe, /blend, /swapface, /shorten) ----------
    # --- audio (/transcribe, /speak) -------------------------------------------------------
    # --- help ------------------------------------------------------------------------------
    "help.intro": "Hi! I bring an AI gateway into this chat. Commands:",
    "help.footer": (
        "Send a voice note and I'll transcribe it; in a private chat any text goes to /ask. "
        "Buttons under Midjourney images work for the person who started the job."
    ),
    "help.cmd.help": "Show this help",
}
