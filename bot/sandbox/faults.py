"""Fault injection and pacing knobs: names, parsing, and the `[[...]]` prompt markers."""

from __future__ import annotations

import re
from dataclasses import dataclass

FAULT_HEADER = "X-Sandbox-Fault"
TOKENS_HEADER = "X-Sandbox-Tokens"
TPS_HEADER = "X-Sandbox-TPS"

# Name -> one-line help; the CLI epilog and the docs are generated from / checked against this.
FAULTS: dict[str, str] = {
    "latency": "latency=<s>: wait <s> real seconds (not divided by --speed) before answering",
    "429": "HTTP 429 with Retry-After: 1 (the gateway's saturation message)",
    "500": "HTTP 500 JSON error (do_request_failed)",
    "502": "HTTP 502 with an nginx HTML body",
    "badjson": "HTTP 200 whose JSON body (or SSE chunk) is malformed",
    "cut": "the connection closes mid-answer: SSE without [DONE], bodies shorter than declared",
    "mj_failure": "the MJ task ends FAILURE with a failReason",
    "banned": "MJ submit answers code 24 with properties.promptEn/bannedWord",
    "queue_full": "MJ submit answers code 23 (queue full, no task created)",
    "stuck": "the MJ task stays IN_PROGRESS until the gateway's 1-hour deadline, then fails",
    "quota": "403 insufficient_user_quota on /v1, 400 quota_not_enough (code 4) on /mj",
    "remix": "V/reroll/pan/vary children wait in MODAL although the submit answers code 1",
}

MJ_TASK_FAULTS = frozenset({"mj_failure", "stuck"})

_MARKER = re.compile(r"\[\[(fault|tokens|tps):([^\[\]]*)\]\]")
_SPACES = re.compile(r"[ \t]{2,}")


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault: its name and optional argument (`latency=2.5`)."""

    name: str
    arg: str = ""

    @property
    def seconds(self) -> float:
        """The numeric argument, for `latency` (default 1 s)."""
        try:
            return float(self.arg) if self.arg else 1.0
        except ValueError:
            return 1.0


def parse_fault(spec: str) -> Fault:
    """`name` or `name=arg`; raises ValueError on an unknown name."""
    name, _, arg = spec.strip().partition("=")
    name = name.strip()
    if name not in FAULTS:
        raise ValueError(f"unknown sandbox fault {name!r}; known: {', '.join(FAULTS)}")
    return Fault(name, arg.strip())


@dataclass(frozen=True, slots=True)
class Markers:
    """Knobs found in a request body as `[[fault:x]]`, `[[tokens:n]]`, `[[tps:n]]`."""

    fault: Fault | None = None
    tokens: int | None = None
    tps: float | None = None


def find_markers(text: str) -> Markers:
    """The first marker of each kind; unknown fault names are ignored."""
    fault: Fault | None = None
    tokens: int | None = None
    tps: float | None = None
    for kind, value in _MARKER.findall(text):
        if kind == "fault" and fault is None:
            try:
                fault = parse_fault(value)
            except ValueError:
                continue
        elif kind == "tokens" and tokens is None:
            tokens = _positive_int(value)
        elif kind == "tps" and tps is None:
            tps = _positive_float(value)
    return Markers(fault, tokens, tps)


def marker_text(body: object) -> str:
    """Where markers count: `prompt`, `input`, and the last user message of `messages`.

    Earlier turns are left out on purpose: a marker typed once must not fire again on every
    later request that carries the conversation history.
    """
    if not isinstance(body, dict):
        return ""
    texts: list[str] = []
    for key in ("prompt", "input"):
        value = body.get(key)
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts += [item for item in value if isinstance(item, str)]
    messages = body.get("messages")
    if isinstance(messages, list):
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        content = users[-1].get("content") if users else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [part["text"] for part in content
                      if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return "\n".join(texts)


def strip_markers(text: str) -> str:
    """The text with every marker removed, as the sandbox echoes or draws it."""
    if "[[" not in text:
        return text
    return _SPACES.sub(" ", _MARKER.sub("", text)).strip()


def _positive_int(value: str) -> int | None:
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


def _positive_float(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number > 0 else None


def header_int(value: str | None) -> int | None:
    """A non-negative integer header value, or None."""
    return _positive_int(value) if value else None


def header_float(value: str | None) -> float | None:
    """A positive number header value, or None."""
    return _positive_float(value) if value else None
