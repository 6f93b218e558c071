"""Logging configuration, with a filter that masks anything that looks like a secret."""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

# Bearer keys (sk-...), Telegram bot tokens (123456:AA..., also glued to "/bot" in Bot API URLs),
# and Discord tokens (three dotted parts).
_SECRET_PATTERNS = (
    re.compile(r"sk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_\-]{30,}"),
    re.compile(r"\b[A-Za-z0-9_\-]{24,}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,}\b"),
)


def mask_secrets(text: str) -> str:
    """Replace every secret-looking substring with a fixed mask."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("***", text)
    return text


class SecretMaskingFilter(logging.Filter):
    """Formats the record's message once and masks secrets in it (and in exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_secrets(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_secrets(logging.Formatter().formatException(record.exc_info))
        return True


class MaskingJsonFormatter(JsonFormatter):
    """One JSON object per line; the whole line is masked, as the JSON formatter renders
    exceptions itself rather than from the filtered `exc_text`."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def setup_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Log to stderr (plain text or JSON lines) with secrets masked; quiet chatty libraries."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(
            MaskingJsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "aiohttp.access", "aiosqlite", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
