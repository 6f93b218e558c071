"""Keep the bot token out of logs and exception texts: PTB and httpx put it in every URL."""

from __future__ import annotations

import logging
import threading
from typing import Any

REDACTED = "<telegram-token>"

_tokens: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    """`text` with every known bot token replaced."""
    for token in _tokens:
        if token in text:
            text = text.replace(token, REDACTED)
    return text


class TelegramFailure(Exception):
    """A Telegram error re-raised with the token taken out of its text."""


def scrubbed(exc: BaseException) -> TelegramFailure:
    """A token-free stand-in for `exc`, to raise `from None` (the original's text is dropped)."""
    return TelegramFailure(redact(f"{type(exc).__name__}: {exc}"))


def protect(token: str) -> None:
    """Redact `token` in every log record from now on, whatever logger or handler it goes to.

    A record factory rather than a handler filter: handlers come and go (pytest's caplog adds
    its own), while every record passes through the factory.
    """
    global _installed
    with _lock:
        _tokens.add(token)
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
    # httpx logs each request's full URL at INFO; the method name alone is not worth a line.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _scrub(record: logging.LogRecord) -> None:
    if not _tokens:
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it to logging's own error report
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
