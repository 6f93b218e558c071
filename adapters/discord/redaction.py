"""Keep the bot token and interaction tokens out of logs and exception texts.

discord.py puts interaction tokens in webhook URLs (`/webhooks/{app}/{token}`), which its
debug logs and aiohttp errors repeat; the bot token is a plain string we also mask.
"""

from __future__ import annotations

import logging
import re

_URL_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/?\s'\"]+")
# The gateway's debug log prints whole events, interaction tokens included.
_FIELD_TOKEN = re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+""")
MASK = "***"


def _mask(text: str) -> str:
    text = _URL_TOKEN.sub(rf"\g<1>{MASK}", text)
    return _FIELD_TOKEN.sub(rf"\g<1>{MASK}", text)


class TokenRedactor(logging.Filter):
    """A logging filter that masks the bot token and every interaction token in a record."""

    def __init__(self, bot_token: str) -> None:
        super().__init__()
        self._bot_token = bot_token

    def redact(self, text: str) -> str:
        if self._bot_token:
            text = text.replace(self._bot_token, MASK)
        return _mask(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install(bot_token: str) -> TokenRedactor:
    """Mask tokens in every record the root handlers write (discord.py logs on child loggers)."""
    redactor = TokenRedactor(bot_token)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    return redactor


def uninstall(redactor: TokenRedactor) -> None:
    for handler in logging.getLogger().handlers:
        handler.removeFilter(redactor)


def describe_error(error: BaseException, redactor: TokenRedactor | None = None) -> str:
    """An exception as one log-safe line (type and redacted text)."""
    text = f"{type(error).__name__}: {error}"
    return redactor.redact(text) if redactor else _mask(text)
