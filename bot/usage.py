"""Recording what a command spent, for quotas and reports, without ever failing the command."""

from __future__ import annotations

import logging

from bot.channel import Actor, ChatRef
from bot.services import Services
from storage.base import UsageEvent

log = logging.getLogger(__name__)


def usage_event(
    actor: Actor,
    chat: ChatRef,
    command: str,
    model: str,
    *,
    units: float = 0.0,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
) -> UsageEvent:
    """The usage record of one call made for `actor` in `chat`."""
    return UsageEvent(
        platform=actor.platform,
        user_id=actor.user_id,
        chat_id=chat.chat_id,
        command=command,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        units=units,
    )


async def record_usage(services: Services, event: UsageEvent) -> None:
    """Store the event; the user has paid and has the result, so a store error is only logged."""
    try:
        await services.store.record_usage(event)
    except Exception:
        log.exception("usage of /%s not recorded", event.command)

