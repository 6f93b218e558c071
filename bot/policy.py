"""The one check point before any upstream call: allow, or deny with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channel import Actor, ChatRef


@dataclass(frozen=True, slots=True)
class Cost:
    """What a command is expected to spend: tokens for chat, jobs for Midjourney, etc."""

    kind: str  # "chat", "mj", "image", "audio", "speech", "none"
    units: float = 1.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer; `reason` is shown to the user when denied."""

    allowed: bool
    reason: str = ""


ALLOW = Decision(True)


class Policy:
    """Allows everyone today; allowlists, quotas and budgets plug in here later."""

    async def check(self, actor: Actor, chat: ChatRef, command: str, cost: Cost) -> Decision:
        """Decide whether `actor` may run `command` in `chat` at the expected `cost`."""
        return ALLOW
