"""The context window: keep the newest turns that fit the budget, and build the upstream prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.context.tokens import REPLY_PRIMING, message_tokens
from storage.base import StoredMessage

SUMMARY_PREFIX = "Summary of the earlier part of this conversation: "
SUMMARY_INSTRUCTION = (
    "Summarize the conversation below in a few sentences for your own later reference. Keep "
    "facts, names, numbers, decisions and open questions; answer with the summary only."
)
_ROLE_LABELS = {"system": "System", "user": "User", "assistant": "Assistant"}


@dataclass(frozen=True, slots=True)
class Window:
    """The turns kept for the prompt, the older ones that did not fit, and the prompt's size."""

    kept: list[StoredMessage]
    dropped: list[StoredMessage]
    tokens: int


def stored_cost(message: StoredMessage, model: str) -> int:
    """A stored message's prompt cost, counted when it was stored (re-counted only if missing)."""
    return message.tokens if message.tokens > 0 else message_tokens(message.content, model)


def fixed_cost(system_prompt: str, summary: str, new_turn_tokens: int, model: str) -> int:
    """Prompt tokens that are always sent: system prompt, summary, the new turn, reply priming."""
    total = REPLY_PRIMING + new_turn_tokens
    if system_prompt:
        total += message_tokens(system_prompt, model)
    if summary:
        total += message_tokens(SUMMARY_PREFIX + summary, model)
    return total


def trim(history: Sequence[StoredMessage], room: int, model: str) -> Window:
    """Keep the newest messages whose cost fits `room`, dropping the oldest turns first.

    The kept part never starts with an answer whose question was dropped.
    """
    total = 0
    start = len(history)
    for index in range(len(history) - 1, -1, -1):
        cost = stored_cost(history[index], model)
        if total + cost > room:
            break
        total += cost
        start = index
    if start > 0:
        while start < len(history) and history[start].role != "user":
            total -= stored_cost(history[start], model)
            start += 1
    return Window(list(history[start:]), list(history[:start]), total)


def chat_messages(
    system_prompt: str, summary: str, kept: Sequence[StoredMessage], new_content: str | list[Any]
) -> list[dict[str, Any]]:
    """The /v1/chat/completions `messages`: system prompt, summary, kept turns, the new turn."""
    messages: list[dict[str, Any]] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    if summary:
        messages.append({"role": "system", "content": SUMMARY_PREFIX + summary})
    messages.extend({"role": m.role, "content": m.content} for m in kept)
    messages.append({"role": "user", "content": new_content})
    return messages


def flatten_prompt(messages: Sequence[dict[str, Any]]) -> str:
    """A chat as one /v1/completions prompt: labelled turns, ending where the answer goes."""
    lines: list[str] = []
    for message in messages:
        content = message["content"]
        if not isinstance(content, str):
            texts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
            content = " ".join(str(p.get("text", "")) for p in texts)
        label = _ROLE_LABELS.get(str(message["role"]), "User")
        lines.append(f"{label}: {content}")
    lines.append("Assistant:")
    return "\n\n".join(lines)


def summary_request(previous: str, dropped: Sequence[StoredMessage]) -> list[dict[str, Any]]:
    """The one non-streamed chat call that folds dropped turns into the running summary."""
    parts: list[str] = []
    if previous:
        parts.append(f"Earlier summary: {previous}")
    parts.extend(f"{_ROLE_LABELS.get(m.role, 'User')}: {m.content}" for m in dropped)
    return [
        {"role": "system", "content": SUMMARY_INSTRUCTION},
        {"role": "user", "content": "\n\n".join(parts)},
    ]
