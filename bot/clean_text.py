"""Text users send, made safe before it reaches a command, the upstream or the store."""

from __future__ import annotations

import dataclasses
import re

from bot.inbound import CommandRequest

# C0 and C1 control characters other than tab and newline (carriage returns are handled first).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]+")
# Lone surrogates: what undecodable bytes become (surrogateescape) or a broken JSON \ud800.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Invalid bytes replaced with U+FFFD, control characters other than newline and tab
    removed (CR LF and lone CR become newlines)."""
    if text.isprintable():
        return text  # the common case: nothing to do
    text = _SURROGATE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def clean_request(request: CommandRequest) -> CommandRequest:
    """The request with its text, option values and file names cleaned."""
    attachments = tuple(
        dataclasses.replace(a, filename=clean_text(a.filename)) for a in request.attachments
    )
    options = {name: clean_text(value) for name, value in request.options.items()}
    return dataclasses.replace(
        request, text=clean_text(request.text), options=options, attachments=attachments
    )
