"""The one check point before any upstream call: allow, or deny with a reason.

In order: the allowlists (users, chats, Discord guilds; admins pass), then the daily limits of
the user and of the chat (bot/quotas.py), whose check reserves what the call is expected to use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.channel import Actor, ChatRef
from bot.config import Settings
from bot.prices import PriceTable
from bot.quotas import LIMIT_OF_COST, QuotaLedger, Refusal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cost:
    """What a command is expected to spend: tokens for chat, jobs for Midjourney, etc.

    `model` is what the gateway bills it under (a chat model, `mj_imagine`, `whisper-1`...), for
    the price; empty when the kind says enough.
    """

    kind: str  # "chat", "mj", "mj_action", "image", "audio", "speech", "none"
    units: float = 1.0
    model: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer. When denied: `key` and `values` are a catalog message saying why
    (or `reason`, text already in the user's words)."""

    allowed: bool
    reason: str = ""
    key: str = ""
    values: Mapping[str, object] = field(default_factory=dict)


ALLOW = Decision(True)

# Discord DMs have no guild; Discord chats elsewhere need their guild known (see `guild_of`).
GUILD_PLATFORM = "discord"


def guild_of(chat: ChatRef) -> str | None:
    """The Discord guild a chat belongs to, as the adapter told us (None: unknown, refused by
    ALLOWED_GUILDS)."""
    return chat.guild_id


class Policy:
    """Allowlists and daily limits from the settings; admins pass the allowlists."""

    def __init__(
        self,
        settings: Settings,
        prices: PriceTable | None = None,
        ledger: QuotaLedger | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.prices = prices or PriceTable()
        self.ledger = ledger
        self.clock = clock

    async def check(self, actor: Actor, chat: ChatRef, command: str, cost: Cost) -> Decision:
        """Decide whether `actor` may run `command` in `chat` at the expected `cost`."""
        refused = self.access(actor, chat)
        if refused is not None:
            log.info("access refused to %s in %s:%s", actor.key, chat.platform, chat.chat_id)
            return refused
        amounts = self.amounts(cost)
        # A free call (a seed look-up) holds nothing, so it cannot take another call's settlement.
        if self.ledger is None or not self.ledger.active or not amounts:
            return ALLOW
        outcome = await self.ledger.reserve(actor.platform, actor.user_id, chat.chat_id, amounts)
        if isinstance(outcome, Refusal):
            log.info("%s limit %s reached by %s", outcome.scope, outcome.kind, actor.key)
            return self._over_limit(outcome)
        return ALLOW

    def access(self, actor: Actor, chat: ChatRef) -> Decision | None:
        """The allowlists' refusal, None when they let the actor in."""
        settings = self.settings
        if actor.key in settings.admins:
            return None
        if settings.allowed_users and actor.key not in settings.allowed_users:
            return Decision(False, key="policy.user_not_allowed")
        chat_key = f"{chat.platform}:{chat.chat_id}"
        in_group = not chat.is_private
        if settings.allowed_chats and in_group and chat_key not in settings.allowed_chats:
            return Decision(False, key="policy.chat_not_allowed")
        guild_chat = in_group and chat.platform == GUILD_PLATFORM
        if settings.allowed_guilds and guild_chat and guild_of(chat) not in settings.allowed_guilds:
            return Decision(False, key="policy.guild_not_allowed")
        return None

    def amounts(self, cost: Cost) -> dict[str, float]:
        """What a cost counts against each limit kind, its expected price included."""
        limit_kind = LIMIT_OF_COST.get(cost.kind)
        amounts: dict[str, float] = {}
        if limit_kind is not None and cost.units > 0:
            amounts[limit_kind] = cost.units
        if cost.model and cost.units > 0:
            price = self.prices.price(cost.model)
            if cost.kind == "chat":
                amounts["cost"] = price.cost(prompt_tokens=int(cost.units), calls=0)
            elif cost.kind in ("audio", "speech"):
                amounts["cost"] = price.cost(units=cost.units, calls=0)
            else:
                amounts["cost"] = price.cost(calls=int(cost.units))
        return amounts

    def _over_limit(self, refusal: Refusal) -> Decision:
        left = max(0.0, refusal.resets_at - self.clock())
        hours, minutes = int(left // 3600), int(left % 3600 // 60)
        return Decision(
            False,
            key=f"quota.{refusal.scope}",
            values={
                "kind": refusal.kind,
                "limit": f"{refusal.limit:g}",
                "used": f"{refusal.used:g}",
                "hours": hours,
                "minutes": minutes,
            },
        )
