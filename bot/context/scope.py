"""Which conversation a message belongs to: platform x chat x thread x (user unless shared)."""

from __future__ import annotations

from typing import Literal

from bot.channel import Actor, ChatRef
from storage.base import ConversationKey


def conversation_key(
    chat: ChatRef, actor: Actor, scope: Literal["user", "chat"]
) -> ConversationKey:
    """Private chats are per user; groups are per user too unless the operator shares the chat."""
    shared = scope == "chat" and not chat.is_private
    return ConversationKey(
        platform=chat.platform,
        chat_id=chat.chat_id,
        thread_id=chat.thread_id or "",
        user_id="" if shared else actor.user_id,
    )
