"""Logs an operator can collect: JSON lines when asked, secrets masked in every format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logging_setup import setup_logging

KEY = "sk-live0123456789abcdef"
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def _log_through(stream: io.StringIO, log_format: str) -> str:
    setup_logging("INFO", log_format)
    logging.getLogger().handlers[0].setStream(stream)  # type: ignore[attr-defined]
    log = logging.getLogger("modelbridge.test")
    log.info("calling the gateway with %s", KEY)
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TELEGRAM_TOKEN}/sendMessage failed")
    except RuntimeError:
        log.exception("send failed")
    return stream.getvalue()


def test_json_logs_are_one_object_per_line_with_secrets_masked(captured: io.StringIO) -> None:
    text = _log_through(captured, "json")
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["message"] for r in records] == ["calling the gateway with ***", "send failed"]
    assert records[0]["level"] == "INFO" and records[0]["logger"] == "modelbridge.test"
    assert "RuntimeError" in records[1]["exc_info"]
    assert KEY not in text and TELEGRAM_TOKEN not in text


def test_text_logs_mask_secrets_in_messages_and_tracebacks(captured: io.StringIO) -> None:
    text = _log_through(captured, "text")
    assert "calling the gateway with ***" in text
    assert "RuntimeError" in text
    assert KEY not in text and TELEGRAM_TOKEN not in text
