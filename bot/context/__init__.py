"""Conversation context: scope, offline token counts, the trimmed window, summaries."""

from bot.context.conversation import (
    PreparedTurn,
    PromptTooLong,
    Summarizer,
    commit_turn,
    prepare_turn,
)
from bot.context.scope import conversation_key
from bot.context.tokens import count_text, message_tokens

__all__ = [
    "PreparedTurn",
    "PromptTooLong",
    "Summarizer",
    "commit_turn",
    "conversation_key",
    "count_text",
    "message_tokens",
    "prepare_turn",
]
