"""One chat turn against the stored conversation: load, trim (or summarize), and commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.context.tokens import IMAGE_TOKENS, load_for, message_tokens
from bot.context.window import Window, chat_messages, fixed_cost, summary_request, trim
from storage.base import ConversationKey, Store, StoredMessage, UsageEvent

# The newest turns loaded per request. The query walks an index backwards, so its cost follows
# this number and not the length of the history.
MAX_LOADED_MESSAGES = 200
SUMMARY_MAX_TOKENS = 300

# Takes the summary request's messages; returns the new summary, or None when it failed.
Summarizer = Callable[[list[dict[str, Any]]], Awaitable[str | None]]


class PromptTooLong(Exception):
    """The new message alone does not fit the model's prompt budget."""

    def __init__(self, tokens: int, limit: int) -> None:
        super().__init__(f"{tokens} tokens over a limit of {limit}")
        self.tokens = tokens
        self.limit = limit


@dataclass(frozen=True, slots=True)
class PreparedTurn:
    """Everything one answer needs, and what to store once it succeeds."""

    key: ConversationKey
    model: str
    messages: list[dict[str, Any]]
    prompt_tokens: int
    user_message: StoredMessage
    kept: list[StoredMessage]
    summary: str
    # True when dropped turns were folded into a new summary: the commit then starts the
    # stored conversation over with the kept turns, so they are not summarized twice.
    compacted: bool


def user_content(text: str, image_urls: list[str]) -> str | list[dict[str, Any]]:
    """A user message's content: plain text, or text and image parts for vision models."""
    if not image_urls:
        return text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in image_urls]
    return parts


async def prepare_turn(
    store: Store,
    key: ConversationKey,
    *,
    model: str,
    system_prompt: str,
    budget: int,
    text: str,
    image_urls: list[str],
    summarize: Summarizer | None = None,
) -> PreparedTurn:
    """Load the conversation and fit it, with the new message, into `budget` tokens.

    Raises PromptTooLong when even the new message with the system prompt does not fit.
    """
    await load_for(model)
    stored_tokens = message_tokens(text, model)
    new_tokens = stored_tokens + IMAGE_TOKENS * len(image_urls)
    base = fixed_cost(system_prompt, "", new_tokens, model)
    if base > budget:
        raise PromptTooLong(new_tokens, max(0, budget - (base - new_tokens)))
    summary = await store.get_summary(key) if summarize is not None else ""
    history = await store.load_context(key, MAX_LOADED_MESSAGES)
    window = trim(history, budget - fixed_cost(system_prompt, summary, new_tokens, model), model)
    compacted = False
    if window.dropped and summarize is not None:
        # Fold into the summary enough turns that the next few fit too, not one per turn.
        half = trim(history, max(0, (budget - base) // 2 - SUMMARY_MAX_TOKENS), model)
        new_summary = await summarize(summary_request(summary, half.dropped))
        if new_summary:
            summary, compacted = new_summary, True
            room = budget - fixed_cost(system_prompt, summary, new_tokens, model)
            window = half if half.tokens <= room else trim(half.kept, room, model)
            window = Window(window.kept, [*half.dropped, *window.dropped], window.tokens)
    messages = chat_messages(system_prompt, summary, window.kept, user_content(text, image_urls))
    return PreparedTurn(
        key=key,
        model=model,
        messages=messages,
        prompt_tokens=fixed_cost(system_prompt, summary, new_tokens, model) + window.tokens,
        user_message=StoredMessage("user", text, stored_tokens, len(image_urls)),
        kept=window.kept,
        summary=summary,
        compacted=compacted,
    )


async def commit_turn(
    store: Store,
    turn: PreparedTurn,
    answer: str,
    answer_tokens: int,
    usage: UsageEvent | None = None,
) -> None:
    """Store the user's message and the answer together, with the turn's `usage` in the same
    transaction (after a compaction, with the kept turns in a fresh conversation that carries
    the new summary)."""
    new = [turn.user_message, StoredMessage("assistant", answer, answer_tokens)]
    if not turn.compacted:
        await store.append_messages(turn.key, new, usage)
        return
    await store.reset_conversation(turn.key)
    await store.append_messages(turn.key, [*turn.kept, *new], usage)
    await store.set_summary(turn.key, turn.summary)
